"""Incremental alert updates: new events re-evaluate the alerts of the batteries they touch.

:class:`AlertUpdater` is an event sink (:class:`battrace.services.reporting.EventSink`): passed
to ``report_events`` it notes the batteries and event ids each accepted batch touches.
:meth:`AlertUpdater.flush`, called after the batches committed (at the end of an import, or
every ``BATTRACE_SUPERVISION_SECONDS`` in the server), re-evaluates the per-battery rules over
those batteries only (:func:`battrace.supervision.service.update_alerts`) and reconciles their
alerts. A full sweep at the same evaluation day finds the same alerts (tested).

What the rules need of the new events themselves (their stored columns, their
``event_batteries`` links, the VINs they name) the sink also keeps, chunk by chunk, up to
``keep_events`` events, with the states the chunk wrote of the batteries it changed (the
optional ``on_batteries`` hook of ``report_events``): a flush then reads from the store only
the older history of the touched batteries, the packs sharing their vehicles and the small
tables. A kept chunk is used only once the store shows it committed: the leaf of its last event
(salted, so unique) must be the stored one, and the chunks must cover the new ids without a
gap; kept states only when no event was written after the last one seen. Otherwise (a batch
rolled back, events written by another process, the log turned off, too many events) the
flush reads them from the store, which gives the same extract (tested).

The evaluation can run in a **worker process** (:mod:`.worker`, :meth:`AlertUpdater.
start_worker`): it loads DuckDB and the rules' cached SQL while the import runs, the sink hands
it each chunk as it comes, and it makes the chunk's facts at once (``engine.Stage``); a flush
then has it read the store through a connection of its own (committed events only) and
evaluate, and reconciles what it found here, in order. :meth:`AlertUpdater.flush_later` lets
an importer go on meanwhile: it reconciles what the previous call handed over and hands over
what is new; :meth:`AlertUpdater.wait` reconciles the last one. When a transaction that holds
every pending event is about to commit, the sink has the worker evaluate it at once
(:func:`_worker_ahead`), and the flush takes that result if the store holds nothing else
new. On a machine with a spare core an update then overlaps the next batch's import (and the
commit); it costs more CPU in all (the worker's start and its copy of the events), so no
worker starts on one core. An error in the worker is raised by the next ``flush_later``,
``flush`` or ``wait``; a worker that stops is replaced by evaluating here.

Rules that wait for time to pass (a pack not collected within 60 days) can only fire for a
battery nobody reports about when something re-evaluates it: the server's periodic sweep
(``BATTRACE_SUPERVISION_SWEEP_HOURS``) does that.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from array import array
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, Final

import pyarrow as pa

from battrace.domain.entities import BatteryState
from battrace.store.base import Store
from battrace.store.rows import EventRow, json_text
from battrace.store.writes import WriteTransaction
from battrace.supervision.config import RuleSettings
from battrace.supervision.tables import BODY_TYPES, EXPORT_TABLES, body_vin

if TYPE_CHECKING:
    from battrace.supervision.engine import Fresh, Stage
    from battrace.supervision.findings import Finding
    from battrace.supervision.worker import WorkerProcess

# the bodies that name batteries besides those listed, and where (domain.events.involved_codes)
LOGGER = logging.getLogger(__name__)

_NAMED: Final = {
    "produced": ("children",),
    "assembled": ("children",),
    "replaced": ("new",),
    "swapped": ("new",),
    "repurposed": ("product",),
    "dismantled": ("parts",),
}
_EVENTS: Final = next(t for t in EXPORT_TABLES if t.name == "events")
_EVENT_SCHEMA: Final = pa.schema(list(_EVENTS.columns))
_BATTERIES: Final = next(t for t in EXPORT_TABLES if t.name == "batteries")
_BATTERY_SCHEMA: Final = pa.schema(list(_BATTERIES.columns))
_LINK_SCHEMA: Final = pa.schema([("code", pa.string()), ("event_id", pa.int64())])
#: cores a machine needs for :meth:`AlertUpdater.start_worker` to start a worker by default
WORKER_MIN_CORES: Final = 2
#: events kept in memory between two flushes, at most (about 150 bytes each)
KEEP_EVENTS: Final = 500_000


def involved_codes(event: EventRow) -> list[str]:
    """Every battery an event touches: those it lists and those its body names (the pack an
    exchange puts in, a second-life product, a unit's children or parts), as
    ``event_batteries`` links them."""
    keys = _NAMED.get(event.type)
    if keys is None:
        return list(event.batteries)
    body = event.body
    codes = dict.fromkeys(event.batteries)
    for key in keys:
        value = body.get(key)
        if isinstance(value, str):
            codes[value] = None
        elif isinstance(value, list):
            codes.update(dict.fromkeys(v for v in value if isinstance(v, str)))
    return list(codes)


#: the columns of ``events`` a chunk keeps (``ref`` is read by no rule)
_KEPT: Final = (
    "id",
    "type",
    "actor",
    "counterparty",
    "occurred_at",
    "reported_at",
    "place",
    "batteries",
    "body",
    "corrects",
)


#: the columns of ``batteries`` a chunk keeps of the states it wrote (the others are read by
#: no rule: engine._LEAN)
_STATE_KEPT: Final = (
    "code",
    "level",
    "maker",
    "spec",
    "second_life",
    "produced_event",
    "state",
    "holder",
    "vin",
    "province",
    "last_event",
)
_STATE_INTS: Final = frozenset(("second_life", "produced_event", "last_event"))
# the states whose composition a rule reads (engine._LEAN)
_TREATED: Final = frozenset(("recycled", "disposed", "repurposed", "dismantled"))


@dataclass(slots=True)
class _Chunk:
    """The new events of one ``on_events`` call: the stored values of the :data:`_KEPT`
    columns, ``body`` lean (``{}`` unless a per-battery rule reads it), as plain lists of the
    row's own objects; the battery codes of the events whose ``event_batteries`` links are not
    just the batteries they list; the VINs the bodies name; and, once written, the states of
    the batteries the chunk changed (the :data:`_STATE_KEPT` columns)."""

    first: int
    last: int
    leaf: bytes  # the last event's log leaf: tells a committed chunk from a rolled-back one
    columns: tuple[list[Any], ...]
    named: dict[int, list[str]]
    vins: frozenset[str]
    states: tuple[list[Any], ...] | None = None


def _states(batteries: Sequence[BatteryState]) -> tuple[list[Any], ...]:
    return (
        [b.code for b in batteries],
        [b.level for b in batteries],
        [b.maker for b in batteries],
        [json_text(b.spec) if b.state.value in _TREATED else "{}" for b in batteries],
        [int(b.second_life) for b in batteries],
        [b.produced_event for b in batteries],
        [b.state.value for b in batteries],
        [b.holder for b in batteries],
        [b.vin for b in batteries],
        [b.province for b in batteries],
        [b.last_event for b in batteries],
    )


def _chunk(events: Sequence[EventRow], named: dict[int, list[str]], vins: set[str]) -> _Chunk:
    texts = [e.json_texts() for e in events]  # made once; the insert that follows reuses them
    body_types = BODY_TYPES
    columns = (
        [e.id for e in events],
        [e.type for e in events],
        [e.actor for e in events],
        [e.counterparty for e in events],
        [e.occurred_at for e in events],
        [e.reported_at for e in events],
        [e.place for e in events],
        [t[0] for t in texts],
        [t[1] if e.type in body_types else "{}" for e, t in zip(events, texts, strict=True)],
        [e.corrects for e in events],
    )
    leaf = events[-1].leaf
    assert leaf is not None
    return _Chunk(events[0].id, events[-1].id, bytes(leaf), columns, named, frozenset(vins))


@dataclass(slots=True)
class _Pending:
    """What a flush works on: taken from the updater at once, so that the sink may go on."""

    codes: set[str]
    first: int | None
    last: int | None
    chunks: list[_Chunk] | None  # None: not kept (too many, no log leaves)


_Found = tuple[list["Finding"], list["Finding"], frozenset[str], frozenset[str]] | None


class AlertUpdater:
    """Collects what accepted events touched; :meth:`flush` updates their alerts.

    ``keep_events`` bounds how many new events are kept in memory between two flushes (0: none;
    past it the flush reads them back from the store)."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        settings: RuleSettings | None = None,
        as_of: date | None = None,
        keep_events: int = KEEP_EVENTS,
    ) -> None:
        self.store = store
        self.settings = settings
        self.as_of = as_of
        self.keep_events = keep_events
        self._lock = threading.Lock()
        self._codes: set[str] = set()
        self._first: int | None = None
        self._last: int | None = None
        self._chunks: list[_Chunk] | None = [] if keep_events > 0 else None
        self._kept = 0
        self._open: _Chunk | None = None  # the chunk whose states on_batteries brings
        self._worker: WorkerProcess | None = None
        self._worker_lost = False  # a worker stopped: evaluate here from then on
        self._seen = 0  # events seen, for start_worker(after_events=...)
        self._tx_first: int | None = None  # the first event of the transaction under way
        self._target: Store | None = None  # the store the worker reads
        self._start_after: int | None = None
        self._warming = False  # the worker's warm-up answer is still to be read
        # the evaluation handed to the worker: its rules, and what it covers (to redo it here
        # should the worker stop)
        self._running: tuple[list[str], _Pending] | None = None

    def __enter__(self) -> AlertUpdater:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- EventSink ----------------------------------------------------------------------------
    def on_events(self, tx: WriteTransaction, events: Sequence[EventRow]) -> None:
        if not events:
            return
        self._seen += len(events)
        if self._tx_first is None:
            self._tx_first = events[0].id
        if self._start_after is not None and self._seen >= self._start_after:
            self._start_now()
        codes: set[str] = set()
        named: dict[int, list[str]] = {}
        vins: set[str] = set()
        for event in events:
            kind = event.type
            if kind in _NAMED:
                involved = involved_codes(event)
                codes.update(involved)
                if len(involved) != len(event.batteries):
                    named[event.id] = involved
            else:
                codes.update(event.batteries)
            if kind in BODY_TYPES:
                vin = body_vin(kind, event.body)
                if vin is not None:
                    vins.add(vin)
        chunk = None
        if self._chunks is not None and all(e.leaf is not None for e in events):
            chunk = _chunk(events, named, vins)
        # a batch that later rolls back leaves its codes here: re-evaluating a battery that
        # did not change finds what it found before, so that costs time, never correctness
        with self._lock:
            self._codes.update(codes)
            self._first = _low(self._first, events[0].id)
            self._last = _high(self._last, events[-1].id)
            chunks = self._chunks
            if chunks is None:
                return
            if chunk is None:  # not logged: nothing tells a committed chunk, read them back
                self._chunks, self._kept = None, 0
                self._post("overflow")
                return
            self._open = chunk
            if self._worker is not None:  # the worker keeps it (and sees rollbacks the same)
                self._post("chunk", _encode(chunk))
                return
            # ids come again after a rollback: the chunks that held them were never written
            while chunks and chunks[-1].last >= chunk.first:
                popped = chunks.pop()
                self._kept -= popped.last - popped.first + 1
            chunks.append(chunk)
            self._kept += len(events)
            if self._kept > self.keep_events:
                self._chunks, self._kept = None, 0

    def on_batteries(self, tx: WriteTransaction, batteries: Sequence[BatteryState]) -> None:
        """The states the chunk just seen wrote: kept with it (a flush then need not read the
        batteries it changed back, when nothing was written after)."""
        chunk, self._open = self._open, None
        if chunk is None:
            return
        states = _states(batteries)
        with self._lock:
            if self._worker is not None:
                self._post("states", chunk.first, _encode_states(states))
            else:
                chunk.states = states

    def before_commit(self, tx: WriteTransaction) -> None:
        """When the transaction about to commit holds every event pending (a flush is likely
        next: the end of an import, or of a batch flushed after it), the worker evaluates
        them now, on its core, while the transaction commits; the flush then takes that
        result if the store holds nothing it did not see (else it evaluates again)."""
        tx_first, self._tx_first = self._tx_first, None
        with self._lock:
            target, first, last = self._target, self._first, self._last
            if (
                self._worker is None
                or target is None
                or tx_first is None
                or first != tx_first
                or last is None
                or self._chunks is None
            ):
                return
            self._post(
                "ahead",
                target.location,
                sorted(self._codes),
                first,
                last,
                self._rules()[0],
                self.as_of,
            )

    # -- flushing -----------------------------------------------------------------------------
    def _take(self) -> _Pending:
        with self._lock:
            pending = _Pending(self._codes, self._first, self._last, self._chunks)
            self._codes, self._first, self._last = set(), None, None
            self._chunks = [] if self.keep_events > 0 else None
            self._kept = 0
        return pending

    def _rules(self) -> tuple[RuleSettings, list[str]]:
        from battrace.supervision.config import BATTERY_RULES

        if self.settings is None:
            from battrace.supervision.service import settings_from_env

            self.settings = settings_from_env()
        return self.settings, [r for r in self.settings.rules if r in BATTERY_RULES]

    def start_worker(
        self,
        store: Store | None = None,
        *,
        after_events: int = 0,
        min_cores: int = WORKER_MIN_CORES,
    ) -> bool:
        """Start the worker process (:mod:`.worker`) that evaluates the flushes from now on,
        and have it load what an evaluation needs (DuckDB, the compiled SQL, the calendar) at
        once, while the caller imports; from then on the sink hands it the new events as they
        come. With ``after_events``, only once the sink has seen that many events (a small
        import is over before a worker is ready: it is evaluated here).

        A worker costs CPU (its start, its copy of the events) to save the caller's time: it
        pays only with a core to itself (on two cores, with nothing else running, it was
        measured to take an import's overhead from 26 % to 13 %: benchmarks/RESULTS.md). Not
        started (False) on a machine with fewer than ``min_cores`` cores (default 2; 3 leaves
        a core to the rest of a busy machine), for a store no other process can open
        (in-memory SQLite), or after a worker stopped."""
        target = store or self.store
        if target is not None:
            self._target = target
        if self._worker is not None:
            return True
        if (
            self._worker_lost
            or (target is not None and target.location == ":memory:")
            or _cores() < max(2, min_cores)
        ):
            return False
        if after_events > self._seen:
            self._start_after = after_events
            return False
        return self._start_now()

    def _start_now(self) -> bool:
        self._start_after = None
        if self._worker is not None or self._worker_lost:
            return self._worker is not None
        from battrace.supervision.worker import WorkerProcess

        try:
            worker = WorkerProcess()
        except OSError as exc:
            LOGGER.warning("cannot start the alert worker (%s): alerts are evaluated here", exc)
            self._worker_lost = True
            return False
        with self._lock:
            self._worker, self._warming = worker, True
            self._post("warm_up", self._rules()[0], self.keep_events, answer=True)
            for chunk in self._chunks or ():  # kept before the worker started
                self._post("chunk", _encode(chunk))
                if chunk.states is not None:
                    self._post("states", chunk.first, _encode_states(chunk.states))
            if self._chunks is None:
                self._post("overflow")
            if self._worker is not None:
                self._chunks, self._kept = ([] if self.keep_events > 0 else None), 0
        return self._worker is not None

    def _post(self, name: str, *args: Any, answer: bool = False) -> bool:
        """Hand a request to the worker; False (and the worker given up) if it has stopped."""
        from battrace.supervision.worker import WorkerStopped

        worker = self._worker
        if worker is None:
            return False
        try:
            worker.post(name, *args, answer=answer)
        except WorkerStopped as exc:
            self._lose_worker(exc)
            return False
        return True

    def _lose_worker(self, exc: BaseException) -> None:
        """The worker stopped: evaluate here from now on. The new events it held are read
        back from the store by the next flush."""
        LOGGER.warning("the alert worker stopped (%s): alerts are evaluated here", exc)
        worker, self._worker = self._worker, None
        self._worker_lost, self._warming = True, False
        self._chunks, self._kept = None, 0
        if worker is not None:
            worker.kill()

    def flush(
        self,
        store: Store | None = None,
        *,
        writing: Callable[[], AbstractContextManager[Any]] | None = None,
    ) -> dict[str, Any]:
        """Update the alerts of everything touched since the last flush, reading through
        ``store`` (default the updater's) and writing through it or, when given, the store
        ``writing`` lends for the reconcile only; returns the reconcile counts (empty when
        nothing was touched). An evaluation :meth:`flush_later` handed to the worker is
        reconciled first; with a worker, this evaluation runs there too."""
        counts = self.wait(store, writing=writing)
        target = store or self.store
        if target is None:
            return counts
        if self._worker is not None:
            left = self._submit(target)
            if left is None:
                return _add(counts, self.wait(target, writing=writing))
            return _add(counts, self._update_here(target, left, writing))
        return _add(counts, self._update_here(target, self._take(), writing))

    def _update_here(
        self,
        target: Store,
        pending: _Pending,
        writing: Callable[[], AbstractContextManager[Any]] | None,
    ) -> dict[str, Any]:
        if pending.first is None or pending.last is None:
            return {}
        from battrace.supervision.service import update_alerts

        return update_alerts(
            target,
            sorted(pending.codes),
            pending.first,
            pending.last,
            as_of=self.as_of,
            settings=self._rules()[0],
            writing=writing,
            fresh=_fresh(target, pending),
        )

    def flush_later(self, store: Store | None = None) -> dict[str, Any]:
        """Reconcile the evaluation the previous call handed to the worker (its counts are
        returned), then hand it everything touched since; :meth:`wait` (or :meth:`flush`)
        reconciles that. Starts the worker if needed (:meth:`start_worker`); where none runs,
        flushes at once."""
        target = store or self.store
        if target is None or not (self._worker is not None or self.start_worker(target)):
            return self.flush(target)
        counts = self.wait(target)
        left = self._submit(target)
        if left is not None:
            counts = _add(counts, self._update_here(target, left, None))
        return counts

    def _submit(self, target: Store) -> _Pending | None:
        """Hand what is pending to the worker; what it could not take (it stopped) is
        returned, to be evaluated here."""
        pending = self._take()
        if pending.first is None or pending.last is None:
            return None
        settings, rules = self._rules()
        posted = self._post(
            "findings",
            target.location,
            sorted(pending.codes),
            pending.first,
            pending.last,
            settings,
            self.as_of,
            answer=True,
        )
        pending.chunks = None  # in the worker now
        if not posted:
            return pending
        self._running = (rules, pending)
        return None

    def wait(
        self,
        store: Store | None = None,
        *,
        writing: Callable[[], AbstractContextManager[Any]] | None = None,
    ) -> dict[str, Any]:
        """Reconcile the evaluation handed to the worker, if any (raising what it raised; if
        the worker stopped, the evaluation is made here instead); returns the reconcile
        counts."""
        from battrace.supervision.worker import WorkerStopped

        running, self._running = self._running, None
        target = store or self.store
        if running is None or target is None:
            return {}
        rules, pending = running
        worker = self._worker
        try:
            if worker is None:
                raise WorkerStopped("the alert worker was given up")
            if self._warming:
                self._warming = False
                # a failed warm-up fails the evaluation below too, which says why
                with contextlib.suppress(Exception):
                    worker.answer()
            found: _Found = worker.answer()
        except WorkerStopped as exc:
            self._lose_worker(exc)
            return self._update_here(target, pending, writing)
        if found is None:
            return {}
        from battrace.supervision.service import reconcile_scoped

        others, late, added, rejudged = found
        touched = frozenset(pending.codes).union(added)
        return reconcile_scoped(
            target, others, late, touched, rules, writing=writing, rejudged=rejudged
        )

    def close(self) -> None:
        """Stop the worker process (an evaluation under way is left unreconciled: call
        :meth:`wait` first to keep it)."""
        self._running = None
        self._warming = False
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.close()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# -- chunks on the way to the worker --------------------------------------------------------
# Text columns travel as one string each, values joined by NUL, a missing value written as
# SOH: pickling a few long strings costs a copy, pickling 100,000 short ones costs 100,000
# objects. No stored value holds a NUL (codes, timestamps and canonical JSON, which escapes
# control characters); the counts are checked, and a column that does not fit travels as is.
_SEP, _NULL = "\x00", "\x01"


