"""Supervision: full sweep on SQLite and on DuckDB over Parquet, precision and recall against
the simulator's labels, and what incremental alert updates add to import time.

    python -m benchmarks.bench_supervision --batteries 1800000          # ~10M events
    python -m benchmarks.bench_supervision --db PATH --labels FILE.csv  # an existing store
    python -m benchmarks.bench_supervision --batteries 20000 --incremental 20000
    python -m benchmarks.bench_supervision --incremental 20000 --skip-sweep  # printed only

Without ``--db`` a simulated store of ``--batteries`` vehicles (with its label file) is made
once under the benchmark work directory and reused. The sweep is timed once on SQLite (it
takes minutes at ten million events) and ``--repeat`` times on DuckDB (median). The
incremental figure imports the same simulated events into fresh stores in batches: plain,
with an :class:`~battrace.supervision.incremental.AlertUpdater` flushed after every batch in
this process, and with its worker process evaluating each batch while the next one imports
(``flush_later``), alternating, ``--repeat`` times each; it reports the medians (wall and CPU,
the worker's included) and their ratios, and checks both ways find the same alerts. The
command-line figure runs ``battrace import`` with and without ``--no-alerts``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from battrace.services.reporting import SourceItem, report_events
from battrace.simulate import SimConfig, ingest_simulation
from battrace.simulate.ingest import register_world
from battrace.simulate.stream import simulate_events
from battrace.simulate.violations import label_writer
from battrace.simulate.world import build_world
from battrace.store import open_store
from battrace.store.base import Store
from battrace.supervision.alerts import ID_PARTS, iter_alerts, reconcile, reconcile_in_parts
from battrace.supervision.config import RuleSettings
from battrace.supervision.engine import parquet_engine, store_engine
from battrace.supervision.export import export_parquet
from battrace.supervision.findings import Finding
from battrace.supervision.incremental import WORKER_MIN_CORES, AlertUpdater
from battrace.supervision.score import score_alerts
from battrace.supervision.service import evaluate, sweep
from benchmarks import common
from benchmarks.common import machine, median, write_section


def max_rss_mib() -> float:
    """The most memory this process has held (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def simulated_store(batteries: int, seed: int) -> tuple[Path, Path]:
    """A store of ``batteries`` simulated vehicles and its labels, made once."""
    common.WORK.mkdir(parents=True, exist_ok=True)
    db = common.WORK / f"supervision-{batteries}-{seed}.db"
    labels = db.with_suffix(".labels.csv")
    done = db.with_suffix(".done")
    if not done.exists():
        for stale in (db, labels, Path(f"{db}-wal"), Path(f"{db}-shm")):
            stale.unlink(missing_ok=True)
        with open_store(db) as store, labels.open("w", encoding="utf-8", newline="") as out:
            ingest_simulation(
                store, SimConfig(batteries=batteries, seed=seed), labels=label_writer(out)
            )
        done.write_text("complete\n")
    return db, labels


def sweep_figures(db: Path, labels: Path | None, repeat: int) -> list[str]:
    lines: list[str] = []
    common.WORK.mkdir(parents=True, exist_ok=True)
    with open_store(db) as store:
        events = store.count("events")
        engine = store_engine(store)
        timings: dict[str, float] = {}
        start = time.perf_counter()
        try:
            sqlite_found = evaluate(engine, timings=timings)
        finally:
            engine.close()
        sqlite_s = time.perf_counter() - start
        slowest = sorted(timings.items(), key=lambda kv: -kv[1])[:4]
        folder = Path(tempfile.mkdtemp(prefix="battrace-parquet-", dir=common.WORK))
        shutil.rmtree(folder)
        start = time.perf_counter()
        manifest = export_parquet(store, folder)
        export_s = time.perf_counter() - start
        duck_runs = []
        duck_found = []
        for _ in range(repeat):
            duck = parquet_engine(folder)
            start = time.perf_counter()
            try:
                duck_found = evaluate(duck)
            finally:
                duck.close()
            duck_runs.append(time.perf_counter() - start)
        shutil.rmtree(folder)
        same = duck_found == sqlite_found
        start = time.perf_counter()
        result = sweep(store, settings=RuleSettings())
        stored_s = time.perf_counter() - start
        whole_s, longest_s, parts_s = writer_holds(store, sqlite_found, repeat)
        lines += [
            f"Store: {events:,} events, {store.count('batteries'):,} batteries"
            f" ({db.name}); {len(sqlite_found):,} findings.",
            "",
            "| step | seconds |",
            "|---|---|",
            f"| evaluate all rules on SQLite (one run) | {sqlite_s:,.1f} |",
            f"| ... of which building the fact tables | {timings['build']:,.1f} |",
            "| ... slowest rules | "
            + ", ".join(f"{k} {v:,.1f}" for k, v in slowest if k != "build")
            + " |",
            f"| export to Parquet ({manifest['tables']['events']:,} events) | {export_s:,.1f} |",
            f"| evaluate all rules on DuckDB over the Parquet export, median of {repeat} |"
            f" {median(duck_runs):,.1f} |",
            f"| `battrace alerts sweep` on SQLite: evaluate + reconcile the alerts table |"
            f" {stored_s:,.1f} |",
            f"| a sweep's reconcile again (alerts found again) in one transaction: the writer"
            f" held, median of {repeat} | {whole_s:,.2f} |",
            f"| ... in {len(ID_PARTS)} parts, as the server does (`reconcile_in_parts`): the"
            f" longest a part holds the writer / all parts | {longest_s:,.2f} / {parts_s:,.2f} |",
            "",
            f"Peak memory of this process (max RSS) so far: {max_rss_mib():,.0f} MiB (DuckDB is"
            " held to 3 GB before it spills to disk).",
            "",
            f"DuckDB findings identical to SQLite's: **{same}**. Sweep: alerts opened"
            f" {result.reconciled.get('opened', 0):,}, found again"
            f" {result.reconciled.get('unchanged', 0) + result.reconciled.get('updated', 0):,},"
            f" cleared {result.reconciled.get('cleared', 0):,}. Targets: SQLite < 300 s, DuckDB"
            " < 60 s (at 1M batteries / 10M events).",
        ]
        if labels is not None:
            report = score_alerts(store, labels)
            lines += [
                "",
                "Precision and recall against the simulator's labels (alerts the sweep"
                " still finds; pairs of battery and enterprise per rule):",
                "",
                "| rule | labels | alerts | true positives | precision | recall |",
                "|---|---|---|---|---|---|",
            ]
            for s in report.scores:
                p = "-" if s.precision is None else f"{s.precision:.4f}"
                r = "-" if s.recall is None else f"{s.recall:.4f}"
                lines.append(
                    f"| {s.rule} | {s.labels:,} | {s.alerts:,} | {s.true_positives:,} | {p} | {r} |"
                )
            unlabelled = ", ".join(f"{k} {v:,}" for k, v in report.unlabelled.items())
            lines += ["", f"Alerts of rules the simulator does not inject: {unlabelled}."]
    return lines


def writer_holds(store: Store, found: list[Finding], repeat: int) -> tuple[float, float, float]:
    """How long a sweep's reconcile holds the writer: in one transaction, and in parts (the
    longest part, and all parts); medians of ``repeat`` runs, alternating."""
    held: list[float] = []

    @contextmanager
    def writing() -> Iterator[Store]:
        start = time.perf_counter()
        yield store
        held.append(time.perf_counter() - start)

    rules = list(RuleSettings().rules)
    whole, longest, total = [], [], []
    for _ in range(repeat):
        start = time.perf_counter()
        reconcile(store, found, rules=rules)
        whole.append(time.perf_counter() - start)
        held.clear()
        start = time.perf_counter()
        reconcile_in_parts(writing, found, rules=rules)
        total.append(time.perf_counter() - start)
        longest.append(max(held))
    return median(whole), median(longest), median(total)


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its children that have ended."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def incremental_overhead(batteries: int, batch: int, repeat: int) -> list[str]:
    config = SimConfig(batteries=batteries, seed=5)
    world = build_world(config.seed, config.batteries)
    common.WORK.mkdir(parents=True, exist_ok=True)
    events = [SourceItem(i.event) for i in simulate_events(config, world) if not i.refused]

    def run(mode: str) -> tuple[float, float, float, set[str]]:
        """Wall and CPU seconds of the whole import, seconds the importer waited for the
        alerts, and the alerts found at the end."""
        folder = Path(tempfile.mkdtemp(prefix="battrace-inc-", dir=common.WORK))
        try:
            with open_store(folder / "inc.db") as store:
                register_world(store, world.firms)
                updater = AlertUpdater(store, settings=RuleSettings()) if mode != "plain" else None
                waited = 0.0
                cpu = cpu_seconds()
                start = time.perf_counter()
                if updater is not None and mode == "later":
                    updater.start_worker()
                for first in range(0, len(events), batch):
                    report_events(
                        store,
                        events[first : first + batch],
                        trust_reported_at=True,
                        sinks=[updater] if updater else (),
                    )
                    if updater is not None:
                        t0 = time.perf_counter()
                        if mode == "later":
                            updater.flush_later()
                        else:
                            updater.flush()
                        waited += time.perf_counter() - t0
                if updater is not None:
                    t0 = time.perf_counter()
                    updater.wait()
                    updater.close()  # the worker ends: its CPU time is counted below
                    waited += time.perf_counter() - t0
                wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
                found = {a.id for a in iter_alerts(store) if a.found}
                return wall, cpu, waited, found
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    modes = ("plain", "flush", "later")
    runs: dict[str, list[tuple[float, float, float, set[str]]]] = {m: [] for m in modes}
    for _ in range(repeat):
        for mode in modes:  # alternating, so that a slower spell of the machine hits all
            runs[mode].append(run(mode))
    wall = {m: median([r[0] for r in runs[m]]) for m in modes}
    cpu = {m: median([r[1] for r in runs[m]]) for m in modes}
    waited = {m: median([r[2] for r in runs[m]]) for m in modes}
    same = all(r[3] == runs["flush"][0][3] for m in ("flush", "later") for r in runs[m])
    base = wall["plain"]
    # each repeat's runs were made one after the other: their ratios, side by side
    paired = {
        m: median([r[0] / p[0] for r, p in zip(runs[m], runs["plain"], strict=True)]) - 1
        for m in modes
    }

    def row(label: str, mode: str) -> str:
        added = "" if mode == "plain" else f" ({(wall[mode] / base - 1) * 100:+.1f} %)"
        cpu_added = "" if mode == "plain" else f" ({(cpu[mode] / cpu['plain'] - 1) * 100:+.1f} %)"
        return (
            f"| {label} | {wall[mode]:,.1f}{added} | {cpu[mode]:,.1f}{cpu_added} |"
            f" {waited[mode]:,.2f} | {len(events) / wall[mode]:,.0f} |"
        )

    return [
        "",
        f"Incremental updates: {len(events):,} simulated events ({batteries:,} vehicles)"
        f" imported in batches of {batch:,} into a fresh store, plain and with the alerts of"
        f" what each batch touched brought up to date after it, alternating, median of"
        f" {repeat}. CPU counts this process and its worker process.",
        "",
        "| import | wall s | CPU s | waiting for alerts s | events/s |",
        "|---|---|---|---|---|",
        row("plain", "plain"),
        row("with incremental alert updates: `flush()` after every batch, here", "flush"),
        row(
            "with incremental alert updates: `flush_later()` after every batch, worker process",
            "later",
        ),
        "",
        f"Added with the worker: **{(wall['later'] / base - 1) * 100:.1f} %** of import time"
        f" (target <= 10 %; median of the ratios of runs made side by side:"
        f" {paired['later'] * 100:.1f} %), {(cpu['later'] / cpu['plain'] - 1) * 100:.1f} % CPU;"
        f" evaluated here, {(wall['flush'] / base - 1) * 100:.1f} %"
        f" ({paired['flush'] * 100:.1f} % side by side). Alerts found at the end the same"
        f" both ways in every run: **{same}**.",
    ]


def cli_import_overhead(events: int, repeat: int) -> list[str]:
    """``battrace import FILE`` (which updates the alerts of what it touched at its end) against
    ``battrace import FILE --no-alerts``, each in its own process on a fresh store."""
    path, count = common.sim_file(events)

    def run(alerts: bool) -> tuple[float, float]:
        folder = Path(tempfile.mkdtemp(prefix="battrace-cli-", dir=common.WORK))
        try:
            db = folder / "cli.db"
            with open_store(db) as store:
                common.register_sim_firms(store, path)
            command = [str(Path(sys.executable).with_name("battrace")), "import", str(path)]
            command += ["--db", str(db), "--json"]
            if not alerts:
                command.append("--no-alerts")
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            return wall, cpu
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    plain, updated = [], []
    for _ in range(repeat):
        plain.append(run(False))
        updated.append(run(True))
    base, inc = median([r[0] for r in plain]), median([r[0] for r in updated])
    paired = median([u[0] / p[0] for u, p in zip(updated, plain, strict=True)]) - 1
    where = (
        "by a worker process started after the first chunk"
        if (os.cpu_count() or 1) >= WORKER_MIN_CORES
        else f"in the command's own process: {os.cpu_count()} cores, a worker needs"
        f" {WORKER_MIN_CORES}"
    )
    base_cpu, inc_cpu = median([r[1] for r in plain]), median([r[1] for r in updated])
    return [
        "",
        f"The command line: `battrace import` of {count:,} simulated events (one file, one"
        f" batch) on a fresh store, with `--no-alerts` and with the alert update at its end"
        f" (the default; evaluated {where}), each in its own process, alternating, median of"
        f" {repeat}: {base:,.1f} s and {inc:,.1f} s:"
        f" **{(inc / base - 1) * 100:.1f} %** more (side by side: {paired * 100:.1f} %);"
        f" CPU (the command and its worker)"
        f" {base_cpu:,.1f} s and {inc_cpu:,.1f} s: {(inc_cpu / base_cpu - 1) * 100:.1f} % more.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--labels", type=Path)
    parser.add_argument("--batteries", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--incremental",
        type=int,
        default=20_000,
        help="vehicles in the incremental-overhead run (0: skip)",
    )
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument(
        "--skip-sweep",
        action="store_true",
        help="only the incremental figures (no sweep, no store of --batteries made); printed,"
        " not written to RESULTS.md, whose section holds the full run",
    )
    args = parser.parse_args()
    lines = [
        f"Machine: {machine()}",
        "",
        f"`python -m benchmarks.bench_supervision {' '.join(sys.argv[1:])}`",
        "",
    ]
    if not args.skip_sweep:
        if args.db is None:
            db, labels = simulated_store(args.batteries, args.seed)
        else:
            db, labels = args.db, args.labels
        lines += sweep_figures(db, labels, args.repeat)
    if args.incremental:
        lines += incremental_overhead(args.incremental, args.batch, args.repeat)
        events = round(args.incremental * common.SIM_EVENTS_PER_BATTERY)
        lines += cli_import_overhead(events, args.repeat)
    text = "\n".join(lines)
    print(text)
    if not args.skip_sweep:
        write_section(
            "Supervision (issue 6): sweep, engines, precision and recall, incremental", text
        )


if __name__ == "__main__":
    main()
