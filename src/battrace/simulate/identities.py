"""Unique identities for the simulated world: GB/T 34014 battery codes and VINs.

Uniqueness by construction, with bounded memory:

- packs sold with new vehicles (and their modules and cells) are made in production-date order,
  so their serial is a per-maker counter for the day, reset when the day changes; their
  traceability field starts with ``L`` (the production line);
- spare packs (replacements, swap stock) are made out of that order, so they take a per-maker
  counter that never resets: serial = counter mod 10**7 and a traceability field ``S`` plus the
  block number, which makes them unique whatever their date;
- second-life products take a per-echelon-firm counter (the code has no traceability field);
- VINs take a per-maker counter: plant character (position 11) and a six-digit serial.

Speed: a run mints millions of codes, so the validated generators of :mod:`battrace.codes`
build one code per model (its positions 1-14 are kept, the date characters come from
:func:`battrace.codes.encode_date` once a day), and the serial (positions 18-24 of a battery
code, 12-17 of a VIN) is put in place afterwards. The VIN check digit is a weighted sum modulo
11, and digits count as themselves, so the check digit of the VIN with serial ``000000`` plus
the serial's digits times their weights (7 6 5 4 3 2) gives the check digit of every serial.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from battrace.codes import encode_date, generate_battery_code, generate_vin
from battrace.codes.vin import VIN_ALPHABET

_DATE_AT: Final = 14  # battery code: positions 15-17 are the date, 18-24 the serial

_SERIALS: Final = 10_000_000
_PLANT_CHARS: Final = "".join(sorted(VIN_ALPHABET))
# VIN position 10, model year (the 30-year cycle of letters and digits without I, O, Q, U, Z)
_MODEL_YEAR: Final = dict(zip(range(2010, 2031), "ABCDEFGHJKLMNPRSTVWXY", strict=True))
_SERIAL_WEIGHTS: Final = (7, 6, 5, 4, 3, 2)  # ISO 3779 weights of VIN positions 12-17
# weighted sums of the first and last three serial digits, for every three-digit group
_HIGH_SUMS: Final = tuple(
    sum(w * int(d) for w, d in zip(_SERIAL_WEIGHTS[:3], f"{n:03d}", strict=True))
    for n in range(1000)
)
_LOW_SUMS: Final = tuple(
    sum(w * int(d) for w, d in zip(_SERIAL_WEIGHTS[3:], f"{n:03d}", strict=True))
    for n in range(1000)
)


class Mint:
    """Hands out battery codes and VINs that are never handed out twice in a run."""

    def __init__(self) -> None:
        self._day = -1
        self._daily: dict[str, int] = {}
        self._spares: dict[str, int] = {}
        self._second_life: dict[str, int] = {}
        self._vins: dict[str, int] = {}
        self._heads: dict[tuple[str, str, str, str], str] = {}
        self._date = ""
        self._vin_bases: dict[tuple[str, str, int, int], tuple[str, int]] = {}

    def original(self, maker: str, level: str, letter: str, spec: str, made: date) -> str:
        """The code of a unit made for a new vehicle on ``made`` (dates must not go back)."""
        day = made.toordinal()
        if day != self._day:
            if day < self._day:
                raise ValueError("original units must be minted in production-date order")
            self._day = day
            self._daily.clear()
            self._date = encode_date(made)
        serial = self._daily.get(maker, 0)
        if serial >= _SERIALS:
            raise ValueError(f"maker {maker} made more than {_SERIALS} units on {made}")
        self._daily[maker] = serial + 1
        key = (maker, level, letter, spec)
        head = self._heads.get(key)
        if head is None:
            head = self._heads[key] = generate_battery_code(
                manufacturer=maker,
                product_type=level,
                battery_type=letter,
                spec=spec,
                traceability="L" + spec + "0001",
                production_date=made,
                serial=0,
            )[:_DATE_AT]
        return f"{head}{self._date}{serial:07d}"

    def spare(self, maker: str, letter: str, spec: str, made: date) -> str:
        """The code of a spare pack made on any date."""
        count = self._spares.get(maker, 0)
        self._spares[maker] = count + 1
        block, serial = divmod(count, _SERIALS)
        return generate_battery_code(
            manufacturer=maker,
            product_type="pack",
            battery_type=letter,
            spec=spec,
            traceability=f"S{block:06d}",
            production_date=made,
            serial=serial,
        )

    def second_life(self, maker: str, letter: str, made: date) -> str:
        """The code of a second-life pack an echelon firm makes on ``made``."""
        count = self._second_life.get(maker, 0)
        self._second_life[maker] = count + 1
        return generate_battery_code(
            manufacturer=maker,
            product_type="pack",
            battery_type=letter,
            spec="R1",
            traceability=None,
            production_date=made,
            serial=count % _SERIALS,
            second_life=True,
        )

    def vin(self, wmi: str, model: str, year: int) -> str:
        """A VIN of a vehicle of ``model`` (5 characters) built in ``year``."""
        count = self._vins.get(wmi, 0)
        self._vins[wmi] = count + 1
        plant, serial = divmod(count, 1_000_000)
        key = (wmi, model, year, plant)
        base = self._vin_bases.get(key)
        if base is None:
            vis = _MODEL_YEAR[year] + _PLANT_CHARS[plant % len(_PLANT_CHARS)] + "000000"
            first = generate_vin(wmi, model, vis)
            base = self._vin_bases[key] = (first[:11], 10 if first[8] == "X" else int(first[8]))
        head, check = base
        high, low = divmod(serial, 1000)
        check = (check + _HIGH_SUMS[high] + _LOW_SUMS[low]) % 11
        return f"{head[:8]}{'X' if check == 10 else check}{head[9:]}{serial:06d}"