def _encode_texts(values: list[Any]) -> tuple[str, bool] | list[Any]:
    missing = values.count(None)
    texts = [_NULL if v is None else v for v in values] if missing else values
    try:
        joined = _SEP.join(texts)
    except TypeError:
        return values
    if joined.count(_SEP) != len(values) - 1 or (missing and joined.count(_NULL) != missing):
        return values
    return joined, bool(missing)


def _decode_texts(encoded: tuple[str, bool] | list[Any], n: int) -> list[Any]:
    if isinstance(encoded, list):
        return encoded
    joined, missing = encoded
    values: list[Any] = joined.split(_SEP) if n else []
    if missing:
        values = [None if v == _NULL else v for v in values]
    return values


def _encode(chunk: _Chunk) -> tuple[Any, ...]:
    ids, *texts = chunk.columns
    return (
        chunk.first,
        chunk.last,
        chunk.leaf,
        array("q", ids).tobytes(),
        [_encode_texts(t) for t in texts],
        chunk.named,
        chunk.vins,
    )


def _decode(message: tuple[Any, ...]) -> _Chunk:
    first, last, leaf, id_bytes, texts, named, vins = message
    ids = array("q")
    ids.frombytes(id_bytes)
    n = len(ids)
    columns = (ids.tolist(), *(_decode_texts(t, n) for t in texts))
    return _Chunk(first, last, leaf, columns, named, vins)


