"""The options of a simulation run, checked once.

Example::

    config = SimConfig(batteries=20_000, seed=7, start_year=2018, end_year=2025,
                       rates={"late_report": 0.05})

``batteries`` counts the packs sold with new vehicles; spare packs (replacements, swap stock)
and second-life products come on top. Batteries are produced from 1 January of ``start_year``
to 31 December of ``end_year``, shared over the years as national NEV sales were; the story of
every vehicle is followed until ``until`` (default: the end of ``end_year``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from battrace.errors import ValidationError
from battrace.simulate import parameters as params
from battrace.simulate.violations import check_rates

MAX_BATTERIES: Final = 10_000_000
# GB/T 34014 production-date characters run out after 2040
LAST_UNTIL: Final = date(2040, 12, 31)


def _bad(field_name: str, message: str, rule: str = "range") -> ValidationError:
    return ValidationError(f"{field_name}: {message}", field=field_name, rule=rule)


@dataclass(frozen=True, slots=True)
class SimConfig:
    """What to simulate. Raises ``ValidationError`` naming the option when one is out of range.

    ``rates`` maps rule names (:data:`battrace.simulate.violations.RULES`) to injection rates;
    rules not given take :data:`~battrace.simulate.violations.DEFAULT_RATES`. ``cells`` gives
    every new pack a cell -> module -> pack structure.
    """

    batteries: int
    seed: int = 1
    start_year: int = params.FIRST_YEAR
    end_year: int = params.LAST_YEAR
    until: date | None = None
    rates: Mapping[str, float] = field(default_factory=dict)
    cells: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.batteries <= MAX_BATTERIES:
            raise _bad("batteries", f"must be 1 to {MAX_BATTERIES}, got {self.batteries}")
        years = f"{params.FIRST_YEAR} to {params.LAST_YEAR} (the years with national sales figures)"
        if not params.FIRST_YEAR <= self.start_year <= params.LAST_YEAR:
            raise _bad("start_year", f"must be {years}, got {self.start_year}")
        if not params.FIRST_YEAR <= self.end_year <= params.LAST_YEAR:
            raise _bad("end_year", f"must be {years}, got {self.end_year}")
        if self.end_year < self.start_year:
            raise _bad("end_year", f"{self.end_year} is before start_year {self.start_year}")
        if self.until is not None and not date(self.end_year, 12, 31) <= self.until <= LAST_UNTIL:
            raise _bad(
                "until",
                f"must be from the end of end_year ({self.end_year}-12-31) to {LAST_UNTIL},"
                f" got {self.until}",
            )
        object.__setattr__(self, "rates", check_rates(self.rates))

    @property
    def horizon(self) -> date:
        """The last day simulated."""
        return self.until or date(self.end_year, 12, 31)

    def describe(self) -> dict[str, object]:
        """The options as JSON-ready data (for ``--json`` output)."""
        return {
            "batteries": self.batteries,
            "seed": self.seed,
            "start_year": self.start_year,
            "end_year": self.end_year,
            "until": self.horizon.isoformat(),
            "cells": self.cells,
            "rates": dict(self.rates),
        }
