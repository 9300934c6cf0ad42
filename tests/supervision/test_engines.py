"""The rules run unchanged on every engine, incrementally as on a sweep, and score well
against the simulator's ground truth."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from battrace.errors import BattraceError
from battrace.services.reporting import SourceItem, report_events
from battrace.simulate import SimConfig, ingest_simulation
from battrace.simulate.ingest import register_world
from battrace.simulate.stream import simulate_events
from battrace.simulate.violations import RULES as LABEL_RULES
from battrace.simulate.violations import Label
from battrace.simulate.world import build_world
from battrace.store import open_store
from battrace.store.base import Store
from battrace.supervision.alerts import iter_alerts, list_alerts
from battrace.supervision.config import RuleSettings
from battrace.supervision.engine import parquet_engine, store_engine
from battrace.supervision.export import export_parquet, is_export
from battrace.supervision.incremental import AlertUpdater
from battrace.supervision.rules import RULES
from battrace.supervision.score import score, score_alerts
from battrace.supervision.service import evaluate, sweep
from tests.builders import LFP_PACK, vin
from tests.supervision.scenario import Scenario

D = date(2024, 6, 3)


def _breaches(sc: Scenario) -> None:
    """One or more breaches of most rules."""
    r = sc.f["recycler"]
    sc.retired(1, D)
    sc.collected(2, D)
    rogue = sc.at_recycler(3, D, recycler=sc.rogue)
    assert rogue
    pack = sc.at_recycler(4, D)
    sc.report(
        "recycled",
        r,
        [pack],
        D + timedelta(days=20),
        input_mass_kg="400",
        outputs={"li": "2.0", "cu": "40"},
    )
    sc.report("shipped", r, [pack], D + timedelta(days=40), counterparty=sc.f["dismantler"])
    sc.report("produced", sc.f["battery_maker"], [pack], D, **LFP_PACK)
    _, v = sc.in_use(5, D)
    sc.report("vehicle_scrapped", sc.f["dismantler"], [], D + timedelta(days=30), vin=v)
    late = sc.pack(6, D)
    sc.report(
        "installed",
        sc.f["vehicle_maker"],
        [late],
        D + timedelta(days=5),
        reported=D + timedelta(days=90),
        vin=vin(66),
        certificate_date=(D + timedelta(days=5)).isoformat(),
    )


def test_same_findings_on_the_store_and_on_duckdb(store: Store, tmp_path: Path) -> None:
    sc = Scenario(store)
    _breaches(sc)
    as_of = D + timedelta(days=200)
    on_store = sc.findings(list(RULES), as_of)
    assert {f.rule for f in on_store} >= {
        "late_report",
        "retired_not_collected",
        "not_forwarded",
        "off_whitelist_flow",
        "mass_balance",
        "low_recovery",
        "reused_code",
        "event_after_end",
        "scrapped_without_battery",
    }
    manifest = export_parquet(store, tmp_path / "export")
    assert is_export(tmp_path / "export")
    assert manifest["tables"]["events"] == store.count("events")
    duck = parquet_engine(tmp_path / "export")
    try:
        on_duckdb = evaluate(duck, as_of=as_of)
    finally:
        duck.close()
    assert on_duckdb == on_store


def test_export_refuses_a_used_folder(sqlite_store: Store, tmp_path: Path) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("x")
    with pytest.raises(Exception, match="not empty"):
        export_parquet(sqlite_store, tmp_path / "used")
    with pytest.raises(Exception, match="not a battrace Parquet export"):
        parquet_engine(tmp_path / "used")


def _small_run() -> SimConfig:
    """3,000 vehicles with every breach injected often enough to show (few packs retire in
    a small run, so the after-life breaches get high rates)."""
    rates = dict.fromkeys(LABEL_RULES, 0.1)
    rates.update(late_report=0.01, reused_code=0.01, vin_two_packs=0.01)
    return SimConfig(batteries=3000, seed=11, rates=rates)


def test_incremental_updates_agree_with_a_sweep(tmp_path: Path) -> None:
    config = _small_run()
    as_of = config.horizon
    settings = RuleSettings()
    world = build_world(config.seed, config.batteries)
    items = list(simulate_events(config, world))
    with open_store(tmp_path / "inc.db") as store:
        register_world(store, world.firms)
        updater = AlertUpdater(store, settings=settings, as_of=as_of)
        flushes: list[dict[str, int]] = []
        accepted = [SourceItem(i.event) for i in items if not i.refused]
        for start in range(0, len(accepted), 3000):
            report_events(
                store, accepted[start : start + 3000], trust_reported_at=True, sinks=[updater]
            )
            flushes.append(updater.flush())
        for item in items:
            if item.refused:
                with pytest.raises(BattraceError):
                    report_events(store, [SourceItem(item.event)], trust_reported_at=True)
        assert sum(f.get("opened", 0) for f in flushes) > 0
        incremental = {a.id for a in iter_alerts(store) if a.found and a.battery is not None}
        engine = store_engine(store)
        try:
            full = evaluate(engine, as_of=as_of, settings=settings)
        finally:
            engine.close()
        battery_rules = {
            f.id
            for f in full
            if f.battery is not None
            and f.rule != "reused_code"
            and f.rule not in ("event_after_end", "unknown_code")
        }
        refused_rules = {
            a.id
            for a in iter_alerts(store)
            if a.rule in ("reused_code", "event_after_end", "unknown_code")
        }
        assert incremental - refused_rules == battery_rules
        # a sweep at the same day changes nothing it already knew and adds the refused ones
        result = sweep(store, as_of=as_of, settings=settings)
        assert result.reconciled["cleared"] == 0
        after = {a.id for a in iter_alerts(store) if a.found and a.battery is not None}
        assert battery_rules <= after


def test_precision_and_recall_against_the_simulator(tmp_path: Path) -> None:
    config = _small_run()
    labels: list[Label] = []
    with open_store(tmp_path / "sim.db") as store:
        ingest_simulation(store, config, labels=labels.append)
        result = sweep(store)
        assert result.to_dict()["total"] > 0
        csv = tmp_path / "labels.csv"
        with csv.open("w", encoding="utf-8") as out:
            out.write("rule,battery,enterprise,event_ref,detail\n")
            for lab in labels:
                out.write(f"{lab.rule},{lab.battery},{lab.enterprise},{lab.event_ref},x\n")
        report = score_alerts(store, csv)
        scored = {s.rule: s for s in report.scores}
        assert set(scored) == set(LABEL_RULES)  # every injected kind was labelled
        for rule, s in scored.items():
            assert s.labels > 0, rule
            assert s.precision is not None, s
            assert s.precision >= 0.99, s
            assert s.recall is not None, s
            assert s.recall >= 0.99, s
        assert list_alerts(store, rule="late_report", limit=1)


def test_score_counts_true_and_false_positives() -> None:
    labels = {("a", "1", "x"), ("a", "2", "x"), ("b", "3", "y")}
    alerts = {("a", "1", "x"), ("a", "9", "x"), ("c", "4", "z")}
    report = score(labels, alerts)
    by = {s.rule: s for s in report.scores}
    assert (by["a"].true_positives, by["a"].precision, by["a"].recall) == (1, 0.5, 0.5)
    assert (by["b"].alerts, by["b"].precision, by["b"].recall) == (0, None, 0.0)
    assert report.unlabelled == {"c": 1}
    assert report.worst() == 0.0