def _encode_states(states: tuple[list[Any], ...]) -> list[Any]:
    return [
        array("q", values).tobytes() if name in _STATE_INTS else _encode_texts(values)
        for name, values in zip(_STATE_KEPT, states, strict=True)
    ]


def _decode_states(encoded: list[Any]) -> tuple[list[Any], ...]:
    n = len(array("q", encoded[_STATE_KEPT.index("last_event")]))
    out: list[list[Any]] = []
    for name, value in zip(_STATE_KEPT, encoded, strict=True):
        if name in _STATE_INTS:
            ints = array("q")
            ints.frombytes(value)
            out.append(ints.tolist())
        else:
            out.append(_decode_texts(value, n))
    return tuple(out)


# -- the worker process ---------------------------------------------------------------------
_READERS: dict[str, Store] = {}


@dataclass(slots=True)
class _Held:
    """The chunks the worker holds for the next evaluation, ready for the scoped engine."""

    chunks: list[tuple[_Chunk, Fresh]]
    kept: int = 0
    overflow: bool = False
    limit: int = KEEP_EVENTS


_HELD = _Held([])
_STAGE: list[Stage] = []  # the worker's stage, made by the warm-up


def _warm_up(settings: RuleSettings, keep_events: int) -> None:
    """Load what an evaluation needs: DuckDB and its Arrow bridge (which imports pandas), the
    calendar table, the rules' SQL (compiled and cached on disk when missing)."""
    from battrace.supervision.engine import Stage
    from battrace.supervision.service import prepare_scoped

    _HELD.limit = keep_events
    prepare_scoped(settings)
    if not _STAGE:
        _STAGE.append(Stage())


