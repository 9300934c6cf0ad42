"""The server's rule worker process and the sink that tells it what new events touched."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from battrace.api import create_app
from battrace.api.app import sweep_now, update_alerts_now
from battrace.api.context import ApiContext
from battrace.config import load_settings
from battrace.store import open_store
from battrace.store.rows import EventRow
from battrace.supervision.alerts import _in_range, id_parts, list_alerts
from battrace.supervision.process import RuleProcess, TouchedBatteries, worker_can_open
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


def test_the_worker_hands_a_sweep_over_part_by_part(api: ApiWorld) -> None:
    context = _context(api.client)
    assert context.rules is not None
    late = _late_production(api.ids["maker"], 61, date(2024, 3, 1))
    del late["reported_at"]
    answer = api.client.post("/api/v1/events", json=late, headers=api.auth("maker"))
    assert answer.status_code == 201, answer.text
    digits, parts = context.rules.sweep_parts()
    assert digits == 1  # a small sweep: 16 parts
    ranges = id_parts(digits)
    got = []
    for ids, part in zip(ranges, parts, strict=True):
        assert all(_in_range(f.id, ids) for f in part)  # each finding in its own part
        got.extend(part)
    assert sorted(got, key=lambda f: f.id) == sorted(context.rules.findings(), key=lambda f: f.id)
    assert code(n=61) in {f.battery for f in got if f.rule == "late_report"}
    # the server reconciles them part by part through its writer
    swept = sweep_now(context)
    assert swept["reconciled"]["opened"] == len(got)
    assert swept["findings"]["late_report"] == sum(f.rule == "late_report" for f in got)
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


def test_an_update_in_slices_finds_what_one_update_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from battrace.services.reporting import SourceItem, report_events
    from battrace.supervision import process
    from battrace.supervision.service import sweep
    from tests.supervision.scenario import Scenario

    db = tmp_path / "slices.db"
    with open_store(db) as store:
        maker = Scenario(store).f["battery_maker"].credit_code
        late = [_late_production(maker, 70 + n, date(2024, 3, 1)) for n in range(5)]
        result = report_events(store, [SourceItem(e) for e in late], trust_reported_at=True)
        assert result.first_id is not None
        assert result.last_id is not None
        monkeypatch.setattr(process, "UPDATE_CHUNK", 2)  # three slices
        monkeypatch.setattr(process, "_store", None)
        monkeypatch.setattr(process, "_settings", None)
        process._start(str(db), None, os.getppid())
        codes = [code(n=70 + n) for n in range(5)]
        try:
            counts = process._update(codes, result.first_id, result.last_id)
        finally:
            assert process._store is not None
            process._store.close()
        assert counts["opened"] == 5
        assert {a.battery for a in list_alerts(store, rule="late_report")} == set(codes)
        # a full sweep agrees: it opens and clears nothing of these
        swept = sweep(store).to_dict()
        assert swept["reconciled"]["cleared"] == 0
        assert {a.battery for a in list_alerts(store, rule="late_report")} >= set(codes)
