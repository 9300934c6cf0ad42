"""The national figures and pack specifications are consistent and valid."""

from __future__ import annotations

import math

import pytest

from battrace.codes import validate_division_code
from battrace.domain.events import ProducedBody, UnitSpec
from battrace.simulate import parameters as params
from battrace.simulate.specs import PACK_KINDS


def test_years_cover_the_sales_table() -> None:
    years = list(range(2015, 2026))
    assert list(params.NEV_SALES_MILLIONS) == years
    assert list(params.LFP_SHARE) == years
    assert list(params.COMMERCIAL_SHARE) == years
    assert params.LFP_SHARE[2024] == pytest.approx(0.746)
    assert params.NEV_SALES_MILLIONS[2025] == pytest.approx(16.49)


def test_thirty_one_valid_provinces_with_weights() -> None:
    assert len(params.PROVINCES) == len(set(params.PROVINCES)) == 31
    for code in params.PROVINCES:
        assert validate_division_code(code).code == code
    for weights in (
        params.SALES_WEIGHTS,
        params.VEHICLE_PRODUCTION_WEIGHTS,
        params.BATTERY_PRODUCTION_WEIGHTS,
    ):
        assert list(weights) == list(params.PROVINCES)
        assert all(w > 0 for w in weights.values())


@pytest.mark.parametrize("key", sorted(PACK_KINDS))
def test_pack_specs_are_valid_units(key: tuple[str, str]) -> None:
    kind = PACK_KINDS[key]
    spec = ProducedBody.model_validate(kind.spec)
    assert spec.chemistry.value == key[0]
    # the composition books the whole pack mass
    assert sum(spec.composition.values()) == spec.mass_kg
    assert UnitSpec.model_validate(kind.module_spec).mass_kg * kind.design.modules < spec.mass_kg
    assert UnitSpec.model_validate(kind.cell_spec).mass_kg * kind.design.cells < spec.mass_kg
    for soh in (60, 75, 95):
        second = UnitSpec.model_validate(kind.second_life_spec(soh))
        assert second.rated_capacity_ah == pytest.approx(kind.design.capacity_ah * soh / 100)
        assert sum(second.composition.values()) <= second.mass_kg


def test_weibull_mean_is_scale_times_gamma() -> None:
    life = params.Lifetime(10.0, 3.0)
    assert life.mean_years == pytest.approx(10 * math.gamma(4 / 3))
    assert 8.0 < life.mean_years < 9.5


def test_compliant_recovery_ranges_stay_above_the_minimums() -> None:
    for metal, minimum in params.MIN_RECOVERY.items():
        low, high = params.RECOVERY_RANGES[metal]
        assert minimum + 0.004 < low < high < 1.0


def test_late_and_on_time_delays_cannot_be_confused() -> None:
    # 15 working days are at least 21 calendar days; 30 are at most 50 even over holidays
    assert params.ON_TIME_MAX_DAYS < 21
    assert params.LATE_MIN_DAYS > 50


def test_whitelist_batches_total_the_listed_firms() -> None:
    listed = params.LISTED_BOTH + params.LISTED_ECHELON_ONLY + params.LISTED_RECYCLER_ONLY
    assert sum(n for _, n in params.WHITELIST_BATCHES) == listed == 144
    assert params.LISTED_BOTH + params.LISTED_ECHELON_ONLY == 96
    assert params.LISTED_BOTH + params.LISTED_RECYCLER_ONLY == 60