def _worker_chunk(message: tuple[Any, ...]) -> None:
    """Keep a chunk the sink sent, as Arrow (the work is done while the import goes on)."""
    chunk = _decode(message)
    held = _HELD
    if held.overflow:
        return
    # ids come again after a rollback: the chunks that held them were never written
    while held.chunks and held.chunks[-1][0].last >= chunk.first:
        popped = held.chunks.pop()[0]
        held.kept -= popped.last - popped.first + 1
    fresh = _as_fresh([chunk])
    held.chunks.append((replace(chunk, columns=()), fresh))
    held.kept += chunk.last - chunk.first + 1
    if held.kept > held.limit:
        _worker_overflow()
    elif _STAGE:  # the facts of these events, made now rather than at the flush
        _STAGE[0].add(chunk.first, chunk.last, fresh.events, fresh.links)


def _worker_states(first: int, encoded: list[Any]) -> None:
    """Keep the states the chunk starting at ``first`` wrote."""
    for chunk, _ in reversed(_HELD.chunks):
        if chunk.first == first:
            chunk.states = _decode_states(encoded)
            return


def _worker_overflow() -> None:
    """Too many events (or some not logged): the next evaluation reads them from the store."""
    _HELD.chunks, _HELD.kept, _HELD.overflow = [], 0, True
    if _STAGE:
        _STAGE[0].clear()


