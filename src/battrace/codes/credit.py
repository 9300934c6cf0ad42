"""GB 32100-2015 unified social credit codes (统一社会信用代码): validate and generate.

The code has 18 characters from a 31-character alphabet, the digits and the upper-case
letters without I, O, S, V and Z (they look like 1, 0, 5, U and 2)::

    positions  1     registration authority (9 = market regulation, 5 = civil affairs, ...)
               2     entity type under that authority (for 9: 1 enterprise, 2 individual
                     business, 3 farmers' cooperative)
               3-8   administrative division code of the registering office (GB/T 2260)
               9-17  organisation code (GB 11714): 8 characters and its own check character
               18    check character over positions 1-17

Check character (GB 32100): each of positions 1-17 is its index in the alphabet, weighted
by 3**(i-1) mod 31 (1, 3, 9, 27, 19, 26, ...); the check is ``31 - sum mod 31``, and 31 is
written as the character of 0. Because 31 is prime, every weight is invertible mod 31 and
any two characters differ by less than 31, so **every single-character substitution is
detected**; since neighbouring weights differ by a factor of 3 (and 3 - 1 = 2 is
invertible), so is every transposition of two adjacent characters.

Organisation code (GB 11714): characters are worth 0-9 and A-Z = 10-35; weights 3, 7, 9, 10,
5, 8, 4, 2; the check is ``11 - sum mod 11``, 10 written ``X`` and 11 written ``0``. Some
registered codes (individual businesses, codes assigned before GB 11714 applied) carry an
organisation part that fails this check, so it is verified only with ``strict_org_code``.

Positions 1-2 are checked against the alphabet only: authorities and entity types are
added by amendment, and a table here would refuse valid new codes.
"""

from __future__ import annotations

from typing import Final

from battrace.codes.division import validate_division_code
from battrace.errors import CodeError

__all__ = [
    "CREDIT_ALPHABET",
    "CREDIT_LENGTH",
    "credit_check_character",
    "generate_credit_code",
    "org_code_check_character",
    "validate_credit_code",
]

CREDIT_LENGTH: Final = 18
CREDIT_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE: Final[dict[str, int]] = {ch: i for i, ch in enumerate(CREDIT_ALPHABET)}
_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))

_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUE: Final[dict[str, int]] = {
    **{str(d): d for d in range(10)},
    **{chr(ord("A") + i): 10 + i for i in range(26)},
}
_DIGITS: Final = frozenset("0123456789")


def _error(field: str, rule: str, position: int | None, detail: str) -> CodeError:
    where = "credit code" if position is None else f"credit code position {position}"
    return CodeError(f"{where}: {detail}", field=field, rule=rule, position=position)


def _check_alphabet(text: str, field: str) -> None:
    for i, ch in enumerate(text):
        if ch not in _VALUE:
            raise _error(
                field,
                "charset",
                i + 1,
                f"character {ch!r} is not allowed: only digits and the letters A-Z without"
                " I, O, S, V, Z",
            )


def _check_character(first17: str) -> str:
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return CREDIT_ALPHABET[-total % 31]


def credit_check_character(first17: str) -> str:
    """The GB 32100 check character (position 18) for the first 17 characters of a code.

    ``first17`` is upper-cased. Raises :class:`~battrace.errors.CodeError` (rule
    ``length`` or ``charset``) when it is not 17 characters of the credit-code alphabet.
    """
    body = first17.strip().upper() if first17.isascii() else first17.strip()
    if len(body) != CREDIT_LENGTH - 1:
        raise _error("credit_code", "length", None, f"has {len(body)} characters; 17 are needed")
    _check_alphabet(body, "credit_code")
    return _check_character(body)


def org_code_check_character(first8: str) -> str:
    """The GB 11714 organisation-code check character (``0``-``9`` or ``X``) for 8 characters.

    ``first8`` holds digits or upper-case letters. Raises :class:`~battrace.errors.CodeError`
    (field ``org_code``, rule ``length`` or ``charset``) otherwise.
    """
    if len(first8) != 8:
        raise CodeError(
            f"organisation code {first8!r} has {len(first8)} characters; 8 are needed",
            field="org_code",
            rule="length",
        )
    total = 0
    for i, (ch, weight) in enumerate(zip(first8, _ORG_WEIGHTS, strict=True)):
        value = _ORG_VALUE.get(ch)
        if value is None:
            raise CodeError(
                f"organisation code position {i + 1}: character {ch!r} is not 0-9 or A-Z",
                field="org_code",
                rule="charset",
                position=i + 1,
            )
        total += value * weight
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def validate_credit_code(
    text: str, *, field: str = "credit_code", strict_org_code: bool = False
) -> str:
    """Validate a unified social credit code and return it normalised (stripped, upper case).

    With ``strict_org_code`` the GB 11714 check character of the organisation code
    (position 17) is verified as well. Raises :class:`~battrace.errors.CodeError` with
    ``field``, ``rule`` one of ``length``, ``charset``, ``division``, ``org_check_digit``,
    ``check_digit``, and the 1-based ``position`` (``None`` for ``length``).
    """
    stripped = text.strip()
    code = stripped.upper() if stripped.isascii() else stripped
    if len(code) != CREDIT_LENGTH:
        raise _error(field, "length", None, f"has {len(code)} characters; a credit code has 18")
    _check_alphabet(code, field)
    for i in range(2, 8):
        if code[i] not in _DIGITS:
            raise _error(
                field,
                "division",
                i + 1,
                f"character {code[i]!r} is not a digit; positions 3-8 are the division code",
            )
    if strict_org_code:
        expected_org = org_code_check_character(code[8:16])
        if code[16] != expected_org:
            raise _error(
                field,
                "org_check_digit",
                17,
                f"organisation-code check character {code[16]!r} does not match positions"
                f" 9-16 (expected {expected_org!r})",
            )
    expected = _check_character(code[:17])
    if code[17] != expected:
        raise _error(
            field,
            "check_digit",
            18,
            f"check character {code[17]!r} does not match the other 17 characters"
            f" (expected {expected!r}); a character is mistyped",
        )
    return code


def generate_credit_code(
    division: str, seq: int, *, authority: str = "9", entity_type: str = "1"
) -> str:
    """Build a valid credit code deterministically, for demos and tests.

    ``division`` is a 6-digit GB/T 2260 code of a known province; ``seq`` (0-99999999)
    becomes the organisation code body, zero-padded, with its GB 11714 check character, so
    the result passes ``validate_credit_code(..., strict_org_code=True)``. Returns the
    18-character code. Raises :class:`~battrace.errors.CodeError` for a bad division
    (field ``division``), ``seq`` out of range (field ``seq``) or an authority or entity
    type outside the alphabet.
    """
    place = validate_division_code(division, field="division").code
    if not 0 <= seq <= 99_999_999:
        raise CodeError(f"seq: {seq} is outside 0-99999999 (8 digits)", field="seq", rule="range")
    for name, value in (("authority", authority), ("entity_type", entity_type)):
        if len(value) != 1 or value not in _VALUE:
            raise CodeError(
                f"{name}: {value!r} is not one character of the credit-code alphabet",
                field=name,
                rule="charset",
            )
    body = f"{seq:08d}"
    first17 = authority + entity_type + place + body + org_code_check_character(body)
    return first17 + _check_character(first17)
