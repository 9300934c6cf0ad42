"""Group commit for single-event reports (``POST /api/v1/events``).

Concurrent reports wait in one queue; one writer thread takes every report waiting, checks and
writes them in **one transaction**, commits once, and only then answers each request. Under
load many reports share one commit (and its fsync) instead of queueing for one each; alone, a
report is its own group and waits for nobody.

Each report keeps its own outcome, as if it had been sent alone:

- a report that carries its bearer token (the fast path, api/single_reports.py) is
  authenticated here, in the group's transaction, and must report as its own enterprise
  (tokens seen before cost no query: ``services.tokens.TokenCache``, forgotten whenever a
  revocation has committed);
- its idempotency key is looked up and its answer recorded in the group's transaction;
- unsigned reports are checked together by ``report_events``; when one is refused the group
  is checked again without it (a report never depends on another concurrent one), and after
  :data:`RETRIES` refusals the rest go one by one, each in its own savepoint;
- a signed report is one submission with its own signature check, in its own savepoint;
- a report repeating an idempotency key already in the group waits for the next group.

If the commit itself fails, every report of the group gets that error: none was answered yet.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson

from battrace.api.idempotency import KEY_HEADER, Answer
from battrace.api.storage import StoreAccess
from battrace.domain.access import Caller
from battrace.domain.quantities import utc_now
from battrace.errors import BatchError, BattraceError, ConflictError, StoreError
from battrace.services.access import check_writes_as_caller
from battrace.services.enterprises import RegistryCache
from battrace.services.keys import SignedSubmission
from battrace.services.reporting import SourceItem, report_events
from battrace.services.tokens import TokenCache
from battrace.store.base import Store
from battrace.store.rows import EventRow, IdempotentAnswer, db_time
from battrace.store.writes import WriteTransaction

MAX_GROUP = 256
RETRIES = 3


@dataclass(eq=False)
class Report:
    """One report waiting for its group: who sent it, what, and where its answer goes."""

    caller_id: str
    data: Any
    signed: SignedSubmission | None = None
    key: str | None = None
    digest: bytes = b""
    token: str | None = None  # when set: authenticated by the writer, which sets caller_id
    answer: Future[Answer] = field(default_factory=Future)


class ReportQueue:
    """Reports wait here for one thread taking every report waiting as one group (started on
    first use, or by :meth:`start`); subclasses say how a group is written
    (:meth:`commit_group`), and may carry a report over to the next group (``_carry``)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Report | None] = queue.SimpleQueue()
        self._carry: list[Report] = []
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Start the thread now rather than on the first report."""
        with self._lock:
            if not self._closed:
                self._start()

    def _start(self) -> None:  # holding the lock
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="battrace-group-writer", daemon=True
            )
            self._thread.start()

    def submit(self, report: Report) -> Future[Answer]:
        """Queue ``report``; its future gets the answer once its group has committed."""
        with self._lock:  # never queued behind the thread's last group
            if self._closed:
                report.answer.set_exception(
                    StoreError("the API is shutting down: report again to the next server")
                )
                return report.answer
            self._start()
            self._queue.put(report)
        return report.answer

    def close(self) -> None:
        """Answer what is queued, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join()  # the thread calls _stopped as it ends
        else:  # no thread ran: what a caller's own commit_group started ends here
            self._stopped()

    def _run(self) -> None:
        stopping = False
        while not stopping or self._carry:
            group = self._carry
            self._carry = []
            if not group and not stopping:
                first = self._queue.get()
                if first is None:
                    stopping = True
                else:
                    group.append(first)
            while len(group) < MAX_GROUP and not stopping:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                else:
                    group.append(more)
            if group:
                self.commit_group(group)
        self._stopped()

    def commit_group(self, group: list[Report]) -> None:
        """Write ``group`` and answer each of its reports."""
        raise NotImplementedError

    def _stopped(self) -> None:
        """Called by the thread when it ends (after the last group)."""