def _worker_findings(
    location: str,
    codes: list[str],
    first: int,
    last: int,
    settings: RuleSettings,
    as_of: date | None,
) -> _Found:
    """In the worker: the findings over ``codes`` after events ``first .. last`` (see
    ``service.scoped_findings``), read through this process's own connection to the store at
    ``location``, the new events from the chunks held when they are all there and committed;
    of the batteries in scope, only those not in ``codes`` are returned."""
    from battrace.supervision.service import scoped_findings

    reader = _reader(location)
    held = None if _HELD.overflow else _HELD.chunks
    _HELD.chunks, _HELD.kept, _HELD.overflow = [], 0, False
    ahead = _AHEAD.pop() if _AHEAD else None
    chunks = [c for c, _ in held] if held else []
    key = _Ahead.key_of((location, codes, first, last, settings, as_of), chunks)
    if (
        ahead is not None
        and ahead.key == key
        and _verified(reader, chunks, first, last)
        and _unchanged_since(reader, first, last, ahead.before)
    ):
        if _STAGE:
            _STAGE[0].clear()
        return _answer(ahead.found, codes)
    stage = _STAGE[0] if _STAGE else None
    fresh = None
    if held and _verified(reader, chunks, first, last):
        fresh = _concat([f for _, f in held], _batteries(reader, chunks, last))
    if fresh is None or stage is None or stage.ids != (first, last):
        stage = None
    try:
        found = scoped_findings(
            reader, codes, first, last, as_of=as_of, settings=settings, fresh=fresh, stage=stage
        )
    finally:
        if _STAGE:
            _STAGE[0].clear()
    return _answer(found, codes)


