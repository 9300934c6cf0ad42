"""Run every benchmark and rewrite benchmarks/RESULTS.md.

    python -m benchmarks.run           # full: import rates, 10M-event store, log at 10M leaves,
                                       # API, supervision over ~10M simulated events
    python -m benchmarks.run --quick   # small sizes, under 3 minutes

The full run builds one store of about ten million events (kept under the benchmark work
directory, ``$BATTRACE_BENCH_DIR/battrace-bench``, default the system temp directory) and
measures memory, history latency, proofs and the auditor on it; it took 53 minutes on the
2-core host on 2026-11-29, plus a few minutes for the API step. The supervision step makes
its own labelled simulation of 1.8 million vehicles (about ten million events, 15 minutes, kept
and reused) and sweeps it on SQLite and on DuckDB. Each step rewrites its own section of
RESULTS.md; the suite adds a section with the steps' durations.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import WORK, machine, write_section

HERE = Path(__file__).resolve().parent
FULL_EVENTS = 10_000_000


def steps(quick: bool) -> list[list[str]]:
    if quick:
        return [
            ["bench_import", "--events", "50000", "--repeat", "3"],
            ["bench_scale", "--events", "200000", "--queries", "1000"],
            ["bench_log", "--events", "150000", "--leaves", "50000", "--proofs", "500"],
            ["bench_api", "--events", "300000", "--batch", "2000", "--seconds", "5"],
            [
                "bench_supervision",
                "--batteries",
                "10000",
                "--incremental",
                "5000",
                "--batch",
                "10000",
                "--repeat",
                "1",
            ],
            ["bench_web", "--batteries", "5000", "--repeat", "10"],
            ["bench_reads", "--events", "100000", "--scan-seconds", "10"],
        ]
    return [
        ["bench_import", "--events", "400000", "--repeat", "3"],
        ["bench_scale", "--events", str(FULL_EVENTS), "--keep", str(WORK)],
        ["bench_log", "--db", str(WORK / f"scale-{FULL_EVENTS}.db"), "--proofs", "2000"],
        ["bench_api", "--events", "1000000"],
        # about ten million events; the store (with its labels) is made once and kept
        ["bench_supervision", "--batteries", "1800000", "--incremental", "20000"],
        ["bench_web", "--batteries", "40000"],
        ["bench_reads", "--events", "1000000"],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    # the scripts (and this one) write their RESULTS.md sections as "... (quick)"
    os.environ["BATTRACE_BENCH_QUICK"] = "1" if args.quick else "0"
    durations = []
    begin = time.perf_counter()
    for script, *rest in steps(args.quick):
        print(f"== {script} {' '.join(rest)}", flush=True)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", f"benchmarks.{script}", *rest],
            check=True,
            cwd=HERE.parent,
        )
        durations.append(f"`{script} {' '.join(rest)}` {time.perf_counter() - t0:,.0f} s")
    total = time.perf_counter() - begin
    write_section(
        "Suite",
        f"Machine: {machine()}\n\nCommand: `make bench{' QUICK=1' if args.quick else ''}`"
        f" took {total / 60:.1f} min: " + "; ".join(durations) + ".",
    )


if __name__ == "__main__":
    main()
