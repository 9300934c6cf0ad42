"""Bulk import rate on SQLite (against raw executemany, same run) and PostgreSQL.

Both sides start from the same NDJSON file of simulated lifecycle events (``battrace
simulate``). The baseline reads the lines, decodes them and inserts the same rows with one
``sqlite3.executemany`` in one transaction, with no validation, state machine or battery states.
battrace runs its real import path (``import_items``: validate, state machine, custody, battery
states, links, log, commit).

    python -m benchmarks.bench_import [--events N] [--repeat R] [--no-postgres]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import uuid
from pathlib import Path

import orjson
import psycopg

from battrace.services.importing import import_items, read_file
from battrace.store import open_store
from benchmarks.common import machine, median, register_sim_firms, sim_file, timed, write_section

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def raw_baseline(path: Path, db: Path) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        "CREATE TABLE raw_events (id INTEGER PRIMARY KEY, type TEXT, actor TEXT,"
        " counterparty TEXT, occurred_at TEXT, reported_at TEXT, place TEXT, ref TEXT,"
        " corrects INTEGER, batteries TEXT, body TEXT)"
    )
    conn.execute("BEGIN")
    with path.open("rb") as f:
        rows = (
            (
                e["type"],
                e["actor"],
                e.get("counterparty"),
                e["occurred_at"],
                e.get("reported_at"),
                e.get("place"),
                e.get("ref"),
                None,
                orjson.dumps(e["batteries"]).decode(),
                orjson.dumps(e.get("body", {}), option=orjson.OPT_SORT_KEYS).decode(),
            )
            for e in map(orjson.loads, f)
        )
        conn.executemany(
            "INSERT INTO raw_events (type, actor, counterparty, occurred_at, reported_at, place,"
            " ref, corrects, batteries, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    conn.execute("COMMIT")
    conn.close()


def battrace_import(path: Path, target: str, *, log: bool = True) -> float:
    """Seconds to import the events file (the enterprises are registered first, untimed)."""
    with open_store(target) as store:
        register_sim_firms(store, path)
        with path.open("rb") as f:
            return timed(lambda: import_items(store, read_file(f, "ndjson", "events"), log=log))


def _pg_url() -> tuple[str, str]:
    name = f"battrace_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name, PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def _pg_drop(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(events: int, repeat: int, postgres: bool) -> dict[str, float]:
    path, count = sim_file(events)
    raw_times: list[float] = []
    ours: list[float] = []
    unlogged: list[float] = []
    pg_times: list[float] = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            raw_times.append(timed(lambda: raw_baseline(path, Path(tmp) / "raw.db")))
            unlogged.append(battrace_import(path, str(Path(tmp) / "u.db"), log=False))
            ours.append(battrace_import(path, str(Path(tmp) / "b.db")))
        if postgres:
            name, url = _pg_url()
            try:
                pg_times.append(battrace_import(path, url))
            finally:
                _pg_drop(name)
    result = {
        "requested": events,
        "events": count,
        "raw_rate": count / median(raw_times),
        "sqlite_rate": count / median(ours),
        "unlogged_rate": count / median(unlogged),
    }
    if pg_times:
        result["postgres_rate"] = count / median(pg_times)
    return result


def report(result: dict[str, float], repeat: int) -> str:
    ratio = result["sqlite_rate"] / result["raw_rate"]
    lines = [
        f"Machine: {machine()}",
        "",
        f"Command: `python -m benchmarks.bench_import --events {int(result['requested'])}`"
        f" ({int(result['events']):,} simulated lifecycle events, `battrace simulate` seed 7;"
        f" median of {repeat} runs, same process)",
        "",
        "| path | events/s | target |",
        "|---|---|---|",
        f"| raw `sqlite3.executemany` of the same rows (baseline) | {result['raw_rate']:,.0f} | |",
        f"| battrace import, SQLite, without the log (only to price the log) |"
        f" {result['unlogged_rate']:,.0f} | |",
        f"| battrace import, SQLite (validated, state machine, custody, logged, committed) |"
        f" {result['sqlite_rate']:,.0f} | >= 25,000 and >= 10 % of raw |",
    ]
    if "postgres_rate" in result:
        lines.append(
            f"| battrace import, PostgreSQL (logged) | {result['postgres_rate']:,.0f} | >= 10,000 |"
        )
    cost = 1 - result["sqlite_rate"] / result["unlogged_rate"]
    lines += [
        "",
        f"SQLite import / raw baseline: **{ratio:.1%}** (target >= 10 %).",
        f"Throughput the log costs (leaves, tree nodes, checkpoints in the same transaction):"
        f" **{cost:.1%}** (issue 3 target <= 25 %).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    result = run(args.events, args.repeat, not args.no_postgres)
    text = report(result, args.repeat)
    print(text)
    write_section("Bulk import (issue 2)", text)


if __name__ == "__main__":
    main()