def _answer(found: _Found, codes: list[str]) -> _Found:
    if found is None:
        return None
    # the caller knows the codes it sent: only the batteries added to them travel back
    others, late, touched, rejudged = found
    return others, late, touched.difference(codes), rejudged


def _reader(location: str) -> Store:
    from battrace.store import open_store

    reader = _READERS.get(location)
    if reader is None:
        reader = _READERS[location] = open_store(location, migrate=False)
    return reader


@dataclass(frozen=True, slots=True)
class _Ahead:
    """An evaluation made before the events it covers were committed (:func:`_worker_ahead`):
    what it was asked, what the store held besides, and what it found."""

    key: tuple[Any, ...]
    before: tuple[Any, ...]
    found: _Found

    @staticmethod
    def key_of(asked: tuple[Any, ...], chunks: list[_Chunk]) -> tuple[Any, ...]:
        """The key of an evaluation asked with the arguments ``asked`` (those of
        :func:`_worker_findings`) over ``chunks``: their last leaves tell these events from
        others that took the same ids (a transaction that failed to commit, and its retry)."""
        location, codes, *rest = asked
        return (location, tuple(codes), *rest, tuple((c.first, c.last, c.leaf) for c in chunks))


_AHEAD: list[_Ahead] = []


def _worker_ahead(
    location: str,
    codes: list[str],
    first: int,
    last: int,
    settings: RuleSettings,
    as_of: date | None,
) -> None:
    """In the worker, as a transaction holding every pending event ``first .. last`` is about
    to commit: evaluate them now, on the other core, while it commits. The new events come
    from the chunks held; everything else read (older events, the rows of batteries they did
    not change, enterprises, whitelist, refused reports) is what the store held before them.
    :func:`_worker_findings` uses the result if nothing but these events was written since:
    the same findings as evaluating then, sooner."""
    from battrace.supervision.service import scoped_findings

    _AHEAD.clear()
    held = _HELD
    if held.overflow or not held.chunks:
        return
    chunks = [c for c, _ in held.chunks]
    if not _contiguous(chunks, first, last) or any(c.states is None for c in chunks):
        return
    reader = _reader(location)
    before = _store_mark(reader, first)
    fresh = _concat([f for _, f in held.chunks], _batteries(reader, chunks, last, current=False))
    stage = _STAGE[0] if _STAGE and _STAGE[0].ids == (first, last) else None
    found = scoped_findings(
        reader, codes, first, last, as_of=as_of, settings=settings, fresh=fresh, stage=stage
    )
    key = _Ahead.key_of((location, codes, first, last, settings, as_of), chunks)
    _AHEAD.append(_Ahead(key, before, found))


