"""The SQLite schema's indexes and what uses them (SQLite only: query plans, old files)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from battrace.services.demo import register_demo_firms
from battrace.services.reporting import SourceItem, report_event, report_events
from battrace.store import BatteryFilter, Store, open_store
from battrace.store.schema import SCHEMA_VERSION, migration_statements
from tests.builders import code, event, produced


def _indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    return {r[0] for r in rows}


def _plans(store: Store, f: BatteryFilter) -> list[str]:
    """The query plans of the statements ``list_batteries(f)`` runs."""
    conn: Any = store._connection()
    seen: list[tuple[str, Any]] = []
    query = conn.query
    conn.query = lambda sql, params=(): seen.append((sql, params)) or query(sql, params)
    try:
        store.list_batteries(f)
    finally:
        del conn.query
    plans = []
    for sql, params in seen:
        if "FROM batteries" in sql or "FROM battery_parties" in sql:
            rows = conn.raw.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
            plans.append(" | ".join(str(r[-1]) for r in rows))
    return plans


def _plan(store: Store, f: BatteryFilter) -> str:
    (plan,) = _plans(store, f)
    return plan


def test_a_makers_list_is_a_range_of_the_primary_key(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker = firms["battery_maker"]
    report_events(sqlite_world, [SourceItem(produced(maker, [code(n=i)])) for i in (1, 2)])
    plan = _plan(sqlite_world, BatteryFilter(maker=maker.credit_code))
    assert "sqlite_autoindex_batteries_1 (code>? AND code<?)" in plan
    assert "SCAN" not in plan
    assert "TEMP B-TREE" not in plan
    # the other list filters keep their indexes
    assert "batteries_holder" in _plan(sqlite_world, BatteryFilter(holder=maker.credit_code))


def test_an_enterprises_list_walks_its_own_batteries(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker, vm = firms["battery_maker"], firms["vehicle_maker"]
    report_events(sqlite_world, [SourceItem(produced(maker, [code(n=i)])) for i in (1, 2)])
    report_event(sqlite_world, event("shipped", maker, [code(n=1)], counterparty=vm))
    parties, held = _plans(sqlite_world, BatteryFilter(party=vm.credit_code, after=code(n=0)))
    # a range of battery_parties' key, each battery by its primary key, nothing sorted
    assert "SEARCH p USING PRIMARY KEY (party=? AND code>?)" in parties
    assert "SEARCH b USING INDEX sqlite_autoindex_batteries_1 (code=?)" in parties
    assert "batteries_holder (holder=? AND code>?)" in held
    for plan in (parties, held):
        assert "SCAN" not in plan
        assert "TEMP B-TREE" not in plan


def _old_file(path: Path, version: int) -> None:
    """A database file as the code at schema ``version`` created it (no data)."""
    with sqlite3.connect(path) as raw:
        for v in range(1, version + 1):
            for statement in migration_statements("sqlite", v):
                raw.execute(statement)
        raw.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(version),))


def test_migration_drops_the_maker_index_of_an_older_file(tmp_path: Path, firms) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "old.db"
    _old_file(path, 5)
    assert "batteries_maker" in _indexes(path)
    with open_store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
    assert "batteries_maker" not in _indexes(path)
    assert {"batteries_holder", "batteries_state", "batteries_province"} <= _indexes(path)


def _pairs(path: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(path) as raw:
        return set(raw.execute("SELECT party, code FROM battery_parties").fetchall())


def test_migration_fills_battery_parties_from_the_events_of_an_older_file(
    tmp_path: Path, firms
) -> None:  # type: ignore[no-untyped-def]
    maker, vm = firms["battery_maker"], firms["vehicle_maker"]
    path = tmp_path / "old.db"
    with open_store(path) as store:  # events written, then the table taken back to version 6
        register_demo_firms(store)
        report_events(store, [SourceItem(produced(maker, [code(n=i)])) for i in (1, 2)])
        report_event(store, event("shipped", maker, [code(n=2)], counterparty=vm))
    written = _pairs(path)
    assert written == {
        (maker.credit_code, code(n=1)),
        (maker.credit_code, code(n=2)),
        (vm.credit_code, code(n=2)),
    }
    with sqlite3.connect(path) as raw:
        raw.execute("DROP TABLE battery_parties")
        raw.execute("DROP INDEX events_batteryless_actor")
        raw.execute("DROP INDEX events_batteryless_counterparty")
        raw.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    with open_store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        listed = store.list_batteries(BatteryFilter(party=vm.credit_code))
    assert _pairs(path) == written
    assert {"events_batteryless_actor", "events_batteryless_counterparty"} <= _indexes(path)
    assert [b.code for b in listed] == [code(n=2)]
