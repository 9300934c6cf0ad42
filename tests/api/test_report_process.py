"""Single-event reports written by a worker process (api/report_process.py): the same answers
as the in-process writer, errors whole across the pipe, a dead worker replaced."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import orjson
import pytest

from battrace.api.context import ApiContext
from battrace.api.group_commit import GroupWriter, Report
from battrace.api.idempotency import Answer
from battrace.api.report_process import ReportProcess, _portable
from battrace.config import load_settings
from battrace.errors import BattraceError, StoreError, ValidationError
from battrace.services import log as log_service
from battrace.services.audit import verify_log
from battrace.services.tokens import create_token, revoke_token
from battrace.supervision.process import TouchedBatteries
from tests.api.conftest import ApiWorld, build_world
from tests.api.test_group_commit import mixed_group

PATH = "/api/v1/events"


def _outcome(future: Future[Answer]) -> Answer | BaseException:
    error = future.exception(timeout=60)
    return error if error is not None else future.result()


def _context(api: ApiWorld) -> ApiContext:
    found: ApiContext = api.client.app.state.battrace  # type: ignore[attr-defined]
    return found


@pytest.fixture
def worker(api: ApiWorld) -> Iterator[tuple[ReportProcess, TouchedBatteries]]:
    touched = TouchedBatteries()
    made = ReportProcess(api.store.location, api.settings, touched)
    yield made, touched
    made.close()


def test_the_server_writes_reports_in_a_worker_process(api: ApiWorld) -> None:
    reports = _context(api).reports
    assert isinstance(reports, ReportProcess)  # the default for a database file
    event = api.new_battery_event()
    answer = api.client.post(PATH, json=event, headers=api.auth("maker"))
    assert answer.status_code == 201
    pid = reports.pid()
    assert pid is not None
    assert pid != os.getpid()
    stored = api.client.get(answer.headers["Location"], headers=api.auth("maker"))
    assert stored.json() == answer.json()
    touched = _context(api).touched
    assert touched is not None
    taken = touched.take()  # what the worker touched, for the supervision's next update
    assert taken is not None
    assert event["batteries"][0] in taken[0]
    assert taken[2] == answer.json()["id"]


def test_the_thread_setting_keeps_the_writer_in_the_server(tmp_path: Path) -> None:
    settings = load_settings({"BATTRACE_API_REPORT_WRITER": "thread"})
    with build_world(tmp_path / "thread.db", settings) as world:
        assert type(_context(world).reports) is GroupWriter
        answer = world.client.post(
            PATH, json=world.new_battery_event(), headers=world.auth("maker")
        )
        assert answer.status_code == 201


def test_an_unknown_writer_is_refused_at_start() -> None:
    with pytest.raises(ValidationError) as raised:
        load_settings({"BATTRACE_API_REPORT_WRITER": "fork"})
    assert raised.value.field == "BATTRACE_API_REPORT_WRITER"
    assert raised.value.rule == "one_of"


def _cases(world: ApiWorld) -> list[tuple[str, dict[str, str], Any]]:
    """Requests whose answers the writer decides (the body is well formed)."""
    maker = world.auth("maker")
    revoked_id, revoked = create_token(world.store, world.ids["maker"])
    revoke_token(world.store, revoked_id.token_id)
    event = world.new_battery_event()
    keyed = {**maker, "Idempotency-Key": "same-key"}
    return [
        ("accepted", maker, world.new_battery_event()),
        ("unknown type", maker, {**world.new_battery_event(), "type": "teleported"}),
        ("as another firm", world.auth("other"), world.new_battery_event()),
        ("unknown token", {"Authorization": "Bearer btk_" + "A" * 43}, event),
        ("revoked token", {"Authorization": f"Bearer {revoked}"}, event),
        ("first with a key", keyed, event),
        ("the same again", keyed, event),
        ("the key reused", keyed, world.new_battery_event()),
        ("registered twice", maker, event),
        ("receipt by a stranger", world.auth("other"), _receipt(world)),
    ]


def _receipt(world: ApiWorld) -> dict[str, Any]:
    return {
        "type": "received",
        "actor": world.ids["other"],
        "occurred_at": "2026-03-02T08:00:00+08:00",
        "batteries": [world.shipped],
        "counterparty": world.ids["maker"],
    }


def _answers(world: ApiWorld) -> list[tuple[str, int, Any]]:
    found = []
    for name, headers, body in _cases(world):
        answer = world.client.post(PATH, json=body, headers=headers)
        data = answer.json()
        if answer.status_code >= 400:
            shape = {k: data["error"].get(k) for k in ("code", "field", "rule")}
        else:
            shape = (sorted(data), answer.headers.get("Idempotent-Replayed"))
        found.append((name, answer.status_code, shape))
    return found


def test_both_writers_answer_alike(tmp_path: Path) -> None:
    answers = {}
    for writer in ("process", "thread"):
        settings = load_settings({"BATTRACE_API_REPORT_WRITER": writer})
        with build_world(tmp_path / f"{writer}.db", settings) as world:
            answers[writer] = _answers(world)
    assert answers["process"] == answers["thread"]
    statuses = {name: status for name, status, _ in answers["process"]}
    assert statuses["accepted"] == 201
    assert statuses["the same again"] == 201
    assert statuses["unknown token"] == 401
    assert statuses["revoked token"] == 401
    assert statuses["as another firm"] == 403
    assert statuses["the key reused"] == 409
    assert statuses["registered twice"] == 409
    assert statuses["unknown type"] == 422
    assert statuses["receipt by a stranger"] >= 400


def test_one_group_many_outcomes_across_processes(
    api: ApiWorld, worker: tuple[ReportProcess, TouchedBatteries]
) -> None:
    writer, touched = worker
    group = mixed_group(api)  # the fourth repeats the third's key: answered after it
    before = api.store.count("events")
    writer.commit_group(group)
    outcomes = [_outcome(r.answer) for r in group]
    accepted = [o for o in outcomes if isinstance(o, Answer)]
    assert [isinstance(o, Answer) for o in outcomes] == [1, 0, 1, 0, 1, 0, 1]
    refused = [o for o in outcomes if isinstance(o, BattraceError)]
    assert [(e.field, e.rule) for e in refused[:2]] == [
        ("type", "enum"),
        ("Idempotency-Key", "idempotency_key_reuse"),
    ]
    assert refused[2].rule is not None  # the badly signed copy of an event
    assert api.store.count("events") == before + 4
    ids = sorted(orjson.loads(a.body)["id"] for a in accepted)
    assert ids == list(range(before + 1, before + 5))
    assert sorted(a.event_id for a in accepted if a.event_id is not None) == ids
    taken = touched.take()
    assert taken is not None
    assert (taken[1], taken[2]) == (before + 1, before + 4)
    assert verify_log(api.store, log_service.log_verifier_key(api.store)).ok


def test_closing_ends_a_worker_started_without_the_queue_s_thread(api: ApiWorld) -> None:
    writer = ReportProcess(api.store.location, api.settings)
    report = Report(api.ids["maker"], api.new_battery_event())
    writer.commit_group([report])  # as a caller writing its own groups does, no thread
    outcome = _outcome(report.answer)
    assert isinstance(outcome, Answer)
    assert outcome.status == 201
    pid = writer.pid()
    assert pid is not None
    writer.close()
    assert writer.pid() is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # ended and reaped (it stayed until pytest ended before)


def test_a_dead_worker_fails_its_reports_and_is_replaced(
    api: ApiWorld, worker: tuple[ReportProcess, TouchedBatteries]
) -> None:
    writer, _ = worker
    maker = api.ids["maker"]
    first = _outcome(writer.submit(Report(maker, api.new_battery_event())))
    assert isinstance(first, Answer)
    assert first.status == 201
    pid = writer.pid()
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # it takes no more reports ...
    before = api.store.count("events")
    lost = writer.submit(Report(maker, api.new_battery_event()))
    time.sleep(0.3)  # ... while this one is sent to it
    os.kill(pid, signal.SIGKILL)
    error = _outcome(lost)
    assert isinstance(error, StoreError)
    assert error.status == 503
    assert "Idempotency-Key" in error.message
    assert api.store.count("events") == before
    again = _outcome(writer.submit(Report(maker, api.new_battery_event())))
    assert isinstance(again, Answer)
    assert again.status == 201
    assert writer.pid() not in (None, pid)  # that report started another worker


def test_close_answers_every_report_sent_then_ends_the_worker(
    api: ApiWorld, worker: tuple[ReportProcess, TouchedBatteries]
) -> None:
    writer, _ = worker
    writer.start()
    pid = writer.pid()
    assert pid is not None
    sent = [writer.submit(Report(api.ids["maker"], api.new_battery_event())) for _ in range(20)]
    writer.close()
    assert all(f.done() for f in sent)
    assert {_outcome(f).status for f in sent} == {201}  # type: ignore[union-attr]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    refused = writer.submit(Report(api.ids["maker"], api.new_battery_event()))
    error = refused.exception(timeout=1)
    assert isinstance(error, StoreError)
    assert error.status == 503


def test_an_unexpected_error_crosses_as_a_plain_one() -> None:
    report = Report("x", {})
    report.answer.set_exception(KeyError("lost"))  # not picklable in general: sent as text
    found = _portable(report)
    assert isinstance(found, RuntimeError)
    assert "KeyError" in str(found)
    kept = Report("x", {})
    kept.answer.set_exception(StoreError("down"))
    assert isinstance(_portable(kept), StoreError)
    answered = Report("x", {})
    answered.answer.set_result(Answer(201, b"{}"))
    assert _portable(answered) == Answer(201, b"{}")


def test_the_worker_does_not_import_the_app() -> None:
    # the worker imports the writer alone: the app's import costs seconds at each start
    code = (
        "import sys, battrace.api.report_process, battrace.api;"
        "assert 'battrace.api.app' not in sys.modules;"
        "from battrace.api import create_app;"
        "assert 'battrace.api.app' in sys.modules and callable(create_app)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    import battrace.api

    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        battrace.api.nothing  # noqa: B018


def test_a_worker_process_does_not_import_the_command_line() -> None:
    # a spawned worker first runs its parent's main script as __mp_main__: for `battrace
    # serve` that is the installed `battrace` script, which must not import the command line
    # (every command and ibis, DuckDB ...: a second or more before the writer's first report)
    script = Path(sys.executable).with_name("battrace")
    code = (
        "import runpy, sys;"
        f"runpy.run_path({str(script)!r}, run_name='__mp_main__');"
        "heavy = [m for m in ('battrace.cli', 'ibis', 'duckdb') if m in sys.modules];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    found = subprocess.run(
        [sys.executable, "-m", "battrace", "code", "parse", "--help"], capture_output=True
    )
    assert found.returncode == 0
    assert b"Usage" in found.stdout


def test_start_returns_once_the_worker_is_ready(
    worker: tuple[ReportProcess, TouchedBatteries],
) -> None:
    writer, _ = worker
    writer.start()
    # the worker has imported what it needs and opened the database: the first reports do not
    # wait for that (the process takes a good part of a second to get there)
    assert writer._worker is not None
    assert writer._worker.wait_ready(0)


def test_a_worker_that_cannot_start_neither_hangs_start_nor_its_reports(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = ReportProcess(str(tmp_path / "no-such-dir" / "x.db"), load_settings())
    try:
        began = time.monotonic()
        writer.start()
        assert time.monotonic() - began < 30
        assert "was not ready" in caplog.text
        error = _outcome(writer.submit(Report("x", {"type": "produced"})))
        assert isinstance(error, StoreError)
        assert error.status == 503
    finally:
        writer.close()


def test_long_lived_processes_collect_less_often() -> None:
    # the server and its report writer call this once started (api/collector.py)
    import gc

    from battrace.api.collector import GC_THRESHOLDS, tune_collector

    before = gc.get_threshold()
    try:
        tune_collector()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 0  # what start-up made is out of the collections
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
