"""Single-event reports written by a process of their own.

The group-commit writer (:mod:`battrace.api.group_commit`) checks and writes each group in
Python: parsing events, the state machine, the log's leaves, SQLite calls. In the server's
process that work shares one interpreter lock with the event loop answering HTTP, and each
of the two waits for the other: at 50 closed-loop clients the writer thread was the
bottleneck (a profile of the server under wrk: 0.3 ms a report in the server, 0.1 ms alone;
in its own process the same load went 1.2x to 1.8x faster, benchmarks/RESULTS.md, HTTP
API). :class:`ReportProcess` keeps the queue and the groups in the server and hands
each group to one spawned process that writes it with its own connection to the same
database and its own :class:`~battrace.api.group_commit.GroupWriter`:

- the server's thread takes every report waiting as one group (as the in-process writer
  does), sends it over a pipe, and waits for the group's answers; meanwhile new reports
  queue up for the next group, so one group is in flight at a time;
- the process answers each report exactly as the in-process writer would (the same code:
  authentication by token, idempotency keys, checks, one transaction per group, reports
  repeating a key carried to a transaction after it) and says which batteries the group
  touched, for the supervision's next update (:class:`TouchedBatteries`);
- the database's single-writer lock orders the process's transactions with the server's
  other writes (batches, enterprises, alert sweeps), as it does the rule worker's;
- if the process dies, the reports of the group in flight get a 503 (they may or may not have
  been written: a retry with the same ``Idempotency-Key`` is safe) and the next group starts
  a new process.

It is the server's writer for a database another process can open (a SQLite file or
PostgreSQL; ``BATTRACE_API_REPORT_WRITER=thread`` keeps the writer in the server's process).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import pickle
import threading
from multiprocessing.connection import Connection
from typing import Any

from battrace.api.collector import tune_collector
from battrace.api.context import log_options
from battrace.api.group_commit import MAX_GROUP, GroupWriter, Report, ReportQueue
from battrace.api.idempotency import Answer
from battrace.api.storage import StoreAccess
from battrace.config import Settings
from battrace.errors import BattraceError, StoreError
from battrace.services import log as log_service
from battrace.supervision.process import Touched, TouchedBatteries, end_with_parent

LOGGER = logging.getLogger(__name__)

#: seconds :meth:`ReportProcess.close` waits for the process to end before killing it
STOP_SECONDS = 30.0
#: seconds :meth:`ReportProcess.start` waits for the process to be ready
READY_SECONDS = 60.0

# a report as sent: caller_id, data, signed, key, digest, token
_Sent = tuple[str, Any, Any, str | None, bytes, str | None]
_Outcome = Answer | BaseException


class ReportProcess(ReportQueue):
    """Groups of single-event reports, written by one worker process over ``target``."""

    def __init__(
        self, target: str, settings: Settings, touched: TouchedBatteries | None = None
    ) -> None:
        super().__init__()
        self._target = target
        self._settings = settings
        self._touched = touched
        self._worker: _Worker | None = None
        self._numbers = itertools.count()

    def start(self) -> None:
        """Start the thread and the process now rather than on the first report, and wait
        (up to :data:`READY_SECONDS`) until the process is ready to write: its imports done
        and its connection open, so that the first reports do not wait for them."""
        super().start()
        with self._lock:
            if not self._closed and self._worker is None:
                self._worker = _Worker(self._target, self._settings, self._touched)
            worker = self._worker
        if worker is not None and not worker.wait_ready(READY_SECONDS):
            LOGGER.warning("the report writer process was not ready after %.0f s", READY_SECONDS)

    def pid(self) -> int | None:
        """The worker process's id while it runs."""
        with self._lock:
            return self._worker.process.pid if self._worker is not None else None

    def commit_group(self, group: list[Report]) -> None:
        """Send ``group`` to the process (starting one if none runs); its answers come back
        on the worker's own thread, while this one sends the next group."""
        dead = None
        with self._lock:
            if self._worker is not None and not self._worker.alive():
                dead, self._worker = self._worker, None
            if self._worker is None:
                self._worker = _Worker(self._target, self._settings, self._touched)
            worker = self._worker
        if dead is not None:
            dead.stop()  # reaps the process that died
        worker.send([(next(self._numbers), report) for report in group])

    def _stopped(self) -> None:
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()  # the process ends once it has answered what it was sent


