"""HTTP API load: batch reporting rate and single-report latency under 50 concurrent clients.

The server is `battrace serve` (production mode: uvicorn, no reload, no access log) in its own
process on a fresh SQLite store holding the simulated nation's enterprises; the load comes from
this process over loopback (httpx). An enterprise writes only as itself, so the load is one
battery maker's own events from the simulated data: its `produced` events (batteries with their
full spec) followed by its `shipped` events, which need nothing from other enterprises.

- Batch: the events in `POST /api/v1/events/batch` requests of `--batch` events each; the
  baseline is the same events through `import_items` (the service the endpoint calls) in this
  process, on another fresh store, in the same run.
- Single: `--clients` concurrent clients each `POST /api/v1/events` one `produced` event at a
  time (another maker's events), latency per request as the client sees it.

    python -m benchmarks.bench_api [--events 400000] [--batch 5000] [--clients 50]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson

from battrace.services.importing import import_items
from battrace.services.reporting import SourceItem
from battrace.services.tokens import create_token
from battrace.store import open_store
from benchmarks.common import (
    free_port,
    machine,
    percentile,
    register_sim_firms,
    serve,
    sim_file,
    timed,
    write_section,
)


def maker_events(path: Path, rank: int) -> list[dict[str, Any]]:
    """The ``produced`` then ``shipped`` events of the ``rank``-th busiest battery maker, as a
    live client would send them (no ``reported_at``)."""
    producers: Counter[str] = Counter()
    with path.open("rb") as f:
        for line in f:
            if b'"produced"' in line:
                event = orjson.loads(line)
                if event["type"] == "produced":
                    producers[event["actor"]] += 1
    maker = producers.most_common(rank + 1)[rank][0]
    produced, shipped, made = [], [], set()
    with path.open("rb") as f:
        for line in f:
            if maker.encode() not in line:
                continue
            event = orjson.loads(line)
            if event["actor"] != maker:
                continue
            del event["reported_at"]  # a live report's time is the platform's to set
            if event["type"] == "produced":
                produced.append(event)
                made.update(event["batteries"])
            elif event["type"] == "shipped" and set(event["batteries"]) <= made:
                shipped.append(event)
    return produced + shipped


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def batch_rate(url: str, token: str, events: list[dict[str, Any]], size: int) -> float:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    bodies = [orjson.dumps(part) for part in _chunks(events, size)]
    with httpx.Client(base_url=url, headers=headers, timeout=600) as client:
        start = time.perf_counter()
        for body in bodies:
            answer = client.post("/api/v1/events/batch", content=body)
            if answer.status_code != 201:
                raise RuntimeError(f"batch refused: {answer.status_code} {answer.text[:300]}")
        return len(events) / (time.perf_counter() - start)


async def _single(url: str, token: str, events: list[dict[str, Any]], clients: int) -> list[float]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for event in events:
        queue.put_nowait(orjson.dumps(event))
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=120, limits=limits
    ) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                t0 = time.perf_counter()
                answer = await client.post("/api/v1/events", content=body)
                latencies.append((time.perf_counter() - t0) * 1000)
                if answer.status_code != 201:
                    raise RuntimeError(f"report refused: {answer.status_code} {answer.text[:300]}")

        await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies


def run(events: int, size: int, clients: int, singles: int) -> dict[str, Any]:
    path, _ = sim_file(events)
    batch_events = maker_events(path, 0)
    single_events = [e for e in maker_events(path, 1) if e["type"] == "produced"][:singles]
    with tempfile.TemporaryDirectory() as tmp:
        direct_db = Path(tmp) / "direct.db"
        with open_store(direct_db) as store:
            register_sim_firms(store, path)
            direct = len(batch_events) / timed(
                lambda: import_items(store, (SourceItem(e) for e in batch_events))
            )
        db = Path(tmp) / "api.db"
        with open_store(db) as store:
            register_sim_firms(store, path)
            tokens = [
                create_token(store, events[0]["actor"], label="bench")[1]
                for events in (batch_events, single_events)
            ]
        port = free_port()
        server = serve(db, port, {"BATTRACE_API_MAX_BATCH_ITEMS": "10000"})
        try:
            url = f"http://127.0.0.1:{port}"
            rate = batch_rate(url, tokens[0], batch_events, size)
            latencies = asyncio.run(_single(url, tokens[1], single_events, clients))
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {
        "batch_events": len(batch_events),
        "batch_rate": rate,
        "direct_rate": direct,
        "singles": len(latencies),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "single_rate": len(latencies) / (sum(latencies) / 1000 / clients),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=400_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--singles", type=int, default=3000)
    args = parser.parse_args()
    r = run(args.events, args.batch, args.clients, args.singles)
    text = "\n".join(
        [
            f"Machine: {machine()}",
            "",
            f"Command: `python -m benchmarks.bench_api --events {args.events} --batch {args.batch}"
            f" --clients {args.clients} --singles {args.singles}` (server: `battrace serve`,"
            " SQLite, own process; load over loopback from the benchmark process)",
            "",
            f"- Batch reporting over HTTP: {r['batch_events']:,} events of one battery maker in"
            f" batches of {args.batch:,}: **{r['batch_rate']:,.0f} events/s** (target >= 10,000);"
            f" the same events through `import_items` in-process: {r['direct_rate']:,.0f}"
            f" events/s (HTTP reaches {r['batch_rate'] / r['direct_rate']:.0%} of it).",
            f"- Single reports, {args.clients} concurrent clients, {r['singles']:,} `produced`"
            f" events: p50 {r['p50']:.1f} ms, **p99 {r['p99']:.1f} ms** (target < 20 ms),"
            f" about {r['single_rate']:,.0f} reports/s.",
        ]
    )
    print(text)
    write_section("HTTP API (issue 5)", text)


if __name__ == "__main__":
    main()