def _store_mark(store: Store, first: int) -> tuple[Any, ...]:
    """What an evaluation reads of the store besides the events from ``first`` on: the last
    event before them, the last refused report, whitelist change and the enterprises (all
    appended to, never rewritten)."""
    rows = store._connection().query(
        "SELECT (SELECT MAX(id) FROM events WHERE id < ?), (SELECT MAX(id) FROM rejections),"
        " (SELECT MAX(id) FROM whitelist_changes), (SELECT COUNT(*) FROM enterprises)",
        [first],
    )
    return tuple(rows[0])


def _unchanged_since(store: Store, first: int, last: int, before: tuple[Any, ...]) -> bool:
    """Whether the store holds what it held at ``before`` (:func:`_store_mark`) plus the
    events ``first .. last`` and nothing else."""
    rows = store._connection().query("SELECT MAX(id) FROM events")
    if not rows or rows[0][0] is None or int(rows[0][0]) != last:
        return False
    return _store_mark(store, first) == before


def _contiguous(chunks: list[_Chunk], first: int, last: int) -> bool:
    """Whether ``chunks`` cover the ids ``first .. last`` without a gap."""
    expected = first
    for chunk in chunks:
        if chunk.first != expected:
            return False
        expected = chunk.last + 1
    return expected == last + 1


