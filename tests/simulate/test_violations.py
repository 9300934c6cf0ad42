"""Injected breaches: every rule fires when its rate is above zero, none when it is zero, and
each label tells the truth about the events it points at."""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime, timedelta

import pytest

from battrace.errors import ValidationError
from battrace.simulate import (
    LABEL_COLUMNS,
    REFUSED_RULES,
    RULES,
    SimConfig,
    SimEvent,
    parse_rates,
    simulate_events,
)
from battrace.simulate import parameters as params
from battrace.simulate.specs import PACK_KINDS
from battrace.simulate.story import GRACE
from battrace.simulate.violations import label_writer, read_labels
from battrace.simulate.world import build_world
from tests.simulate.conftest import every_rule

HORIZON = datetime.fromisoformat("2030-12-31T23:59:00+08:00")
GRACE_DAYS = GRACE // 1440


def _by_ref(run: list[SimEvent]) -> dict[str, SimEvent]:
    return {item.event["ref"]: item for item in run}


def test_every_rule_appears(breach_run: list[SimEvent]) -> None:
    found = Counter(lab.rule for item in breach_run for lab in item.labels)
    assert set(found) == set(RULES)


def test_no_labels_and_no_refusals_at_rate_zero(breach_config: SimConfig) -> None:
    config = SimConfig(
        batteries=breach_config.batteries,
        seed=breach_config.seed,
        start_year=breach_config.start_year,
        end_year=breach_config.end_year,
        until=breach_config.until,
        rates=every_rule(0.0),
    )
    run = list(simulate_events(config))
    assert not [lab for item in run for lab in item.labels]
    assert not [item for item in run if item.refused]


def test_one_rule_alone() -> None:
    rates = {**every_rule(0.0), "low_recovery": 0.5}
    config = SimConfig(batteries=800, seed=3, end_year=2018, until=HORIZON.date(), rates=rates)
    found = Counter(lab.rule for item in simulate_events(config) for lab in item.labels)
    assert set(found) == {"low_recovery"}


def test_refused_events_carry_exactly_the_refused_rules(breach_run: list[SimEvent]) -> None:
    for item in breach_run:
        refused_labels = [lab for lab in item.labels if lab.rule in REFUSED_RULES]
        assert len(refused_labels) == (1 if item.refused else 0)


def test_labels_point_at_their_events(breach_run: list[SimEvent]) -> None:
    for item in breach_run:
        for lab in item.labels:
            assert lab.event_ref == item.event["ref"]
            if lab.rule == "scrapped_without_battery":
                assert item.event["batteries"] == []
            else:
                assert lab.battery in item.event["batteries"]
            assert lab.enterprise in (item.event["actor"], item.event.get("counterparty"))


def _last_events(run: list[SimEvent]) -> dict[str, dict[str, object]]:
    """Each battery's last accepted event (naming it in ``batteries`` or as the new pack)."""
    last: dict[str, dict[str, object]] = {}
    for item in run:
        if not item.refused:
            new = item.event.get("body", {}).get("new")
            for code in [*item.event["batteries"], *([new] if new else [])]:
                last[code] = item.event
    return last


def test_never_rules_fire_and_only_when_labelled(breach_run: list[SimEvent]) -> None:
    """A battery left shipped, retired or at a collector long before the horizon is labelled,
    and a labelled one is really left there."""
    roles = {f.credit_code: set(f.roles) for f in build_world(5, 1_500).firms}
    labelled = {(lab.rule, lab.battery) for item in breach_run for lab in item.labels}
    last = _last_events(breach_run)
    cut = HORIZON - timedelta(days=GRACE_DAYS)
    stuck = 0
    for code, event in last.items():
        if datetime.fromisoformat(str(event["occurred_at"])) >= cut:
            continue
        kind = event["type"]
        collector = roles[str(event["actor"])] & {"collection_outlet", "vehicle_maker"}
        if kind == "shipped":
            rule = "shipment_not_received"
        elif kind == "removed" or (kind == "replaced" and code in event["batteries"]):
            rule = "retired_not_collected"
        elif kind in ("collected", "tested") and collector:
            rule = "not_forwarded"
        else:
            continue
        assert (rule, code) in labelled, (code, kind)
        stuck += 1
    assert stuck > 20
    for rule, code in labelled:
        if rule == "shipment_not_received":
            assert last[code]["type"] == "shipped"
        elif rule == "retired_not_collected":
            assert last[code]["type"] in ("removed", "replaced")
        elif rule == "not_forwarded":
            assert last[code]["type"] in ("collected", "tested")
        elif rule == "scrapped_without_battery":
            assert last[code]["type"] in ("vehicle_sold", "repaired", "swapped", "replaced")


