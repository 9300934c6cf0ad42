"""The generated stream: national shares, lifetimes, time order, reporting delays."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, datetime

import pytest

from battrace.codes import parse_battery_code
from battrace.simulate import SimConfig, SimEvent, simulate_events
from battrace.simulate import parameters as params
from battrace.simulate.stream import largest_remainder, yearly_counts
from tests.simulate.conftest import every_rule

DAY_SECONDS = 86_400


def _original_packs(run: list[SimEvent]) -> list[str]:
    """Codes of the packs made for new vehicles (spares have an ``S`` traceability field)."""
    found = []
    for item in run:
        event = item.event
        if event["type"] != "produced" or item.refused:
            continue
        for code in event["batteries"]:
            parsed = parse_battery_code(code)
            if parsed.product_type == "pack" and (parsed.traceability or "").startswith("L"):
                found.append(code)
    return found


def _binomial_slack(p: float, n: int) -> float:
    """Four standard errors of a share estimated from n draws, plus half a point."""
    return 4 * math.sqrt(p * (1 - p) / n) + 0.005


def test_largest_remainder_keeps_the_total() -> None:
    assert largest_remainder(10, [1, 1, 1]) == [4, 3, 3]
    assert sum(largest_remainder(20_000, list(params.NEV_SALES_MILLIONS.values()))) == 20_000
    assert largest_remainder(0, [1, 2]) == [0, 0]


def test_production_years_follow_national_sales(national_run: list[SimEvent]) -> None:
    packs = _original_packs(national_run)
    assert len(packs) == 20_000
    by_year = Counter(parse_battery_code(c).production_date.year for c in packs)
    total = sum(params.NEV_SALES_MILLIONS.values())
    for year, sales in params.NEV_SALES_MILLIONS.items():
        # shares are allocated exactly (largest remainder): within one battery
        assert abs(by_year[year] - 20_000 * sales / total) <= 1, year
    assert dict(by_year) == yearly_counts(SimConfig(batteries=20_000))


def test_lfp_share_follows_the_year(national_run: list[SimEvent]) -> None:
    packs = _original_packs(national_run)
    years: dict[int, list[str]] = defaultdict(list)
    for code in packs:
        parsed = parse_battery_code(code)
        years[parsed.production_date.year].append(parsed.battery_type)
    for year, letters in years.items():
        share = letters.count("B") / len(letters)
        expected = params.LFP_SHARE[year]
        assert abs(share - expected) <= _binomial_slack(expected, len(letters)), year
    overall_2024 = years[2024].count("B") / len(years[2024])
    assert overall_2024 == pytest.approx(0.746, abs=0.03)


def test_sales_are_spread_over_provinces_by_weight(national_run: list[SimEvent]) -> None:
    regions = Counter(
        item.event["body"]["buyer_region"][:2] + "0000"
        for item in national_run
        if item.event["type"] == "vehicle_sold"
    )
    total = sum(regions.values())
    weight_sum = sum(params.SALES_WEIGHTS.values())
    assert set(regions) <= set(params.PROVINCES)
    for province in ("440000", "330000", "320000"):
        expected = params.SALES_WEIGHTS[province] / weight_sum
        assert abs(regions[province] / total - expected) <= _binomial_slack(expected, total)


def test_mean_retirement_age_matches_the_weibull_mean() -> None:
    # one production year followed for 25 years: every first pack has retired by then
    config = SimConfig(
        batteries=6_000,
        seed=13,
        start_year=2015,
        end_year=2015,
        until=date(2040, 12, 31),
        rates=every_rule(0.0),
    )
    sold: dict[str, datetime] = {}
    retired: dict[str, datetime] = {}
    for item in simulate_events(config):
        event = item.event
        kind = event["type"]
        when = datetime.fromisoformat(event["occurred_at"])
        if kind == "vehicle_sold":
            sold[event["body"]["vin"]] = when
        elif kind in ("replaced", "vehicle_scrapped"):
            retired.setdefault(event["body"]["vin"], when)
    assert set(retired) == set(sold)
    ages: dict[tuple[str, str], list[float]] = defaultdict(list)
    for vin, start in sold.items():
        vehicle_type = "commercial" if vin[3] == "C" else "passenger"
        chemistry = "LFP" if vin[4] == "B" else "NCM"
        years = (retired[vin] - start).total_seconds() / DAY_SECONDS / 365.25
        ages[chemistry, vehicle_type].append(years)
    for key, found in ages.items():
        life = params.LIFETIMES[key]
        k, scale = life.shape, life.scale_years
        sd = scale * math.sqrt(math.gamma(1 + 2 / k) - math.gamma(1 + 1 / k) ** 2)
        mean = sum(found) / len(found)
        assert abs(mean - life.mean_years) <= 4 * sd / math.sqrt(len(found)) + 0.01, key
    assert min(len(v) for v in ages.values()) > 300


def test_each_battery_in_time_order_and_refs_in_sequence(national_run: list[SimEvent]) -> None:
    last: dict[str, str] = {}
    for number, item in enumerate(national_run, start=1):
        event = item.event
        assert event["ref"] == f"sim-{number}"
        if item.refused:
            continue
        for code in event["batteries"]:
            assert last.get(code, "") <= event["occurred_at"], code
            last[code] = event["occurred_at"]
        assert event["occurred_at"] <= "2025-12-31T23:59:00+08:00"


def test_reporting_delays_on_time_except_labelled_late(national_run: list[SimEvent]) -> None:
    late = 0
    for item in national_run:
        event = item.event
        delay = datetime.fromisoformat(event["reported_at"]) - datetime.fromisoformat(
            event["occurred_at"]
        )
        days = delay.total_seconds() / DAY_SECONDS
        assert days > 0
        if any(lab.rule == "late_report" for lab in item.labels):
            late += 1
            assert days >= params.LATE_MIN_DAYS
        else:
            assert days <= params.ON_TIME_MAX_DAYS
    share = late / len(national_run)
    assert share == pytest.approx(0.01, abs=_binomial_slack(0.01, len(national_run)))


def test_lives_go_all_the_way(national_run: list[SimEvent]) -> None:
    kinds = Counter(item.event["type"] for item in national_run)
    for kind in (
        "produced",
        "shipped",
        "received",
        "installed",
        "vehicle_sold",
        "repaired",
        "replaced",
        "swapped",
        "vehicle_scrapped",
        "removed",
        "collected",
        "tested",
        "repurposed",
        "recycled",
        "disposed",
    ):
        assert kinds[kind] > 0, kind
    # most vehicles sold in recent years are still on the road at the end of 2025
    assert kinds["vehicle_scrapped"] < kinds["vehicle_sold"] / 5


def test_cell_structure_on_request() -> None:
    config = SimConfig(batteries=20, seed=2, end_year=2016, cells=True, rates=every_rule(0))
    run = list(simulate_events(config))
    levels = Counter(
        parse_battery_code(code).product_type
        for item in run
        if item.event["type"] == "produced"
        for code in item.event["batteries"]
    )
    parents = Counter(
        parse_battery_code(item.event["batteries"][0]).product_type
        for item in run
        if item.event.get("body", {}).get("children")
    )
    assert parents["pack"] == 20
    assert parents["module"] == levels["module"] >= 8 * 20
    assert levels["cell"] >= 12 * levels["module"]
