"""Vehicle identification numbers (ISO 3779, FMVSS 565 / 49 CFR 565, GB 16735): check digit.

A VIN has 17 characters from the digits and the letters without I, O and Q (they look like
1 and 0)::

    positions  1-3   WMI  world manufacturer identifier
               4-8   VDS  vehicle descriptor section
               9     check digit (0-9 or X)
               10-17 VIS  vehicle indicator section (model year, plant, serial)

The check digit: each character is transliterated to a number (digits as themselves, letters
A-H = 1-8, J-N = 1-5, P = 7, R = 9, S-Z = 2-9), multiplied by the weight of its position
(8 7 6 5 4 3 2 10 0 9 8 7 6 5 4 3 2), the products summed, and the sum taken modulo 11;
10 is written ``X``. ISO 3779 alone leaves position 9 free, but North America (FMVSS 565)
and China (GB 16735) require the check digit, so it is always checked here.

The model-year character (position 10) is not checked: its rules differ between regions.
"""

from __future__ import annotations

from typing import Final

from battrace.errors import CodeError

__all__ = ["VIN_ALPHABET", "VIN_LENGTH", "generate_vin", "validate_vin", "vin_check_digit"]

VIN_LENGTH: Final = 17
VIN_ALPHABET: Final = frozenset("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")

_VALUES: Final[dict[str, int]] = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS: Final = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_CHECK_AT: Final = 8  # 0-based index of position 9


def _error(field: str, rule: str, position: int | None, detail: str) -> CodeError:
    where = "VIN" if position is None else f"VIN position {position}"
    return CodeError(f"{where}: {detail}", field=field, rule=rule, position=position)


def _normalise(text: str, field: str, *, allow_any_check: bool = False) -> str:
    """Strip and upper-case; check length and alphabet (position 9 too, unless told not to)."""
    stripped = text.strip()
    vin = stripped.upper() if stripped.isascii() else stripped
    if len(vin) != VIN_LENGTH:
        raise _error(field, "length", None, f"has {len(vin)} characters; a VIN has 17")
    if not VIN_ALPHABET.issuperset(vin):
        for i, ch in enumerate(vin):
            if ch in VIN_ALPHABET or (allow_any_check and i == _CHECK_AT):
                continue
            if ch in "IOQ":
                why = "I, O and Q are never used in a VIN (they look like 1 and 0)"
            else:
                why = "only digits and the letters A-Z without I, O, Q are allowed"
            raise _error(field, "charset", i + 1, f"character {ch!r} is not allowed: {why}")
    return vin


def _check_digit(vin: str) -> str:
    total = sum(_VALUES[ch] * w for ch, w in zip(vin, _WEIGHTS, strict=True) if w)
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def vin_check_digit(vin: str) -> str:
    """The check digit (``"0"``-``"9"`` or ``"X"``) a 17-character VIN should have.

    The character at position 9 is ignored (it has weight 0), so a placeholder such as
    ``"_"`` may stand there. Raises :class:`~battrace.errors.CodeError` (rule ``length`` or
    ``charset``) when the other positions are not a VIN.
    """
    return _check_digit(_normalise(vin, "vin", allow_any_check=True))


def validate_vin(text: str, *, field: str = "vin") -> str:
    """Validate a VIN and return it normalised (stripped, upper case).

    Raises :class:`~battrace.errors.CodeError` with ``field``, ``rule`` ``length``,
    ``charset`` or ``check_digit``, and the 1-based ``position`` of the offending character.
    """
    vin = _normalise(text, field)
    expected = _check_digit(vin)
    if vin[_CHECK_AT] != expected:
        raise _error(
            field,
            "check_digit",
            _CHECK_AT + 1,
            f"check digit {vin[_CHECK_AT]!r} does not match the other 16 characters"
            f" (expected {expected!r}); a character is mistyped",
        )
    return vin


def generate_vin(wmi: str, vds: str, vis: str) -> str:
    """Build a VIN from its sections and compute its check digit.

    ``wmi`` has 3 characters, ``vds`` 5 (positions 4-8) and ``vis`` 8 (positions 10-17).
    Returns the 17-character VIN. Raises :class:`~battrace.errors.CodeError` whose
    ``field`` names the section that is the wrong length or holds a forbidden character.
    """
    parts = (("wmi", wmi, 3, 1), ("vds", vds, 5, 4), ("vis", vis, 8, 10))
    for name, part, length, start in parts:
        if len(part) != length:
            raise CodeError(
                f"{name}: {part!r} has {len(part)} characters; it needs {length}",
                field=name,
                rule="length",
            )
        for i, ch in enumerate(part.upper() if part.isascii() else part):
            if ch not in VIN_ALPHABET:
                raise CodeError(
                    f"{name}: character {ch!r} (VIN position {start + i}) is not allowed;"
                    " only digits and the letters A-Z without I, O, Q",
                    field=name,
                    rule="charset",
                    position=start + i,
                )
    body = (wmi + vds + "0" + vis).upper()
    return body[:_CHECK_AT] + _check_digit(body) + body[_CHECK_AT + 1 :]
