"""GB/T 2260 administrative division codes (行政区划代码): validate and describe.

A division code has 6 digits, two per level::

    digits 1-2  province-level division (11 Beijing ... 65 Xinjiang, 71, 81, 82)
    digits 3-4  prefecture level within it ("00" for the province itself)
    digits 5-6  county level within that ("00" for the prefecture itself)

So ``440000`` is Guangdong province, ``440300`` the city of Shenzhen and ``440305`` a
district of Shenzhen. A code is refused when it is not 6 digits, when its province is
unknown, or when it names a county under no prefecture (``"00"`` then non-zero digits).

Divisions are created, merged and renumbered every year, so an unknown prefecture or county
under a known province is **accepted**, with ``known=False``: validation is format plus a
known province. The name tables are in :mod:`battrace.codes.division_table` (2023 data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from battrace.codes.division_table import CITY_NAMES, PROVINCE_NAMES
from battrace.errors import CodeError

__all__ = [
    "CITIES",
    "PROVINCES",
    "Division",
    "Province",
    "province_of",
    "validate_division_code",
]

Level = Literal["province", "city", "county"]


@dataclass(frozen=True, slots=True)
class Province:
    """A province-level division: 2-digit ``code2``, its 6-digit ``code`` and its names."""

    code2: str
    name_zh: str
    name_en: str

    @property
    def code(self) -> str:
        """The 6-digit division code of the province itself, e.g. ``"440000"``."""
        return self.code2 + "0000"


#: 2-digit province code -> :class:`Province`, in code order (dicts keep insertion order).
PROVINCES: Final[dict[str, Province]] = {
    code2: Province(code2, zh, en) for code2, (zh, en) in PROVINCE_NAMES.items()
}

#: 6-digit prefecture-level code -> Chinese name (2023; see the table module for coverage).
CITIES: Final[dict[str, str]] = CITY_NAMES


@dataclass(frozen=True, slots=True)
class Division:
    """A validated division code and what is known of it.

    ``province_code`` is the 6-digit code of its province (``"440000"``); ``level`` comes from
    the zero suffix; ``city_code`` is the 6-digit prefecture code for a city or county;
    ``name_zh`` is the name of the code itself when the tables know it; ``known`` says
    whether the code itself is in the tables (county codes never are).
    """

    code: str
    province_code: str
    province_name_zh: str
    province_name_en: str
    level: Level
    city_code: str | None
    name_zh: str | None
    known: bool


def _error(field: str, rule: str, position: int | None, detail: str) -> CodeError:
    where = "division code" if position is None else f"division code position {position}"
    return CodeError(f"{where}: {detail}", field=field, rule=rule, position=position)


def validate_division_code(text: str, *, field: str = "division") -> Division:
    """Validate a GB/T 2260 division code and describe it.

    ``text`` is stripped of surrounding whitespace. Returns a :class:`Division`; an unknown
    city or county under a known province is accepted with ``known=False``.
    Raises :class:`~battrace.errors.CodeError` with ``field``, ``rule`` one of ``length``,
    ``charset``, ``province`` or ``level``, and the 1-based ``position`` (``None`` for
    ``length``).
    """
    code = text.strip()
    if len(code) != 6:
        raise _error(field, "length", None, f"has {len(code)} characters; a division code has 6")
    for i, ch in enumerate(code):
        # str.isdigit() accepts other scripts' digits ('٣'); only ASCII digits are codes.
        if not "0" <= ch <= "9":
            raise _error(field, "charset", i + 1, f"character {ch!r} is not a digit 0-9")
    province = PROVINCES.get(code[:2])
    if province is None:
        raise _error(
            field,
            "province",
            1,
            f"{code[:2]!r} is not a province-level division code (11-65, 71, 81, 82)",
        )
    city_part, county_part = code[2:4], code[4:6]
    level: Level
    name: str | None
    if city_part == "00":
        if county_part != "00":
            raise _error(
                field,
                "level",
                5,
                f"county digits {county_part!r} follow city digits '00'; a county code"
                " sits under a prefecture",
            )
        level, city_code, name, known = "province", None, province.name_zh, True
    elif county_part == "00":
        name = CITIES.get(code)
        level, city_code, known = "city", code, name is not None
    else:
        level, city_code, name, known = "county", code[:4] + "00", None, False
    return Division(
        code=code,
        province_code=province.code,
        province_name_zh=province.name_zh,
        province_name_en=province.name_en,
        level=level,
        city_code=city_code,
        name_zh=name,
        known=known,
    )


def province_of(code: str) -> str:
    """The 6-digit province code (``"440000"``) of a division code (``"440305"``).

    Raises :class:`~battrace.errors.CodeError` as :func:`validate_division_code` does.
    """
    return validate_division_code(code).province_code
