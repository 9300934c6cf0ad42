"""Memory while importing millions of events, and history-query latency in a large store.

Imports a simulated nation (``battrace simulate``) of about ``--events`` events into a fresh
SQLite store with the real import path, sampling resident memory after every chunk; then times
``battery_history`` (the service a ``battrace show`` or API read uses) and the bare store query
for random batteries.

    python -m benchmarks.bench_scale --events 10000000 [--queries 2000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from battrace.services.importing import import_items, read_file
from battrace.services.queries import battery_history
from battrace.store import open_store
from benchmarks.common import (
    machine,
    percentile,
    register_sim_firms,
    rss_mib,
    sim_file,
    write_section,
)


def run(events: int, queries: int, db: Path) -> dict[str, object]:
    path, count = sim_file(events)
    samples: list[tuple[int, float]] = [(0, rss_mib())]
    with open_store(db) as store:
        register_sim_firms(store, path)
    start = time.perf_counter()
    with open_store(db) as store, path.open("rb") as f:
        import_items(
            store,
            read_file(f, "ndjson", "events"),
            on_progress=lambda n: samples.append((n, rss_mib())),
        )
    import_seconds = time.perf_counter() - start
    with open_store(db) as store:
        codes = [
            row[0]
            for row in store._connection().query(
                "SELECT code FROM batteries ORDER BY random() LIMIT ?", (queries,)
            )
        ]
        service, bare = [], []
        for code in codes:
            t0 = time.perf_counter()
            battery_history(store, code)
            t1 = time.perf_counter()
            store.history(code)
            t2 = time.perf_counter()
            service.append((t1 - t0) * 1000)
            bare.append((t2 - t1) * 1000)
        stored = store.count("events")
    return {
        "requested": events,
        "events": count,
        "stored": stored,
        "import_seconds": import_seconds,
        "samples": samples,
        "service_ms": service,
        "bare_ms": bare,
    }


def report(r: dict[str, object]) -> str:
    samples = r["samples"]
    assert isinstance(samples, list)
    total = samples[-1][0]
    marks = [samples[0]] + [
        min(samples, key=lambda s, q=q: abs(s[0] - total * q)) for q in (0.2, 0.4, 0.6, 0.8, 1.0)
    ]
    service, bare = r["service_ms"], r["bare_ms"]
    assert isinstance(service, list)
    assert isinstance(bare, list)
    rss = " | ".join(f"{n:,}: {m:.0f} MiB" for n, m in marks)
    peak = max(m for _, m in samples)
    return "\n".join(
        [
            f"Machine: {machine()}",
            "",
            f"Command: `python -m benchmarks.bench_scale --events {r['requested']}`"
            f" ({r['events']:,} simulated events, `battrace simulate` seed 7)",
            "",
            f"- Imported {r['stored']:,} events in {r['import_seconds']:.0f} s"
            f" ({int(r['stored']) / float(r['import_seconds']):,.0f} events/s, one transaction).",
            f"- Resident memory by events imported: {rss}; peak {peak:.0f} MiB.",
            f"- History of one battery with {r['stored']:,} events in the store"
            f" ({len(service)} random batteries): service `battery_history` p50"
            f" {percentile(service, 50):.2f} ms, p99 {percentile(service, 99):.2f} ms; bare store"
            f" query p50 {percentile(bare, 50):.2f} ms, p99 {percentile(bare, 99):.2f} ms"
            " (target p99 < 5 ms).",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--keep", type=Path, default=None, help="keep the database here")
    args = parser.parse_args()
    random.seed(1)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        db = args.keep / f"scale-{args.events}.db"
        db.unlink(missing_ok=True)
        result = run(args.events, args.queries, db)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            result = run(args.events, args.queries, Path(tmp) / "scale.db")
    text = report(result)
    print(text)
    write_section(f"Scale: {args.events / 1e6:g}M events (issue 2)", text)


if __name__ == "__main__":
    main()