class _Worker:
    """One worker process, the pipes to it and the thread reading its answers."""

    def __init__(self, target: str, settings: Settings, touched: TouchedBatteries | None) -> None:
        context = multiprocessing.get_context("spawn")  # a fork would copy held locks
        requests_out, self._requests = context.Pipe(duplex=False)
        self._answers, answers_in = context.Pipe(duplex=False)
        self.process = context.Process(
            target=serve_reports,
            args=(requests_out, answers_in, target, settings, os.getpid()),
            name="battrace-report-writer",
            daemon=True,
        )
        self.process.start()
        requests_out.close()
        answers_in.close()
        self._touched = touched
        self._lock = threading.Lock()
        self._waiting: dict[int, Report] = {}
        self._gone = False
        self._ready = threading.Event()  # set by the process's first message, or its end
        self._reader = threading.Thread(
            target=self._read, name="battrace-report-answers", daemon=True
        )
        self._reader.start()

    def alive(self) -> bool:
        with self._lock:
            return not self._gone

    def wait_ready(self, seconds: float) -> bool:
        """Wait until the process has said it is ready (or has ended); whether it is ready."""
        return self._ready.wait(seconds) and self.alive()

    def send(self, numbered: list[tuple[int, Report]]) -> None:
        sent: list[tuple[int, _Sent]] = [
            (n, (r.caller_id, r.data, r.signed, r.key, r.digest, r.token)) for n, r in numbered
        ]
        payload = pickle.dumps(sent, pickle.HIGHEST_PROTOCOL)
        with self._lock:
            gone = self._gone
            if not gone:
                self._waiting.update(numbered)
        if gone:
            for _, report in numbered:
                report.answer.set_exception(_lost())
            return
        # not under the lock: a full pipe waits here while the reader goes on answering
        with contextlib.suppress(OSError):  # gone: the reader fails what it was sent
            self._requests.send_bytes(payload)

    def _read(self) -> None:
        while True:
            try:
                outcomes, touched = pickle.loads(self._answers.recv_bytes())
            except (EOFError, OSError):
                break
            if outcomes is None:  # the process is ready
                self._ready.set()
                continue
            if touched is not None and self._touched is not None:
                self._touched.give_back(touched)
            with self._lock:
                answered = [(self._waiting.pop(n), outcome) for n, outcome in outcomes]
            for report, outcome in answered:
                if isinstance(outcome, BaseException):
                    report.answer.set_exception(outcome)
                else:
                    report.answer.set_result(outcome)
        with self._lock:
            self._gone = True
            lost, self._waiting = list(self._waiting.values()), {}
        self._ready.set()  # nobody waits for a process that has ended
        if lost:
            LOGGER.error("the report writer process stopped with %d reports unanswered", len(lost))
        for report in lost:
            report.answer.set_exception(_lost())
        self._answers.close()

    def stop(self) -> None:
        """Let the process answer what it was sent and end; wait for it."""
        self._requests.close()
        self._reader.join(STOP_SECONDS)
        self.process.join(STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def _lost() -> StoreError:
    return StoreError(
        "the report writer stopped while writing this report, which may or may not have been"
        " written: retry it with the same Idempotency-Key"
    )


def serve_reports(
    requests: Connection, answers: Connection, target: str, settings: Settings, parent: int
) -> None:
    """The worker process: write the reports received on ``requests`` in groups, each group
    every report waiting (up to :data:`MAX_GROUP`), and send back on ``answers`` their
    outcomes and the batteries they touched, until ``requests`` closes."""
    threading.Thread(target=end_with_parent, args=(parent,), daemon=True).start()

    def prepare(store: Any) -> None:
        log_service.log_signer(store, settings.log_key_file)

    access = StoreAccess(target, readers=1, prepare=prepare)
    touched = TouchedBatteries()
    writer = GroupWriter(
        access,
        lambda: {**log_options(settings), "sinks": [touched]},
        settings.api_idempotency_hours,
    )
    waiting: list[tuple[int, _Sent]] = []
    ended = False
    tune_collector()  # as the server's (api/collector.py)
    try:
        with access.writing():  # open the connection (and the log's key) before the first group
            pass
        answers.send_bytes(pickle.dumps((None, None), pickle.HIGHEST_PROTOCOL))  # ready
        while waiting or not ended:
            try:  # wait for work, then take whatever else has arrived meanwhile
                if not waiting:
                    waiting.extend(pickle.loads(requests.recv_bytes()))
                while len(waiting) < MAX_GROUP and requests.poll():
                    waiting.extend(pickle.loads(requests.recv_bytes()))
            except EOFError:
                ended = True
            taken, waiting = waiting[:MAX_GROUP], waiting[MAX_GROUP:]
            if not taken:
                continue
            group = [
                Report(caller, data, signed, key, digest, token=token)
                for _, (caller, data, signed, key, digest, token) in taken
            ]
            writer.commit_all(list(group))
            outcomes = [(n, _portable(r)) for (n, _), r in zip(taken, group, strict=True)]
            found: Touched | None = touched.take()
            answers.send_bytes(pickle.dumps((outcomes, found), pickle.HIGHEST_PROTOCOL))
    finally:
        access.close()
        answers.close()


def _portable(report: Report) -> _Outcome:
    """The report's answer or error, as the server can unpickle it."""
    error = report.answer.exception()
    if error is None:
        return report.answer.result()
    if isinstance(error, BattraceError):
        return error
    return RuntimeError(f"report writer: {type(error).__name__}: {error}")


__all__ = ["ReportProcess", "serve_reports"]
