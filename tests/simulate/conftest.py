"""Shared runs of the simulator, generated once per test session."""

from __future__ import annotations

from datetime import date

import pytest

from battrace.simulate import RULES, SimConfig, SimEvent, simulate_events


def every_rule(rate: float) -> dict[str, float]:
    """The same injection rate for every rule."""
    return dict.fromkeys(RULES, rate)


@pytest.fixture(scope="session")
def national_run() -> list[SimEvent]:
    """20,000 batteries, 2015-2025, default rates: for the distribution tests."""
    return list(simulate_events(SimConfig(batteries=20_000, seed=11)))


@pytest.fixture(scope="session")
def breach_config() -> SimConfig:
    """A small run with every breach frequent enough to show up."""
    return SimConfig(
        batteries=1_500,
        seed=5,
        start_year=2015,
        end_year=2022,
        until=date(2030, 12, 31),
        rates={**every_rule(0.08), "late_report": 0.02, "reused_code": 0.02},
    )


@pytest.fixture(scope="session")
def breach_run(breach_config: SimConfig) -> list[SimEvent]:
    return list(simulate_events(breach_config))
