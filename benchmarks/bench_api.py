"""HTTP API load: batch reporting rate and single-report latency under 50 concurrent clients.

The server is `battrace serve` (production mode: uvicorn, no reload, no access log) in its own
process on a fresh SQLite store holding the simulated nation's enterprises; the load comes from
this process over loopback (httpx). An enterprise writes only as itself, so the load is one
battery maker's own events from the simulated data: its `produced` events (batteries with their
full spec) followed by its `shipped` events, which need nothing from other enterprises.

- Batch: the events in `POST /api/v1/events/batch` requests of `--batch` events each; the
  baseline is the same events through `import_items` (the service the endpoint calls) in this
  process, on another fresh store, in the same run.
- Single: wrk (Debian's package; `make bench` installs it) holds `--clients` connections, each
  a client that `POST /api/v1/events` one `produced` event at a time (the other makers' events,
  each with its maker's token), latency per request as wrk sees it. Twice: closed loop (each
  client sends its next report as soon as the last is answered: the server's capacity, and
  its latency at saturation) and paced (each client waits a random 0 to 2 x `--think` ms
  between reports, like enterprise systems reporting as things happen). The baseline is the
  server's own group-commit writer fed in this process with groups of 1 and of `--clients`
  reports, on a copy of the same store: what a report costs without HTTP.
- Side by side: the closed loop again on two fresh servers, one with the reports' writer in
  a worker process (the default), one with it in a thread of the server's process.
- Dashboard: the paced run again on fresh copies of a store holding the batch's events, with
  the supervision's updates off (``BATTRACE_SUPERVISION_SECONDS`` a day) to see the dashboard
  alone: without a visitor; then with a provincial regulator reading the map page every
  second and the figures rebuilt every 5 s (``BATTRACE_WEB_FIGURE_SECONDS=5``), once with
  the figures' engine in a worker process (the default) and once in a thread of the server.
- Start: before those, the paced run for the first seconds of a fresh server on such a
  store, from its first ``/health`` answer (its workers' start-up, the national figures).

    python -m benchmarks.bench_api [--events 1000000] [--batch 5000] [--clients 50]
        [--seconds 15] [--think 100]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson

from battrace.api.context import log_options
from battrace.api.group_commit import GroupWriter, Report
from battrace.api.storage import StoreAccess
from battrace.config import load_settings
from battrace.services.importing import import_items
from battrace.services.reporting import SourceItem
from battrace.services.tokens import create_token
from battrace.store import open_store
from benchmarks.common import (
    copy_synced,
    free_port,
    machine,
    median,
    register_sim_firms,
    serve,
    sim_file,
    timed,
    write_section,
)

# wrk's script: each connection sends the next unsent line of BODIES ("token TAB event"), from
# line OFFSET on; DELAY > 0 makes each connection wait a random 0..2*DELAY ms between requests;
# at the end one JSON line with the counts and latency percentiles (microseconds)
WRK_SCRIPT = r"""
local tokens, bodies = {}, {}
local offset = tonumber(os.getenv("OFFSET") or "0")
local n = 0
for line in io.lines(os.getenv("BODIES")) do
  n = n + 1
  if n > offset then
    local t, b = line:match("([^\t]+)\t(.*)")
    tokens[#tokens + 1] = t; bodies[#bodies + 1] = b
  end
end
local next_body = 0
function request()
  next_body = next_body + 1
  if next_body > #bodies then
    wrk.thread:stop()
    next_body = #bodies
  end
  return wrk.format("POST", "/api/v1/events", {
    ["Authorization"] = "Bearer " .. tokens[next_body],
    ["Content-Type"] = "application/json"}, bodies[next_body])
end
local pause = tonumber(os.getenv("DELAY") or "0")
if pause > 0 then
  function delay() return math.random(0, 2 * pause) end
end
function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "seconds": %f, "status_errors": %d, "socket_errors": %d,'
    .. ' "p50": %d, "p90": %d, "p99": %d, "max": %d}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


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


def wrk_run(
    url: str, bodies: Path, offset: int, clients: int, seconds: int, think_ms: int
) -> dict[str, Any]:
    """One wrk run from line ``offset`` of ``bodies``; its JSON summary (latencies in ms)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench_api needs wrk (Debian's package wrk; `make bench` installs it)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT)
        script.flush()
        out = subprocess.run(
            [
                wrk,
                "-t1",
                f"-c{clients}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                url,
            ],
            env={"BODIES": str(bodies), "OFFSET": str(offset), "DELAY": str(think_ms)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return parse_wrk(out)


def parse_wrk(output: str) -> dict[str, Any]:
    """The JSON line the script's ``done`` prints, latencies turned to milliseconds; refuses a
    run where any request failed (also when wrk ran out of events and sent one again)."""
    line = next(x for x in output.splitlines() if x.startswith("{"))
    found: dict[str, Any] = json.loads(line)
    if found["status_errors"] or found["socket_errors"]:
        raise RuntimeError(f"some reports failed: {found}")
    for key in ("p50", "p90", "p99", "max"):
        found[key] = found[key] / 1000
    found["rate"] = found["requests"] / found["seconds"]
    return found


def write_bodies(path: Path, events: list[dict[str, Any]], tokens: dict[str, str]) -> None:
    """The wrk script's input: a line per event, its actor's token, a tab, the event."""
    with path.open("wb") as out:
        for event in events:
            out.write(tokens[event["actor"]].encode() + b"\t" + orjson.dumps(event) + b"\n")


def writer_rate(
    db: Path, events: list[dict[str, Any]], tokens: dict[str, str], group: int
) -> float:
    """Reports/s of the API's group-commit writer alone, fed ``group`` reports at a time."""
    access = StoreAccess(str(db), readers=1)
    settings = load_settings()
    writer = GroupWriter(access, lambda: log_options(settings), 24)
    times = []
    try:
        for start in range(0, len(events) - group + 1, group):
            reports = [
                Report("", e, token=tokens[e["actor"]]) for e in events[start : start + group]
            ]
            began = time.perf_counter()
            writer.commit_group(reports)
            times.append((time.perf_counter() - began) / group)
            if any(r.answer.result().status != 201 for r in reports):
                raise RuntimeError("the writer refused a report")
    finally:
        writer.close()
        access.close()
    return 1 / median(times)


#: the dashboard page a visitor reads (figures: provinces, collection, map metrics)
VISITED = "/ui/map"


def dashboard_run(
    url: str, bodies: Path, clients: int, seconds: int, think: int, cookie: str | None
) -> tuple[dict[str, Any], list[float]]:
    """The paced run while, with ``cookie`` (a regulator's token), a visitor reads
    :data:`VISITED` every second; the run's summary and the page times (s)."""
    stop = threading.Event()
    pages: list[float] = []

    def visit() -> None:
        with httpx.Client(base_url=url, cookies={"battrace_token": cookie or ""}, timeout=120) as c:
            while not stop.is_set():
                began = time.perf_counter()
                answer = c.get(VISITED)
                if answer.status_code != 200:
                    raise RuntimeError(f"{VISITED}: {answer.status_code} {answer.text[:300]}")
                pages.append(time.perf_counter() - began)
                stop.wait(1)

    visitor = threading.Thread(target=visit, daemon=True) if cookie else None
    if visitor is not None:
        visitor.start()
    try:
        found = wrk_run(url, bodies, 0, clients, seconds, think)
    finally:
        stop.set()
        if visitor is not None:
            visitor.join()
    return found, pages


def _dashboard(
    tmp: Path,
    pristine: Path,
    batch_events: list[dict[str, Any]],
    bodies: Path,
    regulator: str,
    args: tuple[int, int, int],
) -> dict[str, Any]:
    """The dashboard comparison (see the module docstring) on copies of ``pristine`` with
    ``batch_events`` imported."""
    clients, seconds, think = args
    base = tmp / "dashboard.db"
    copy_synced(pristine, base)
    with open_store(base) as store:
        import_items(store, (SourceItem(e) for e in batch_events))
    out: dict[str, Any] = {}
    # the first seconds of a server: paced reports from the moment it answers /health
    copy = tmp / "dashboard-start.db"
    copy_synced(base, copy)
    port = free_port()
    server = serve(copy, port, {"BATTRACE_SUPERVISION_SECONDS": "86400"})
    try:
        out["start"] = wrk_run(f"http://127.0.0.1:{port}", bodies, 0, clients, START_SECONDS, think)
    finally:
        server.terminate()
        server.wait(timeout=30)
    for name, worker, cookie in (
        ("alone", "process", None),
        ("process", "process", regulator),
        ("thread", "thread", regulator),
    ):
        copy = tmp / f"dashboard-{name}.db"
        copy_synced(base, copy)
        env = {
            "BATTRACE_SUPERVISION_SECONDS": "86400",
            "BATTRACE_WEB_FIGURE_SECONDS": "5",
            "BATTRACE_WEB_FIGURE_WORKER": worker,
        }
        port = free_port()
        server = serve(copy, port, env)
        try:
            url = f"http://127.0.0.1:{port}"
            # the national figures first (a page after the start waits for them once)
            httpx.get(url + VISITED, cookies={"battrace_token": regulator}, timeout=120)
            out[name], out[f"{name}_pages"] = dashboard_run(
                url, bodies, clients, seconds * 2, think, cookie
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    return out


def run(events: int, size: int, clients: int, seconds: int, think: int) -> dict[str, Any]:
    path, _ = sim_file(events)
    batch_events = maker_events(path, 0)
    maker = batch_events[0]["actor"]
    singles = [e for e in _produced(path) if e["actor"] != maker]
    out: dict[str, Any] = {"batch_events": len(batch_events)}
    with tempfile.TemporaryDirectory() as tmp:
        direct_db = Path(tmp) / "direct.db"
        with open_store(direct_db) as store:
            register_sim_firms(store, path)
            out["direct_rate"] = len(batch_events) / timed(
                lambda: import_items(store, (SourceItem(e) for e in batch_events))
            )
        db = Path(tmp) / "api.db"
        with open_store(db) as store:
            register_sim_firms(store, path)
            tokens = {
                actor: create_token(store, actor, label="bench")[1]
                for actor in sorted({maker, *(e["actor"] for e in singles)})
            }
            regulator = next(e for e in store.list_enterprises(role="regulator"))
            regulator_token = create_token(store, regulator.id, label="bench")[1]
        for group in (1, clients):
            copy = Path(tmp) / f"writer-{group}.db"
            copy_synced(db, copy)
            out[f"writer_{group}"] = writer_rate(copy, singles[: group * 40], tokens, group)
        bodies = Path(tmp) / "singles.tsv"
        write_bodies(bodies, singles, tokens)
        pristine = Path(tmp) / "pristine.db"  # for the side-by-side servers
        warm = len(singles) // 10  # the last events warm them (never measured)
        copy_synced(db, pristine)
        port = free_port()
        server = serve(db, port, {"BATTRACE_API_MAX_BATCH_ITEMS": "10000"})
        try:
            url = f"http://127.0.0.1:{port}"
            out["batch_rate"] = batch_rate(url, tokens[maker], batch_events, size)
            out["closed"] = wrk_run(url, bodies, 0, clients, seconds, 0)
            # the reports still in flight when the closed run stopped were sent: skip them too
            sent = out["closed"]["requests"] + clients
            out["paced"] = wrk_run(url, bodies, sent, clients, seconds, think)
        finally:
            server.terminate()
            server.wait(timeout=30)
        sent += out["paced"]["requests"] + clients
        # side by side, on fresh copies of the store (so the same events again): the closed
        # loop with the reports' writer in a worker process (the default) and in a thread of
        # the server's process
        for writer in ("process", "thread"):
            copy = Path(tmp) / f"side-{writer}.db"
            copy_synced(pristine, copy)
            port = free_port()
            server = serve(copy, port, {"BATTRACE_API_REPORT_WRITER": writer})
            try:
                # warmed first, as the main server is by its batches: a server's first second
                # is slow (code paths warming, the dashboard's figures computed at start)
                with contextlib.suppress(RuntimeError):  # 409s once its events run out
                    wrk_run(f"http://127.0.0.1:{port}", bodies, len(singles) - warm, clients, 2, 0)
                found = wrk_run(f"http://127.0.0.1:{port}", bodies, 0, clients, seconds, 0)
            finally:
                server.terminate()
                server.wait(timeout=30)
            out[f"side_{writer}"] = found
            sent = max(sent, found["requests"] + clients)
        out["dashboard"] = _dashboard(
            Path(tmp),
            pristine,
            batch_events,
            bodies,
            regulator_token,
            (clients, seconds, think),
        )
        sent = max(sent, *(out["dashboard"][k]["requests"] + clients for k in DASHBOARD_RUNS))
    if sent >= len(singles) - warm:
        raise RuntimeError(f"wrk ran out of events ({len(singles)}): use more --events")
    return out


DASHBOARD_RUNS = ("start", "alone", "process", "thread")
#: length of the run from a server's start (the writer's and figure worker's start-up)
START_SECONDS = 3


def _produced(path: Path) -> list[dict[str, Any]]:
    """Every ``produced`` event of the simulation, as a live client would send it."""
    found = []
    with path.open("rb") as f:
        for line in f:
            if b'"produced"' in line:
                event = orjson.loads(line)
                if event["type"] == "produced":
                    del event["reported_at"]
                    found.append(event)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=15, help="length of each wrk run")
    parser.add_argument("--think", type=int, default=100, help="mean pause of a paced client, ms")
    args = parser.parse_args()
    r = run(args.events, args.batch, args.clients, args.seconds, args.think)
    closed, paced = r["closed"], r["paced"]
    side_p, side_t = r["side_process"], r["side_thread"]
    dash = r["dashboard"]
    start, alone, d_p, d_t = (dash[k] for k in DASHBOARD_RUNS)
    text = "\n".join(
        [
            f"Machine: {machine()}",
            "",
            f"Command: `python -m benchmarks.bench_api --events {args.events} --batch {args.batch}"
            f" --clients {args.clients} --seconds {args.seconds} --think {args.think}` (server:"
            " `battrace serve`, SQLite with synchronous=FULL, own process; load over loopback:"
            " batches from the benchmark process, single reports from wrk)",
            "",
            f"- Batch reporting over HTTP: {r['batch_events']:,} events of one battery maker in"
            f" batches of {args.batch:,}: **{r['batch_rate']:,.0f} events/s** (target >= 10,000);"
            f" the same events through `import_items` in-process: {r['direct_rate']:,.0f}"
            f" events/s (HTTP reaches {r['batch_rate'] / r['direct_rate']:.0%} of it).",
            f"- Single reports, {args.clients} clients, closed loop (each sends its next report"
            f" when the last is answered), {closed['requests']:,} `produced` events in"
            f" {closed['seconds']:.0f} s: **{closed['rate']:,.0f} reports/s**, p50"
            f" {closed['p50']:.1f} ms, p90 {closed['p90']:.1f} ms, **p99 {closed['p99']:.1f} ms**"
            " (target < 20 ms).",
            f"- Single reports, {args.clients} clients, paced (each waits 0 to"
            f" {2 * args.think} ms between reports), {paced['requests']:,} events:"
            f" {paced['rate']:,.0f} reports/s, p50 {paced['p50']:.1f} ms, p90"
            f" {paced['p90']:.1f} ms, **p99 {paced['p99']:.1f} ms**.",
            f"- Side by side, closed loop on fresh copies of the store: the reports' writer in a"
            f" worker process (`BATTRACE_API_REPORT_WRITER=process`, the default):"
            f" {side_p['rate']:,.0f} reports/s, p50 {side_p['p50']:.1f} ms, p99"
            f" {side_p['p99']:.1f} ms; in a thread of the server's process (`thread`, as before):"
            f" {side_t['rate']:,.0f} reports/s, p50 {side_t['p50']:.1f} ms, p99"
            f" {side_t['p99']:.1f} ms (the process writer: {side_p['rate'] / side_t['rate']:.2f}x"
            " the reports/s).",
            f"- Dashboard, paced runs of {2 * args.seconds} s on fresh copies of a store holding"
            f" the batch's {r['batch_events']:,} events, supervision updates off: nobody on the"
            f" dashboard: p50 {alone['p50']:.1f} ms, p99 {alone['p99']:.1f} ms; a regulator"
            f" reading `{VISITED}` every second, figures rebuilt every 5 s, the figures' engine"
            f" in a worker process (`BATTRACE_WEB_FIGURE_WORKER=process`, the default): p50"
            f" {d_p['p50']:.1f} ms, **p99 {d_p['p99']:.1f} ms** (page median"
            f" {median(dash['process_pages']) * 1000:.0f} ms); in a thread of the server"
            f" (`thread`, as before): p50 {d_t['p50']:.1f} ms, p99 {d_t['p99']:.1f} ms (page"
            f" median {median(dash['thread_pages']) * 1000:.0f} ms).",
            f"- Start: the same paced run for the first {START_SECONDS} s of a fresh server"
            f" on such a store (from its first `/health` answer: the figure worker building the"
            f" national figures meanwhile): p50 {start['p50']:.1f} ms, **p99"
            f" {start['p99']:.1f} ms**, max {start['max']:.1f} ms.",
            f"- Baseline, the server's group-commit writer alone in this process (no HTTP), median"
            f" per report: groups of 1: {r['writer_1']:,.0f} reports/s; groups of"
            f" {args.clients}: {r[f'writer_{args.clients}']:,.0f} reports/s (closed-loop HTTP"
            f" reaches {closed['rate'] / r[f'writer_{args.clients}']:.0%} of it).",
        ]
    )
    print(text)
    write_section("HTTP API (issue 5)", text)


if __name__ == "__main__":
    main()