def _verified(store: Store, chunks: list[_Chunk], first: int, last: int) -> bool:
    """Whether ``chunks`` cover the ids ``first .. last`` without a gap and the store shows
    each committed (its last event's leaf is the stored one)."""
    if not _contiguous(chunks, first, last):
        return False
    conn = store._connection()
    last_ids: list[Any] = [c.last for c in chunks]
    clause, params = conn.codes_clause("id", last_ids)
    stored = {
        int(r[0]): r[1] for r in conn.query(f"SELECT id, leaf FROM events WHERE {clause}", params)
    }
    for chunk in chunks:
        leaf = stored.get(chunk.last)
        if leaf is None or bytes(leaf) != chunk.leaf:
            return False
    return True


def _fresh(store: Store, pending: _Pending) -> Fresh | None:
    """The new events of ``pending`` from the kept chunks, when they cover every new id and
    the store shows each chunk committed (None: read them back from the store)."""
    chunks = pending.chunks
    if not chunks or pending.first is None or pending.last is None:
        return None
    if not _verified(store, chunks, pending.first, pending.last):
        return None
    return _concat([_as_fresh(chunks)], _batteries(store, chunks, pending.last))


def _batteries(
    store: Store, chunks: list[_Chunk], last: int, *, current: bool = True
) -> pa.Table | None:
    """The states the chunks wrote (the latest of each battery) as rows of ``batteries``
    (lean), when they are the stored ones: every chunk brought them and no event was written
    after ``last`` (a battery changes only with an event; ``current=False``: the caller
    checks that later). None otherwise."""
    if not chunks or any(c.states is None for c in chunks):
        return None
    if current:
        rows = store._connection().query("SELECT MAX(id) FROM events")
        if not rows or rows[0][0] is None or int(rows[0][0]) != last:
            return None
    latest: dict[str, int] = {}
    values: list[list[Any]] = [[] for _ in _STATE_KEPT]
    for chunk in chunks:
        assert chunk.states is not None
        for kept, more in zip(values, chunk.states, strict=True):
            kept.extend(more)
    for index, code in enumerate(values[0]):
        latest[code] = index  # a later chunk's state wins
    take = sorted(latest.values())
    by_name = {name: [v[i] for i in take] for name, v in zip(_STATE_KEPT, values, strict=True)}
    n = len(take)
    arrays = [
        pa.array(by_name[name], kind) if name in by_name else pa.nulls(n, kind)
        for name, kind in _BATTERIES.columns
    ]
    return pa.Table.from_arrays(arrays, schema=_BATTERY_SCHEMA)


def _as_fresh(chunks: list[_Chunk]) -> Fresh:
    """Chunks as the scoped engine reads new events: the events (lean) and their links as
    Arrow tables, and the VINs their bodies name."""
    import orjson

    from battrace.supervision.engine import Fresh

    values: list[list[Any]] = [[] for _ in _KEPT]
    named: dict[int, list[str]] = {}
    vins: set[str] = set()
    for chunk in chunks:
        for kept, more in zip(values, chunk.columns, strict=True):
            kept.extend(more)
        named.update(chunk.named)
        vins.update(chunk.vins)
    by_name = dict(zip(_KEPT, values, strict=True))
    n = len(values[0])
    arrays = [
        pa.array(by_name[name], kind) if name in by_name else pa.nulls(n, kind)
        for name, kind in _EVENTS.columns
    ]
    link_codes: list[str] = []
    link_ids: list[int] = []
    loads = orjson.loads
    for event_id, listed in zip(by_name["id"], by_name["batteries"], strict=True):
        codes = named.get(event_id)
        if codes is None:
            codes = loads(listed)
        link_codes.extend(codes)
        link_ids.extend([event_id] * len(codes))
    return Fresh(
        events=pa.Table.from_arrays(arrays, schema=_EVENT_SCHEMA),
        links=pa.Table.from_arrays(
            [pa.array(link_codes, pa.string()), pa.array(link_ids, pa.int64())], schema=_LINK_SCHEMA
        ),
        vins=frozenset(vins),
    )


def _concat(parts: list[Fresh], batteries: pa.Table | None = None) -> Fresh:
    from battrace.supervision.engine import Fresh

    return Fresh(
        events=pa.concat_tables([p.events for p in parts]),
        links=pa.concat_tables([p.links for p in parts]),
        vins=frozenset().union(*(p.vins for p in parts)),
        batteries=batteries,
    )


def _add(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    if not a:
        return b
    out = dict(a)
    for key, value in b.items():
        out[key] = out.get(key, 0) + value
    return out


def _low(a: int | None, b: int) -> int:
    return b if a is None else min(a, b)


def _high(a: int | None, b: int) -> int:
    return b if a is None else max(a, b)