class GroupWriter(ReportQueue):
    """Writes each group in one transaction of ``access``'s writer, in this process."""

    def __init__(
        self,
        access: StoreAccess,
        options: Callable[[], dict[str, Any]],
        idempotency_hours: int,
    ) -> None:
        super().__init__()
        self._access = access
        self._options = options
        self._hours = idempotency_hours
        self._tokens = TokenCache()  # the writer thread's own
        self._registry = RegistryCache()  # enterprises and keys, the same way

    def commit_all(self, group: list[Report]) -> None:
        """Write ``group`` and the reports it carries over, until every report is answered
        (what the thread does, for a caller that writes groups itself)."""
        while group:
            self.commit_group(group)
            group, self._carry = self._carry, []

    def commit_group(self, group: list[Report]) -> None:
        """Write ``group`` in one transaction and answer each report."""
        outcomes: dict[Report, Answer | BaseException] = {}
        try:
            with self._access.writing() as store, store.write() as tx:
                self._apply(store, tx, group, outcomes)
        except BaseException as exc:  # the transaction failed: nobody was answered yet
            for report in group:
                if report not in self._carry:
                    report.answer.set_exception(exc)
            return
        for report, outcome in outcomes.items():
            if isinstance(outcome, BaseException):
                report.answer.set_exception(outcome)
            else:
                report.answer.set_result(outcome)

    def _apply(
        self,
        store: Store,
        tx: WriteTransaction,
        group: list[Report],
        outcomes: dict[Report, Answer | BaseException],
    ) -> None:
        now = utc_now()
        expiry = db_time(now - timedelta(hours=self._hours))
        keys_seen: set[tuple[str, str]] = set()
        unsigned: list[Report] = []
        signed: list[Report] = []
        if any(r.token is not None for r in group):
            self._tokens.refresh(store)  # revocations committed before this transaction hold
        self._registry.refresh(store)  # and whitelist changes, keys registered or revoked
        for report in group:
            if report.token is not None:
                try:
                    enterprise = self._tokens.authenticate(store, report.token)
                    check_writes_as_caller(Caller(enterprise), None, report.data, "actor")
                except BattraceError as exc:
                    outcomes[report] = exc
                    continue
                report.caller_id = enterprise.id
            if report.key is not None:
                name = (report.caller_id, report.key)
                if name in keys_seen:
                    self._carry.append(report)  # after the first with this key has committed
                    continue
                keys_seen.add(name)
                tx.forget_idempotent_answers(report.caller_id, expiry)
                kept = tx.idempotent_answer(report.caller_id, report.key)
                if kept is not None:
                    outcomes[report] = _replay(report, kept)
                    continue
            (signed if report.signed is not None else unsigned).append(report)
        options = self._options()
        self._report_together(store, unsigned, outcomes, options)
        for report in signed:
            self._report_alone(store, report, outcomes, options)
        created = db_time(now)
        for report in group:
            outcome = outcomes.get(report)
            if report.key is not None and isinstance(outcome, Answer) and not outcome.replayed:
                tx.save_idempotent_answer(
                    IdempotentAnswer(
                        report.caller_id,
                        report.key,
                        report.digest,
                        outcome.status,
                        outcome.body,
                        created,
                    )
                )

    def _report_together(
        self,
        store: Store,
        reports: list[Report],
        outcomes: dict[Report, Answer | BaseException],
        options: dict[str, Any],
    ) -> None:
        remaining = list(reports)
        for _ in range(RETRIES):
            if not remaining:
                return
            kept = _Kept()
            try:
                with store.write():  # a savepoint: a refused group leaves nothing behind
                    report_events(
                        store,
                        [SourceItem(r.data) for r in remaining],
                        registry=self._registry,
                        **_with(options, kept),
                    )
            except BatchError as exc:
                refused = remaining.pop(exc.index)
                outcomes[refused] = exc.cause
                continue
            except Exception:  # not one report's fault: find out one by one
                break
            for report, row in zip(remaining, kept.rows, strict=True):
                outcomes[report] = _written(row)
            return
        for report in remaining:
            self._report_alone(store, report, outcomes, options)

    def _report_alone(
        self,
        store: Store,
        report: Report,
        outcomes: dict[Report, Answer | BaseException],
        options: dict[str, Any],
    ) -> None:
        kept = _Kept()
        try:
            with store.write():
                report_events(
                    store,
                    [SourceItem(report.data)],
                    signed=report.signed,
                    registry=self._registry,
                    **_with(options, kept),
                )
        except BatchError as exc:
            outcomes[report] = exc.cause
            return
        except Exception as exc:  # its own failure (a bad signature ...), not the group's
            outcomes[report] = exc
            return
        (row,) = kept.rows
        outcomes[report] = _written(row)


def _written(row: EventRow) -> Answer:
    return Answer(201, orjson.dumps(row.to_dict()), event_id=row.id)


class _Kept:
    """An event sink keeping the accepted rows: each report's answer is its row as stored,
    without reading it back."""

    def __init__(self) -> None:
        self.rows: list[EventRow] = []

    def on_events(self, tx: WriteTransaction, events: Sequence[EventRow]) -> None:
        self.rows.extend(events)

    def before_commit(self, tx: WriteTransaction) -> None:
        return None


def _with(options: dict[str, Any], kept: _Kept) -> dict[str, Any]:
    return {**options, "sinks": [*options.get("sinks", ()), kept]}


def _replay(report: Report, kept: IdempotentAnswer) -> Answer | BaseException:
    if kept.request_hash != report.digest:
        return ConflictError(
            f"{KEY_HEADER}: {report.key!r} was used for a different request; a retry must"
            " repeat the same request, a new request needs a new key"
            " [rule idempotency_key_reuse]",
            field=KEY_HEADER,
            rule="idempotency_key_reuse",
        )
    return Answer(kept.status, kept.response, replayed=True)


__all__ = ["MAX_GROUP", "GroupWriter", "Report", "ReportQueue"]
