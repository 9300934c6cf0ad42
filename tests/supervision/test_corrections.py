"""The rules judge what an event says once corrected (battrace.domain.corrections), on every
engine and on the incremental path: a date or an output corrected changes the verdict."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from battrace.domain.corrections import apply_corrections
from battrace.store.base import Store
from battrace.supervision.alerts import iter_alerts
from battrace.supervision.config import RuleSettings
from battrace.supervision.engine import parquet_engine
from battrace.supervision.export import export_parquet
from battrace.supervision.findings import Finding
from battrace.supervision.incremental import AlertUpdater
from battrace.supervision.service import evaluate
from tests.builders import LFP_PACK
from tests.supervision.scenario import Scenario, at

D = date(2024, 6, 3)  # a Monday, far from any holiday
AS_OF = D + timedelta(days=120)
LI = float(LFP_PACK["composition"]["li"])  # type: ignore[index]


@pytest.fixture
def sc(store: Store) -> Scenario:
    return Scenario(store)


def _correct(sc: Scenario, actor: str, pack: str, original: int, **changes: Any) -> int:
    fix = sc.report(
        "correction",
        sc.f[actor],
        [pack],
        D + timedelta(days=50),
        corrects=original,
        reason="typing error in the first report",
        changes=changes,
    )
    assert fix, sc.refused
    return fix


def _redate(sc: Scenario, pack: str, event: int, day: date) -> int:
    """Correct installation ``event``: it (and its certificate) happened on ``day``."""
    return _correct(
        sc,
        "vehicle_maker",
        pack,
        event,
        occurred_at=at(day),
        body={"certificate_date": day.isoformat()},
    )


def _late(sc: Scenario) -> set[int]:
    return {f.evidence[0] for f in sc.findings(["late_report"], AS_OF)}


def test_a_corrected_date_is_judged_not_the_reported_one(sc: Scenario) -> None:
    pack, event = sc.install(1, D, reported=D + timedelta(days=40))
    assert event in _late(sc)  # 40 days after the fact: more than 15 working days
    # the installation really happened four weeks later than first typed: on time
    later = D + timedelta(days=28)
    _redate(sc, pack, event, later)
    assert event not in _late(sc)


def test_a_correction_can_make_a_report_late(sc: Scenario) -> None:
    pack, event = sc.install(1, D, reported=D + timedelta(days=3))
    other, untouched = sc.install(2, D, reported=D + timedelta(days=3))
    assert _late(sc) == set()
    earlier = D - timedelta(days=20)
    fix = _redate(sc, pack, event, earlier)
    (found,) = sc.findings(["late_report"], AS_OF)
    # the breach is the original report's; the correction itself has no deadline
    assert (found.evidence, found.battery, found.subject) == ((event,), pack, str(event))
    assert fix not in _late(sc)
    assert untouched not in _late(sc)
    # a date corrected alone (the certificate untouched) moves nothing for an installation,
    # whose deadline runs from the certificate
    _correct(sc, "vehicle_maker", other, untouched, occurred_at=at(earlier))
    assert _late(sc) == {event}


def test_the_latest_correction_wins(sc: Scenario) -> None:
    pack, event = sc.install(1, D, reported=D + timedelta(days=40))
    later = D + timedelta(days=28)
    _correct(sc, "vehicle_maker", pack, event, body={"certificate_date": later.isoformat()})
    assert _late(sc) == set()
    _correct(sc, "vehicle_maker", pack, event, body={"certificate_date": D.isoformat()})
    assert _late(sc) == {event}


def _recycle(sc: Scenario, n: int, outputs: dict[str, str]) -> tuple[str, int]:
    pack = sc.at_recycler(n, D)
    event = sc.report(
        "recycled",
        sc.f["recycler"],
        [pack],
        D + timedelta(days=20),
        input_mass_kg="400",
        outputs=outputs,
    )
    return pack, event


def _balance(sc: Scenario) -> list[tuple[str, str | None]]:
    found = sc.findings(["mass_balance", "low_recovery"], AS_OF)
    return [(f.rule, f.battery) for f in found]


def test_corrected_outputs_are_judged(sc: Scenario) -> None:
    honest = {"li": f"{LI * 0.95:.3f}"}
    inflated_pack, inflated = _recycle(sc, 1, {**honest, "cu": "30"})
    typo_pack, typo = _recycle(sc, 2, {"li": f"{LI * 0.50:.3f}"})
    assert _balance(sc) == [("low_recovery", typo_pack), ("mass_balance", inflated_pack)]
    # the outputs are replaced as a whole: copper goes, lithium stays
    _correct(sc, "recycler", inflated_pack, inflated, body={"outputs": honest})
    _correct(sc, "recycler", typo_pack, typo, body={"outputs": honest})
    assert _balance(sc) == []


def _keys(found: list[Finding]) -> set[tuple[str, str | None, str]]:
    return {(f.rule, f.battery, f.subject) for f in found}


def test_the_parquet_engine_applies_corrections_alike(sc: Scenario, tmp_path: Path) -> None:
    pack, event = sc.install(1, D, reported=D + timedelta(days=3))
    earlier = D - timedelta(days=20)
    _correct(sc, "vehicle_maker", pack, event, body={"certificate_date": earlier.isoformat()})
    inflated_pack, inflated = _recycle(sc, 2, {"li": f"{LI * 0.95:.3f}"})
    _correct(sc, "recycler", inflated_pack, inflated, body={"outputs": {"cu": "30"}})
    rules = ["late_report", "mass_balance", "low_recovery"]
    stored = sc.findings(rules, AS_OF)
    export_parquet(sc.store, tmp_path / "export")
    engine = parquet_engine(tmp_path / "export")
    try:
        columnar = evaluate(engine, rules=rules, as_of=AS_OF)
    finally:
        engine.close()
    assert _keys(stored) == _keys(columnar)
    assert {("late_report", pack), ("mass_balance", inflated_pack)} <= {
        (r, b) for r, b, _ in _keys(stored)
    }


def _alerts(store: Store, rule: str) -> set[tuple[str, str | None, str]]:
    return {
        (a.rule, a.battery, a.subject) for a in iter_alerts(store) if a.found and a.rule == rule
    }


@pytest.mark.parametrize("where", ["here", "worker"])
def test_incremental_updates_follow_corrections_and_agree_with_a_sweep(
    sqlite_store: Store, where: str
) -> None:
    sc = Scenario(sqlite_store)
    updater = AlertUpdater(sqlite_store, settings=RuleSettings(), as_of=AS_OF)
    # the worker makes the facts of new events as they come: a correction of one of them
    # has it make them again
    if where == "worker":
        assert updater.start_worker(min_cores=1)
    sc.sinks.append(updater)

    def step() -> set[tuple[str, str | None, str]]:
        updater.flush()
        found = _alerts(sqlite_store, "late_report")
        assert found == _keys(sc.findings(["late_report"], AS_OF))  # what a sweep finds
        return found

    pack, event = sc.install(1, D, reported=D + timedelta(days=40))
    other, kept = sc.install(2, D, reported=D + timedelta(days=40))
    assert step() == {("late_report", pack, str(event)), ("late_report", other, str(kept))}
    later = D + timedelta(days=28)
    _correct(sc, "vehicle_maker", pack, event, body={"certificate_date": later.isoformat()})
    # cleared by the update (the other battery's late report is left as it was)
    assert step() == {("late_report", other, str(kept))}
    _correct(sc, "vehicle_maker", pack, event, body={"certificate_date": D.isoformat()})
    assert step() == {("late_report", pack, str(event)), ("late_report", other, str(kept))}
    # an original and its correction in one update
    third, fresh = sc.install(3, D, reported=D + timedelta(days=3))
    earlier = D - timedelta(days=20)
    _correct(sc, "vehicle_maker", third, fresh, body={"certificate_date": earlier.isoformat()})
    assert ("late_report", third, str(fresh)) in step()
    updater.close()


def test_apply_corrections_in_order() -> None:
    fixed = apply_corrections(
        "2024-06-03T02:00:00.000000Z",
        "310000",
        {"vin": "A", "outputs": {"li": "1", "co": "2"}},
        [
            {"changes": {"occurred_at": "2024-06-04T10:00:00+08:00", "body": {"vin": "B"}}},
            {"changes": {"body": {"outputs": {"li": "3"}}, "place": "320000"}},
            {"changes": {"body": {"vin": "C"}}},
            {"changes": "not an object"},
        ],
    )
    assert fixed.occurred_at == "2024-06-04T10:00:00+08:00"
    assert fixed.place == "320000"
    assert fixed.body == {"vin": "C", "outputs": {"li": "3"}}
    unchanged = apply_corrections("t", None, {"a": 1}, [])
    assert (unchanged.occurred_at, unchanged.place, unchanged.body) == ("t", None, {"a": 1})
