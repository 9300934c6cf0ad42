"""The server's rule worker process and the sink that tells it what new events touched."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from battrace.api import create_app
from battrace.api.app import sweep_now, update_alerts_now
from battrace.api.context import ApiContext
from battrace.config import load_settings
from battrace.services.reporting import ReportResult
from battrace.store import Store, open_store
from battrace.store.rows import EventRow
from battrace.supervision.alerts import list_alerts
from battrace.supervision.process import (
    PART_FINDINGS,
    WORKER_NICENESS,
    RuleProcess,
    TouchedBatteries,
    _evaluated,
    split_digits,
    worker_can_open,
)
from tests.api.conftest import ApiWorld, build_world
from tests.builders import code
from tests.supervision.test_incremental_paths import _late_production


def _row(event_id: int, batteries: list[str], body: dict[str, object]) -> EventRow:
    return EventRow(
        event_id, "replaced", "A", None, "2024-01-01", "2024-01-02", None, None, None,
        batteries, body,
    )  # fmt: skip


def test_touched_batteries_notes_codes_and_ids_once() -> None:
    touched = TouchedBatteries()
    assert touched.take() is None  # nothing yet
    touched.on_events(None, [_row(7, ["B1"], {"new": "B2"}), _row(8, ["B1"], {})])  # type: ignore[arg-type]
    touched.on_events(None, [])  # type: ignore[arg-type]
    taken = touched.take()
    assert taken == (["B1", "B2"], 7, 8)
    assert touched.take() is None  # taken means forgotten
    touched.on_events(None, [_row(9, ["B3"], {})])  # type: ignore[arg-type]
    touched.give_back(taken)  # a failed update is retried with what came since
    assert touched.take() == (["B1", "B2", "B3"], 7, 9)


@pytest.mark.parametrize(
    ("target", "can"),
    [
        (":memory:", False),
        ("file::memory:?cache=shared", False),
        ("/var/lib/battrace.db", True),
        ("postgresql://127.0.0.1/battrace", True),
    ],
)
def test_which_databases_a_worker_can_open(target: str, can: bool) -> None:
    assert worker_can_open(target) is can
    if not can:
        with pytest.raises(ValueError, match="cannot open"):
            RuleProcess(target)


def _context(client: TestClient) -> ApiContext:
    found: ApiContext = client.app.state.battrace  # type: ignore[attr-defined]
    return found


def test_server_uses_a_worker_for_a_database_file(api: ApiWorld) -> None:
    assert _context(api.client).rules is not None


def test_server_without_a_worker_updates_in_its_own_process(tmp_path: Path) -> None:
    db = tmp_path / "factory.db"
    with build_world(db) as world:
        app = create_app(lambda: open_store(db, migrate=False), load_settings({}))
        with TestClient(app) as client:
            context = _context(client)
            assert context.rules is None  # a store made by a function: no worker
            late = _late_production(world.ids["maker"], 60, date(2024, 3, 1))
            del late["reported_at"]
            answer = client.post("/api/v1/events", json=late, headers=world.auth("maker"))
            assert answer.status_code == 201, answer.text
            assert update_alerts_now(context)["opened"] == 1
            assert update_alerts_now(context) == {}
            (alert,) = list_alerts(world.store, rule="late_report")
            assert alert.battery == code(n=60)
            assert sweep_now(context)["reconciled"]["cleared"] == 0


def test_the_worker_sweeps_part_by_part(api: ApiWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    context = _context(api.client)
    assert context.rules is not None
    late = _late_production(api.ids["maker"], 61, date(2024, 3, 1))
    del late["reported_at"]
    answer = api.client.post("/api/v1/events", json=late, headers=api.auth("maker"))
    assert answer.status_code == 201, answer.text
    expected = context.rules.findings()
    swept = sweep_now(context)  # evaluated and reconciled by the worker
    assert swept["parts"] == 16  # a small sweep: one hex digit of the alert ids
    assert swept["reconciled"]["opened"] == len(expected)
    assert swept["findings"]["late_report"] == sum(f.rule == "late_report" for f in expected)
    stored = list_alerts(api.store)
    assert sorted(a.id for a in stored) == sorted(f.id for f in expected)
    assert code(n=61) in {a.battery for a in stored if a.rule == "late_report"}
    assert sweep_now(context)["reconciled"]["opened"] == 0  # the same breaches: no new alert


def test_the_worker_ends_with_its_server(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    db = tmp_path / "w.db"
    open_store(db).close()
    # a server stand-in that starts a worker, prints its pid, then is killed without cleanup
    script = (
        "from battrace.supervision.process import RuleProcess\n"
        "if __name__ == '__main__':\n"
        f"    p = RuleProcess({str(db)!r})\n"
        "    p.findings()\n"
        "    print(p.pid(), flush=True)\n"
        "    import time; time.sleep(60)\n"
    )
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    worker = int(server.stdout.readline())
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    server.stdout.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return  # gone
        time.sleep(0.2)
    os.kill(worker, signal.SIGKILL)
    pytest.fail("the worker outlived its server")


@contextmanager
def _worker_here(
    db: Path, serials: range, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Store, ReportResult]]:
    """A store with late productions of ``serials``, and the worker's state opened on it in
    this process (its functions called directly), closed on leaving."""
    import os

    from battrace.services.reporting import SourceItem, report_events
    from battrace.supervision import process
    from tests.supervision.scenario import Scenario

    with open_store(db) as store:
        maker = Scenario(store).f["battery_maker"].credit_code
        late = [_late_production(maker, n, date(2024, 3, 1)) for n in serials]
        result = report_events(store, [SourceItem(e) for e in late], trust_reported_at=True)
        for name in ("_store", "_settings", "_evaluator"):
            monkeypatch.setattr(process, name, None)
        process._start(str(db), None, os.getppid())
        try:
            yield store, result
        finally:
            assert process._store is not None
            process._store.close()


def test_an_update_in_slices_finds_what_one_update_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from battrace.supervision import process, service
    from battrace.supervision.service import sweep

    monkeypatch.setattr(process, "UPDATE_CHUNK", 2)  # three chunks evaluated
    monkeypatch.setattr(process, "WRITE_BATTERIES", 1)  # a transaction per battery
    monkeypatch.setattr(process, "WRITE_PAUSE", 0.0)
    writes: list[frozenset[str]] = []
    reconcile_scoped = service.reconcile_scoped

    def counted(*args: Any, **kwargs: Any) -> dict[str, int]:
        writes.append(args[3])
        return reconcile_scoped(*args, **kwargs)

    monkeypatch.setattr(service, "reconcile_scoped", counted)
    with _worker_here(tmp_path / "slices.db", range(70, 75), monkeypatch) as (store, result):
        assert result.first_id is not None
        assert result.last_id is not None
        codes = [code(n=70 + n) for n in range(5)]
        counts = process._update(codes, result.first_id, result.last_id)
        assert counts["opened"] == 5
        assert sorted(writes) == sorted(frozenset([c]) for c in codes)  # one at a time
        assert {a.battery for a in list_alerts(store, rule="late_report")} == set(codes)
        # a full sweep agrees: it opens and clears nothing of these
        swept = sweep(store).to_dict()
        assert swept["reconciled"]["cleared"] == 0
        assert {a.battery for a in list_alerts(store, rule="late_report")} >= set(codes)


def test_a_sweep_in_parts_reconciles_what_one_transaction_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from battrace.supervision import process
    from battrace.supervision.alerts import reconcile
    from battrace.supervision.config import load_settings as load_rule_settings

    monkeypatch.setattr(process, "PART_FINDINGS", 1)  # 256 parts for these few
    with _worker_here(tmp_path / "parts.db", range(100, 140), monkeypatch) as (store, _):
        found = process._findings()
        swept = process._sweep(0.0)
        assert swept["parts"] == 256
        assert swept["reconciled"]["opened"] == len(found) >= 40
        whole = reconcile(store, found, rules=list(load_rule_settings(None).rules))
        assert (whole.opened, whole.cleared, whole.unchanged) == (0, 0, len(found))


@pytest.mark.parametrize(
    ("findings", "digits"),
    [(0, 1), (4_000, 1), (4_001, 2), (64_000, 2), (64_001, 3), (186_000, 3), (10**9, 4)],
)
def test_a_sweep_is_split_so_that_each_part_stays_short(findings: int, digits: int) -> None:
    assert split_digits(findings) == digits
    assert findings / 16**digits <= PART_FINDINGS or digits == 4


def test_the_worker_evaluates_below_the_server_s_priority(tmp_path: Path) -> None:
    import os

    db = tmp_path / "nice.db"
    open_store(db).close()
    with RuleProcess(str(db)) as worker:
        worker.pid()  # started
        pool = worker._process.pool()
        ours = os.nice(0)
        # the evaluation runs below the server's priority, the writes at it
        assert pool.submit(_evaluated, os.nice, 0).result() == ours + WORKER_NICENESS
        assert pool.submit(os.nice, 0).result() == ours


def test_closing_stops_a_busy_worker_at_once(tmp_path: Path) -> None:
    import os
    import time

    db = tmp_path / "busy.db"
    open_store(db).close()
    worker = RuleProcess(str(db))
    pid = worker.pid()
    busy = worker._process.pool().submit(time.sleep, 120)  # a long update, say
    began = time.monotonic()
    worker.close()
    assert time.monotonic() - began < 20  # not the two minutes of work in hand
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert busy.done()
    with pytest.raises(RuntimeError, match="closed"):  # and for good: no other worker starts
        worker.pid()
