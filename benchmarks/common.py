"""Shared helpers for the benchmark scripts: data files, timing, machine facts, RESULTS.md."""

from __future__ import annotations

import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import httpx

from battrace.simulate import SimConfig, register_world
from battrace.simulate.files import read_enterprises, sibling, write_simulation
from battrace.store.base import Store

RESULTS = Path(__file__).with_name("RESULTS.md")
WORK = Path(os.environ.get("BATTRACE_BENCH_DIR", tempfile.gettempdir())) / "battrace-bench"


# events per battery with the simulator's defaults (sales 2015-2025, lives followed to the end of
# 2025): 164,142 accepted events for 30,000 batteries
SIM_EVENTS_PER_BATTERY = 5.47


def sim_file(events: int, seed: int = 7) -> tuple[Path, int]:
    """A simulated nation of about ``events`` accepted events (``battrace simulate --out``),
    made once under the work directory, then reused; returns the events file and its count.

    Only the events the platform accepts are in the file (the refused ones go to a sibling);
    register the enterprises with :func:`register_sim_firms` before importing it.
    """
    batteries = max(1, round(events / SIM_EVENTS_PER_BATTERY))
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"sim-{batteries}-{seed}.ndjson"
    count_path = path.with_suffix(".count")  # written last: the files are complete
    if not count_path.exists():
        summary = write_simulation(SimConfig(batteries=batteries, seed=seed), path)
        count_path.write_text(str(summary.events))
    return path, int(count_path.read_text())


def register_sim_firms(store: Store, path: Path) -> int:
    """Register the enterprises of the simulation whose events file is ``path``."""
    return register_world(store, read_enterprises(sibling(path, "enterprises")))


def free_port() -> int:
    """A TCP port free on the loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(db: Path, port: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``battrace serve`` on ``db`` in its own process (production mode), once it answers
    ``/health``; the caller kills it."""
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("battrace")),
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start")


def copy_synced(source: Path, target: Path) -> None:
    """Copy a database file and write the copy to disk now: a server started on a copy still
    in the page cache would have its first checkpoint's sync write the whole copy back, inside
    a measured run (a commit of 56 ms on a 300,000-event store instead of 2 ms)."""
    shutil.copy(source, target)
    with target.open("rb+") as f:
        os.fsync(f.fileno())


def rss_mib() -> float:
    """Resident memory of this process now, MiB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def cpu_reference_ms() -> float:
    """Median time of a fixed pure-Python loop (one million additions), in ms.

    The machine is shared: the same code runs at very different speeds on different days. This
    figure, taken with every result, says how fast the machine was at the time.
    """

    def loop() -> None:
        total = 0
        for i in range(1_000_000):
            total += i

    return median([timed(loop) for _ in range(5)]) * 1000


def sync_reference_ms(directory: Path | None = None) -> float:
    """Median time to write 32 KiB to a file and ``fdatasync`` it (20 times), in ms.

    What a SQLite commit waits for (synchronous=FULL). The shared machine's speed varies across
    days in ways the CPU reference misses: at 21:28 UTC on 2026-11-29 the API's writer alone
    wrote 11,171 reports/s in groups of 50, against 5,904 at 20:45 the same day with about the
    same CPU reference loop (32 and 36 ms); a sync took 0.08 ms at 21:28 (not measured before).
    """
    block = os.urandom(32 * 1024)
    times = []
    with tempfile.NamedTemporaryFile(dir=directory or WORK.parent) as f:
        for _ in range(20):
            os.pwrite(f.fileno(), block, 0)
            times.append(timed(lambda: os.fdatasync(f.fileno())))
    return median(times) * 1000


def machine() -> str:
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    libs = ", ".join(f"{name} {version(name)}" for name in ("pydantic", "orjson", "psycopg"))
    return (
        f"{os.cpu_count()} cores, {mem_gib:.0f} GiB, {platform.machine()}, Python"
        f" {sys.version.split()[0]}, SQLite {__import__('sqlite3').sqlite_version}, {libs};"
        f" {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; CPU reference loop {cpu_reference_ms():.0f} ms"
        f" (1M Python additions, lower is faster); disk sync {sync_reference_ms():.2f} ms"
        " (median fdatasync of a 32 KiB write)"
    )


def write_section(name: str, body: str) -> None:
    """Replace the section ``## name`` of RESULTS.md (or add it) with ``body``.

    Under ``make bench QUICK=1`` (``BATTRACE_BENCH_QUICK=1``) the section is ``name (quick)``,
    so a quick run never overwrites the full run's figures.
    """
    if os.environ.get("BATTRACE_BENCH_QUICK") == "1":
        name = f"{name} (quick)"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    header = f"## {name}\n"
    start = text.find(header)
    block = header + "\n" + body.strip() + "\n\n"
    if start == -1:
        text = text.rstrip() + "\n\n" + block
    else:
        end = text.find("\n## ", start + len(header))
        text = text[:start] + block + (text[end + 1 :] if end != -1 else "")
    RESULTS.write_text(text.rstrip() + "\n", encoding="utf-8")