def test_recovery_labels_match_the_outputs(breach_run: list[SimEvent]) -> None:
    compositions = {
        kind.letter + kind.design.spec_code: kind.composition for kind in PACK_KINDS.values()
    }
    checked = 0
    for item in breach_run:
        event = item.event
        if event["type"] != "recycled":
            continue
        code = event["batteries"][0]
        content = compositions[code[4] + code[5:7]]
        low = {m for m, (lo, _) in params.RECOVERY_RANGES.items() if m in params.MIN_RECOVERY}
        below = {
            m
            for m, kg in event["body"]["outputs"].items()
            if m in low and float(kg) < content[m] * params.MIN_RECOVERY[m]
        }
        above = {m for m, kg in event["body"]["outputs"].items() if float(kg) > content[m]}
        rules = {lab.rule for lab in item.labels}
        assert bool(below) == ("low_recovery" in rules)
        assert bool(above) == ("mass_balance" in rules)
        checked += 1
    assert checked > 100


def test_vin_two_packs_binds_two_packs(breach_run: list[SimEvent]) -> None:
    installed: dict[str, list[str]] = {}
    flagged = set()
    for item in breach_run:
        event = item.event
        if event["type"] == "installed":
            installed.setdefault(event["body"]["vin"], []).extend(event["batteries"])
            if any(lab.rule == "vin_two_packs" for lab in item.labels):
                flagged.add(event["body"]["vin"])
    doubles = {vin for vin, packs in installed.items() if len(packs) > 1}
    assert doubles == flagged
    assert doubles


def test_off_whitelist_flows_go_to_unlisted_firms(breach_run: list[SimEvent]) -> None:
    world = build_world(5, 1_500)
    treating = {
        f.credit_code: f for f in world.firms if {"echelon_firm", "recycler"} & set(f.roles)
    }
    flows = 0
    for item in breach_run:
        event = item.event
        firm = treating.get(str(event.get("counterparty")))
        if event["type"] != "shipped" or firm is None or item.refused:
            continue
        day = datetime.fromisoformat(event["occurred_at"]).date().toordinal()
        if any(lab.rule == "off_whitelist_flow" for lab in item.labels):
            assert firm.unlisted_through(day, day + 7)
        else:
            assert firm.listed_through(day, day + 7)
        flows += 1
    assert flows > 100


def test_parse_rates() -> None:
    rates = parse_rates(0.1, ["late_report=0.5", "reused_code=0"])
    assert rates["late_report"] == 0.5
    assert rates["reused_code"] == 0.0
    assert rates["mass_balance"] == 0.1
    assert parse_rates(None, []) == parse_rates(None, ["late_report=0.01"])
    with pytest.raises(ValidationError, match="unknown rule 'nonsense'"):
        parse_rates(None, ["nonsense=0.1"])
    with pytest.raises(ValidationError, match="RULE=RATE"):
        parse_rates(None, ["late_report"])
    with pytest.raises(ValidationError, match="RULE=RATE"):
        parse_rates(None, ["late_report=nan"])
    with pytest.raises(ValidationError, match="between 0 and 1") as info:
        parse_rates(None, ["late_report=1.5"])
    assert info.value.field == "violation"
    with pytest.raises(ValidationError) as info:
        parse_rates(-0.1, [])
    assert info.value.field == "violation_rate"


def test_labels_csv_round_trip(breach_run: list[SimEvent]) -> None:
    labels = [lab for item in breach_run for lab in item.labels]
    stream = io.StringIO()
    write = label_writer(stream)
    for lab in labels:
        write(lab)
    text = stream.getvalue()
    assert (
        text.splitlines()[0]
        == ",".join(LABEL_COLUMNS)
        == "rule,battery,enterprise,event_ref,detail"
    )
    assert read_labels(io.StringIO(text)) == labels
