"""GB/T 34014-2017 battery codes (汽车动力蓄电池编码规则): parse, validate and generate.

The standard code has 24 characters::

    positions  1-3   manufacturer code (filed)      A-Z, 0-9
               4     product type                   P pack, M module, C cell
               5     battery type                   A-G or Z (B = LFP, E = NCM/NCA, ...)
               6-7   specification code (filed)     A-Z, 0-9
               8-14  traceability code (filed)      A-Z, 0-9
               15-17 production date                year, month, day characters
               18-24 serial number of the day       digits

The date characters use a VIN-style alphabet without I, O, Q, U and Z: years 2011-2019 are
'1'-'9' and 2020-2040 are 'A'-'Y'; months are '1'-'9', 'A'-'C'; days are '1'-'9', then letters
for 10-30 and '0' for 31. The date must exist (30 February is refused).

A second-life (echelon) product is re-coded. Its code drops the traceability field and ends in
``R`` and a product-type letter, 19 characters::

    positions  1-3 manufacturer, 4 product type, 5 battery type, 6-7 spec,
               8-10 production date, 11-17 serial, 18 'R', 19 product type again

This layout is one published model and is **not confirmed** against the standard text. Our
choice: position 19 is the second-life product type and must equal position 4. A second-life
code is told apart from a standard one by its length alone.

No check character is known for GB/T 34014, so a single mistyped character in a filed field
cannot be detected here; uniqueness is enforced by the ledger instead.

Input is normalised before checking: surrounding whitespace is stripped and ASCII lower-case
letters are upper-cased. Positions in error messages count from 1 in the stripped text.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, fields
from typing import Final

from battrace.errors import CodeError

__all__ = [
    "BATTERY_TYPES",
    "PRODUCT_TYPES",
    "SECOND_LIFE_LENGTH",
    "STANDARD_LENGTH",
    "YEARS",
    "BatteryCode",
    "decode_date",
    "encode_date",
    "generate_battery_code",
    "next_code_prefix",
    "parse_battery_code",
]

STANDARD_LENGTH: Final = 24
SECOND_LIFE_LENGTH: Final = 19

#: Product-type letter (position 4) -> level name used across the platform.
PRODUCT_TYPES: Final[dict[str, str]] = {"P": "pack", "M": "module", "C": "cell"}
_PRODUCT_LETTERS: Final[dict[str, str]] = {name: letter for letter, name in PRODUCT_TYPES.items()}

#: Battery-type letter (position 5) -> chemistry name. Only B and E are named by the reference
#: we follow with certainty; the other letters are the common reading of the standard.
BATTERY_TYPES: Final[dict[str, str]] = {
    "A": "NiMH",
    "B": "LFP",
    "C": "LMO",
    "D": "LCO",
    "E": "NCM/NCA",
    "F": "supercapacitor",
    "G": "LTO",
    "Z": "other",
}

#: The production years the date alphabet can express.
YEARS: Final = range(2011, 2041)

_ALNUM: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# the code alphabet in sort order: digits before letters, as in byte order and in the usual
# collations of SQLite and PostgreSQL
_SORTED_ALNUM: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS: Final = frozenset("0123456789")

# The VIN-style alphabet: letters that look like digits (I, O, Q) or are reserved (U, Z) are
# never used, so the 21 remaining letters carry 2020-2040.
_YEAR_CHARS: Final = "123456789" + "ABCDEFGHJKLMNPRSTVWXY"
_MONTH_CHARS: Final = "123456789ABC"
# Days 1-30 use the same letter sequence; 31 gets '0' because the alphabet runs out.
_DAY_CHARS: Final = "123456789" + "ABCDEFGHJKLMNPRSTVWXY" + "0"

_YEAR_OF: Final[dict[str, int]] = {ch: YEARS.start + i for i, ch in enumerate(_YEAR_CHARS)}
_MONTH_OF: Final[dict[str, int]] = {ch: i + 1 for i, ch in enumerate(_MONTH_CHARS)}
_DAY_OF: Final[dict[str, int]] = {ch: i + 1 for i, ch in enumerate(_DAY_CHARS)}
_YEAR_CHAR: Final[dict[int, str]] = {v: k for k, v in _YEAR_OF.items()}
_MONTH_CHAR: Final[dict[int, str]] = {v: k for k, v in _MONTH_OF.items()}
_DAY_CHAR: Final[dict[int, str]] = {v: k for k, v in _DAY_OF.items()}

_NEVER_IN_DATES: Final = "I, O, Q, U, Z are never used"
_MONTH_NAMES: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True, slots=True)
class BatteryCode:
    """A parsed GB/T 34014 code. Build it with :func:`parse_battery_code`, not by hand.

    ``product_type`` is the level name (``"pack"``, ``"module"``, ``"cell"``),
    ``battery_type`` the letter of position 5, ``traceability`` is ``None`` for a
    second-life code.
    """

    manufacturer: str
    product_type: str
    battery_type: str
    spec: str
    traceability: str | None
    production_date: datetime.date
    serial: str
    second_life: bool

    @property
    def text(self) -> str:
        """The canonical code string (upper case, no whitespace)."""
        letter = _PRODUCT_LETTERS[self.product_type]
        head = self.manufacturer + letter + self.battery_type + self.spec
        date_chars = encode_date(self.production_date)
        if self.second_life:
            return head + date_chars + self.serial + "R" + letter
        return head + (self.traceability or "") + date_chars + self.serial

    @property
    def chemistry(self) -> str:
        """The chemistry name of the battery-type letter, e.g. ``"LFP"`` for ``B``."""
        return BATTERY_TYPES[self.battery_type]

    def to_dict(self) -> dict[str, str | bool | None]:
        """A JSON-ready dict with exactly the keys other tools rely on (fixed interface)."""
        return {
            "manufacturer": self.manufacturer,
            "product_type": self.product_type,
            "battery_type": self.battery_type,
            "spec": self.spec,
            "traceability": self.traceability,
            "production_date": self.production_date.isoformat(),
            "serial": self.serial,
            "second_life": self.second_life,
        }


# In field order, which is the parameter order of _new_battery_code.
_SLOT_SETTERS: Final = tuple(BatteryCode.__dict__[f.name].__set__ for f in fields(BatteryCode))


def _new_battery_code(
    manufacturer: str,
    product_type: str,
    battery_type: str,
    spec: str,
    traceability: str | None,
    production_date: datetime.date,
    serial: str,
    second_life: bool,
) -> BatteryCode:
    """Build a :class:`BatteryCode` from already validated parts, twice as fast as ``__init__``.

    Bulk imports parse every code; the frozen dataclass ``__init__`` spends half of a parse
    going through ``object.__setattr__`` eight times. Setting the slots through their
    descriptors once, at creation, is what that ``__init__`` does, minus the overhead.
    """
    obj = object.__new__(BatteryCode)
    s0, s1, s2, s3, s4, s5, s6, s7 = _SLOT_SETTERS
    s0(obj, manufacturer)
    s1(obj, product_type)
    s2(obj, battery_type)
    s3(obj, spec)
    s4(obj, traceability)
    s5(obj, production_date)
    s6(obj, serial)
    s7(obj, second_life)
    return obj


def _error(
    field: str, rule: str, position: int | None, detail: str, label: str = "battery code"
) -> CodeError:
    where = label if position is None else f"{label} position {position}"
    return CodeError(f"{where}: {detail}", field=field, rule=rule, position=position)


def _first_outside(text: str, allowed: frozenset[str], start: int = 0) -> int:
    """0-based index of the first character of ``text[start:]`` not in ``allowed``, or -1."""
    for i in range(start, len(text)):
        if text[i] not in allowed:
            return i
    return -1


def _normalise(text: str, field: str) -> str:
    stripped = text.strip()
    # str.upper() on non-ASCII text can change the length ('ß' -> 'SS') and so shift
    # positions; non-ASCII input is refused at its own position before upper-casing.
    if not stripped.isascii():
        bad = next(i for i, ch in enumerate(stripped) if not ch.isascii())
        raise _error(
            field,
            "charset",
            bad + 1,
            f"character {stripped[bad]!r} is not allowed (only A-Z and 0-9)",
        )
    return stripped.upper()


def _decode_date_at(
    code: str, start: int, field: str, label: str = "battery code"
) -> datetime.date:
    """Decode the three date characters at 0-based ``start``; errors name their position."""
    y, m, d = code[start], code[start + 1], code[start + 2]
    year = _YEAR_OF.get(y)
    if year is None:
        raise _error(
            field,
            "year",
            start + 1,
            f"year character {y!r} is not in the date alphabet"
            f" (1-9 = 2011-2019, A-Y = 2020-2040; {_NEVER_IN_DATES})",
            label,
        )
    month = _MONTH_OF.get(m)
    if month is None:
        raise _error(
            field,
            "month",
            start + 2,
            f"month character {m!r} is not a month (1-9, A = October, B = November, C = December)",
            label,
        )
    day = _DAY_OF.get(d)
    if day is None:
        raise _error(
            field,
            "day",
            start + 3,
            f"day character {d!r} is not in the day alphabet (1-9, A-Y for 10-30;"
            f" {_NEVER_IN_DATES}; 0 for 31)",
            label,
        )
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise _error(
            field,
            "date",
            start + 3,
            f"date {y}{m}{d} means {day} {_MONTH_NAMES[month - 1]} {year}, which does not exist",
            label,
        ) from None


def parse_battery_code(text: str, *, field: str = "code") -> BatteryCode:
    """Parse and validate a GB/T 34014 code, standard (24) or second-life (19 characters).

    ``text`` is stripped and upper-cased first. ``field`` names the input in errors.
    Returns a :class:`BatteryCode`; its ``text`` is the canonical form.
    Raises :class:`~battrace.errors.CodeError` with ``rule`` one of ``length``, ``charset``,
    ``product_type``, ``battery_type``, ``year``, ``month``, ``day``, ``date``, ``serial``,
    ``second_life_marker``, ``second_life_type``, and ``position`` the 1-based character
    that broke it (``None`` for ``length``).
    """
    code = _normalise(text, field)
    n = len(code)
    if n == STANDARD_LENGTH:
        second_life = False
        date_at = 14
    elif n == SECOND_LIFE_LENGTH:
        second_life = True
        date_at = 7
    else:
        raise _error(
            field,
            "length",
            None,
            f"has {n} characters; a code has {STANDARD_LENGTH}"
            f" (or {SECOND_LIFE_LENGTH} for a second-life code)",
        )
    # One set comparison covers the common, valid case; the slow scan only finds the culprit.
    if not _ALNUM.issuperset(code):
        bad = _first_outside(code, _ALNUM)
        raise _error(
            field, "charset", bad + 1, f"character {code[bad]!r} is not allowed (only A-Z and 0-9)"
        )
    letter = code[3]
    product_type = PRODUCT_TYPES.get(letter)
    if product_type is None:
        raise _error(
            field,
            "product_type",
            4,
            f"product type {letter!r} is not P (pack), M (module) or C (cell)",
        )
    battery_type = code[4]
    if battery_type not in BATTERY_TYPES:
        raise _error(
            field,
            "battery_type",
            5,
            f"battery type {battery_type!r} is not one of A-G or Z",
        )
    # The valid path decodes the date inline; the helper runs again only to word an error.
    year = _YEAR_OF.get(code[date_at])
    month = _MONTH_OF.get(code[date_at + 1])
    day = _DAY_OF.get(code[date_at + 2])
    if year is not None and month is not None and day is not None:
        try:
            production_date = datetime.date(year, month, day)
        except ValueError:
            production_date = _decode_date_at(code, date_at, field)  # raises rule "date"
    else:
        production_date = _decode_date_at(code, date_at, field)  # raises year/month/day
    serial = code[date_at + 3 : date_at + 10]
    if not serial.isdigit():
        bad = _first_outside(code, _DIGITS, date_at + 3)
        raise _error(
            field,
            "serial",
            bad + 1,
            f"serial character {code[bad]!r} is not a digit (positions"
            f" {date_at + 4}-{date_at + 10} are the 7-digit serial of the day)",
        )
    if second_life:
        if code[17] != "R":
            raise _error(
                field,
                "second_life_marker",
                18,
                f"character {code[17]!r} should be 'R', the second-life marker of a"
                " 19-character code",
            )
        if code[18] != letter:
            raise _error(
                field,
                "second_life_type",
                19,
                f"second-life product type {code[18]!r} does not repeat position 4 ({letter!r})",
            )
        traceability = None
    else:
        traceability = code[7:14]
    return _new_battery_code(
        code[0:3],
        product_type,
        battery_type,
        code[5:7],
        traceability,
        production_date,
        serial,
        second_life,
    )


def encode_date(d: datetime.date) -> str:
    """The three date characters (year, month, day) for ``d``.

    Raises :class:`~battrace.errors.CodeError` (rule ``year``, field ``production_date``)
    when the year is outside 2011-2040.
    """
    year = _YEAR_CHAR.get(d.year)
    if year is None:
        raise CodeError(
            f"production_date: year {d.year} cannot be encoded (only {YEARS.start}"
            f"-{YEARS.stop - 1})",
            field="production_date",
            rule="year",
        )
    return year + _MONTH_CHAR[d.month] + _DAY_CHAR[d.day]


def decode_date(text: str, *, field: str = "production_date") -> datetime.date:
    """The date the three characters ``text`` (year, month, day) stand for.

    Lower case is accepted. Raises :class:`~battrace.errors.CodeError` with rule ``length``,
    ``year``, ``month``, ``day`` or ``date``; positions are 1-3 within ``text``.
    """
    if len(text) != 3:
        raise CodeError(
            f"production date {text!r} has {len(text)} characters; it has 3",
            field=field,
            rule="length",
        )
    upper = text.upper() if text.isascii() else text
    return _decode_date_at(upper, 0, field, "production date")


def _check_part(value: str, *, name: str, length: int, allowed: frozenset[str], at: int) -> str:
    """Upper-case ``value`` and check it fills ``length`` characters of ``allowed``.

    ``at`` is the 1-based position the part starts at in the code, used in errors.
    """
    part = value.strip().upper() if value.isascii() else value.strip()
    if len(part) != length:
        raise CodeError(
            f"{name}: {value!r} has {len(part)} characters; it needs {length}",
            field=name,
            rule="length",
        )
    bad = _first_outside(part, allowed)
    if bad >= 0:
        kind = "a digit" if allowed is _DIGITS else "A-Z or 0-9"
        raise CodeError(
            f"{name}: character {part[bad]!r} (code position {at + bad}) is not {kind}",
            field=name,
            rule="serial" if allowed is _DIGITS else "charset",
            position=at + bad,
        )
    return part


def generate_battery_code(
    *,
    manufacturer: str,
    product_type: str,
    battery_type: str,
    spec: str,
    traceability: str | None,
    production_date: datetime.date,
    serial: int | str,
    second_life: bool = False,
) -> str:
    """Build a GB/T 34014 code from its parts and return its canonical text.

    ``product_type`` is a level name (``pack``/``module``/``cell``) or its letter;
    ``battery_type`` a letter of :data:`BATTERY_TYPES`; ``traceability`` 7 characters for
    a standard code and ``None`` for a second-life one; ``serial`` 0-9999999 or its
    7-digit string. Raises :class:`~battrace.errors.CodeError` whose ``field`` names the
    part that is wrong.
    """
    maker = _check_part(manufacturer, name="manufacturer", length=3, allowed=_ALNUM, at=1)
    kind = product_type.strip().lower()
    letter = _PRODUCT_LETTERS.get(kind) or (kind.upper() if kind.upper() in PRODUCT_TYPES else "")
    if not letter:
        raise CodeError(
            f"product_type: {product_type!r} is not pack, module or cell (P, M, C)",
            field="product_type",
            rule="product_type",
            position=4,
        )
    btype = battery_type.strip().upper()
    if btype not in BATTERY_TYPES:
        raise CodeError(
            f"battery_type: {battery_type!r} is not one of A-G or Z",
            field="battery_type",
            rule="battery_type",
            position=5,
        )
    spec_part = _check_part(spec, name="spec", length=2, allowed=_ALNUM, at=6)
    date_part = encode_date(production_date)
    date_at = 8 if second_life else 15
    if isinstance(serial, int):
        if not 0 <= serial <= 9_999_999:
            raise CodeError(
                f"serial: {serial} is outside 0-9999999 (7 digits)",
                field="serial",
                rule="serial",
            )
        serial_part = f"{serial:07d}"
    else:
        serial_part = _check_part(serial, name="serial", length=7, allowed=_DIGITS, at=date_at + 3)
    head = maker + letter + btype + spec_part
    if second_life:
        if traceability is not None:
            raise CodeError(
                "traceability: a second-life code has no traceability field; pass None",
                field="traceability",
                rule="second_life_traceability",
            )
        return head + date_part + serial_part + "R" + letter
    if traceability is None:
        raise CodeError(
            "traceability: a standard code needs its 7-character traceability field",
            field="traceability",
            rule="length",
        )
    trace = _check_part(traceability, name="traceability", length=7, allowed=_ALNUM, at=8)
    return head + trace + date_part + serial_part


def next_code_prefix(prefix: str) -> str | None:
    """The first string of ``prefix``'s length over the code alphabet that sorts after
    ``prefix``, or ``None`` when there is none (``"ZZZ"``): every code starting with
    ``prefix`` is in ``[prefix, next_code_prefix(prefix))``, a range an index on the codes
    serves. ``prefix`` must be upper-case letters and digits."""
    if not prefix or not _ALNUM.issuperset(prefix):
        raise ValueError(f"a code prefix is upper-case letters and digits, not {prefix!r}")
    chars = list(prefix)
    for i in range(len(chars) - 1, -1, -1):
        rank = _SORTED_ALNUM.index(chars[i])
        if rank + 1 < len(_SORTED_ALNUM):
            chars[i] = _SORTED_ALNUM[rank + 1]
            return "".join(chars[: i + 1]) + _SORTED_ALNUM[0] * (len(chars) - i - 1)
    return None
