"""The SQLite schema's indexes and what uses them (SQLite only: query plans, old files)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from battrace.services.reporting import SourceItem, report_events
from battrace.store import BatteryFilter, Store, open_store
from battrace.store.schema import SCHEMA_VERSION, migration_statements
from tests.builders import code, produced


def _indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    return {r[0] for r in rows}


def _plan(store: Store, f: BatteryFilter) -> str:
    """The query plan of the statement ``list_batteries(f)`` runs."""
    conn: Any = store._connection()
    seen: list[tuple[str, Any]] = []
    query = conn.query
    conn.query = lambda sql, params=(): seen.append((sql, params)) or query(sql, params)
    try:
        store.list_batteries(f)
    finally:
        del conn.query
    sql, params = next((s, p) for s, p in seen if "FROM batteries" in s)
    rows = conn.raw.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    return " | ".join(str(r[-1]) for r in rows)


def test_a_makers_list_is_a_range_of_the_primary_key(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker = firms["battery_maker"]
    report_events(sqlite_world, [SourceItem(produced(maker, [code(n=i)])) for i in (1, 2)])
    plan = _plan(sqlite_world, BatteryFilter(maker=maker.credit_code))
    assert "sqlite_autoindex_batteries_1 (code>? AND code<?)" in plan
    assert "SCAN" not in plan
    assert "TEMP B-TREE" not in plan
    # the other list filters keep their indexes
    assert "batteries_holder" in _plan(sqlite_world, BatteryFilter(holder=maker.credit_code))


def test_migration_drops_the_maker_index_of_an_older_file(tmp_path: Path, firms) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as raw:  # a file as the version before wrote it
        for version in range(1, SCHEMA_VERSION):
            for statement in migration_statements("sqlite", version):
                raw.execute(statement)
        raw.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION - 1),))
    assert "batteries_maker" in _indexes(path)
    with open_store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
    assert "batteries_maker" not in _indexes(path)
    assert {"batteries_holder", "batteries_state", "batteries_province"} <= _indexes(path)
