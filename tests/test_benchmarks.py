"""The benchmark scripts still run (at toy sizes) and write RESULTS.md sections as documented.

These check the scripts, not the figures: performance is measured by ``make bench``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from benchmarks import (
    bench_api,
    bench_import,
    bench_log,
    bench_reads,
    bench_supervision,
    common,
    run,
)


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "RESULTS.md"
    monkeypatch.setattr(common, "RESULTS", path)
    monkeypatch.setattr(common, "WORK", tmp_path / "work")
    monkeypatch.delenv("BATTRACE_BENCH_QUICK", raising=False)
    return path


def test_write_section_replaces_only_its_own_section(results: Path) -> None:
    common.write_section("A", "first")
    common.write_section("B", "other")
    common.write_section("A", "second")
    text = results.read_text(encoding="utf-8")
    assert text.count("## A\n") == 1
    assert "second" in text
    assert "first" not in text
    assert "other" in text


def test_quick_runs_write_their_own_sections(
    results: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    common.write_section("Import", "full figures")
    monkeypatch.setenv("BATTRACE_BENCH_QUICK", "1")
    common.write_section("Import", "quick figures")
    text = results.read_text(encoding="utf-8")
    assert "## Import\n\nfull figures" in text
    assert "## Import (quick)\n\nquick figures" in text


def test_import_benchmark_measures_every_path(results: Path) -> None:
    figures = bench_import.run(600, repeat=1, postgres=False)
    assert figures["events"] > 300  # a simulated nation of about 600 events
    # rates, not their order: at 600 events the order is noise (make bench measures it)
    assert figures["raw_rate"] > 0
    assert figures["sqlite_rate"] > 0
    assert figures["unlogged_rate"] > 0
    report = bench_import.report(figures, 1)
    assert "raw `sqlite3.executemany`" in report
    assert "PostgreSQL" not in report
    # the simulated file is made once and reused
    assert len(list((results.parent / "work").glob("sim-*.count"))) == 1


def test_api_benchmark_loads_one_makers_own_events(results: Path) -> None:
    path, _ = common.sim_file(3000)
    events = bench_api.maker_events(path, 0)
    makers = {e["actor"] for e in events}
    assert len(makers) == 1
    kinds = [e["type"] for e in events]
    assert kinds[0] == "produced"
    assert set(kinds) <= {"produced", "shipped"}
    assert kinds.index("shipped") > kinds.count("produced") - 1  # all production first
    assert not any("reported_at" in e for e in events)


def test_log_benchmark_checks_against_pymerkle() -> None:
    times = bench_log.append_and_prove(300, 30)
    assert times["ours"] > 0
    assert times["pymerkle"] > 0


def test_suite_steps_cover_every_benchmark() -> None:
    scripts = sorted(p.stem for p in Path(run.__file__).parent.glob("bench_*.py"))
    for quick in (True, False):
        names = [step[0] for step in run.steps(quick)]
        assert sorted(names) == scripts  # every benchmark script is in both suites
    full_log = run.steps(False)[2]
    assert full_log[full_log.index("--db") + 1].endswith(f"scale-{run.FULL_EVENTS}.db")


def test_supervision_benchmark_scores_and_compares_engines(results: Path) -> None:
    db, labels = bench_supervision.simulated_store(400, 3)
    assert db.with_suffix(".done").exists()
    lines = "\n".join(bench_supervision.sweep_figures(db, labels, repeat=1))
    assert "DuckDB findings identical to SQLite's: **True**" in lines
    assert "| late_report |" in lines
    overhead = "\n".join(bench_supervision.incremental_overhead(300, 1000, repeat=1))
    assert "with incremental alert updates" in overhead


def test_api_benchmark_reads_wrk_and_refuses_failed_runs(tmp_path: Path) -> None:
    line = (
        '{"requests": 1200, "seconds": 2.0, "status_errors": 0, "socket_errors": 0,'
        ' "p50": 4100, "p90": 9000, "p99": 18500, "max": 30000}'
    )
    found = bench_api.parse_wrk(f"Running 2s test\n{line}\n")
    assert (found["rate"], found["p50"], found["p99"]) == (600.0, 4.1, 18.5)
    with pytest.raises(RuntimeError, match="some reports failed"):
        bench_api.parse_wrk(line.replace('"status_errors": 0', '"status_errors": 3'))
    bodies = tmp_path / "bodies.tsv"
    bench_api.write_bodies(bodies, [{"actor": "A", "n": 1}, {"actor": "B"}], {"A": "t1", "B": "t2"})
    assert bodies.read_bytes() == b't1\t{"actor":"A","n":1}\nt2\t{"actor":"B"}\n'


def test_machine_line_names_the_cpu_and_disk_references(tmp_path: Path) -> None:
    assert common.sync_reference_ms(tmp_path) > 0
    assert list(tmp_path.iterdir()) == []  # its scratch file is gone
    line = common.machine()
    assert "CPU reference loop" in line
    assert "disk sync" in line


def test_reads_benchmark_compares_answers_with_the_scans(results: Path) -> None:
    rows = bench_reads.run(3000, per_role=1, pages=2, scan_seconds=60)
    firms = rows[:-1]
    assert {r["role"] for r in firms} >= {"battery_maker", "dealer", "recycler"}
    assert all(r["list_same"] for r in firms)
    assert all(r["ev_same"] for r in firms)
    assert any(r["events"] for r in firms)
    text = bench_reads.report(
        rows, argparse.Namespace(events=3000, per_role=1, pages=2, scan_seconds=60)
    )
    assert "| dealer |" in text
    assert "**no**" not in text
