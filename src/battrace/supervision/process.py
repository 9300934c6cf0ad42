"""The server's rule evaluation in a process of its own, away from the request path.

A server that evaluated the rules in one of its own threads would hold the interpreter lock
for the Arrow copies, the SQL compilation and the reconcile: with reports arriving, every
update every ``BATTRACE_SUPERVISION_SECONDS`` made the slowest reports four times slower
(measured: p99 27 ms without updates, 116 ms with them; benchmarks/RESULTS.md, HTTP API).
:class:`RuleProcess` runs that work in one spawned worker process with its own connection to
the same database:

- :meth:`RuleProcess.update`: the incremental update of the batteries new events touched,
  evaluated a chunk of batteries at a time; the worker writes their alerts itself, a slice
  of batteries per short transaction (the store's single-writer lock orders them with the
  server's writes, and with its reports' writer, api/report_process.py);
- :meth:`RuleProcess.sweep`: a full sweep, evaluated and then reconciled by the worker one
  part of the alert ids at a time (``alerts.reconcile_parts``), a short transaction each,
  pausing between parts, so that reports wait for one part at most.

The worker evaluates at a lower CPU priority than the server's (:data:`WORKER_NICENESS`):
reports come first; its writes, short, run at the server's priority. In the server, even
the reconcile of a sweep's parts held the interpreter lock the event loop answering HTTP
needs; now the server only asks and waits.

The worker starts on first use and is stopped by :meth:`RuleProcess.close`. An in-memory
SQLite database exists only in its own process: :func:`worker_can_open` says whether a
target can be handed to a worker.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Final, TypeVar

from battrace.store import Store, open_store
from battrace.store.rows import EventRow
from battrace.store.writes import WriteTransaction
from battrace.supervision.config import RuleSettings, load_settings
from battrace.supervision.findings import Finding
from battrace.supervision.incremental import involved_codes

#: seconds :meth:`RuleProcess.close` waits for the stopped worker to end
STOP_SECONDS: Final = 30.0
#: the CPU priority of the worker's evaluation below the server's (os.nice: 0 is the server's,
#: 19 the lowest)
WORKER_NICENESS: Final = 10

_store: Store | None = None
_settings: RuleSettings | None = None
_evaluator: ThreadPoolExecutor | None = None  # the worker's thread that evaluates
T = TypeVar("T")


def worker_can_open(target: str) -> bool:
    """Whether another process can open ``target`` (a file or a PostgreSQL URL)."""
    return target != ":memory:" and not target.startswith("file::memory:")


def _start(target: str, rules_file: str | None, parent: int, niceness: int = 0) -> None:
    """In the worker: open the store and read the rule settings once, and start the thread
    that evaluates, ``niceness`` below the process's CPU priority; end with the server even
    when it is killed (a pool's worker would wait for work forever)."""
    global _store, _settings, _evaluator
    _store = open_store(target, migrate=False)
    _settings = load_settings(rules_file)
    _evaluator = ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="battrace-rules", initializer=_lower, initargs=(niceness,)
    )
    threading.Thread(target=end_with_parent, args=(parent,), daemon=True).start()


def _lower(niceness: int) -> None:
    # on Linux a thread has its own priority, and the threads it starts (DuckDB's) inherit it
    if niceness:
        os.nice(niceness)


def _evaluated(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``work(*args, **kwargs)`` on the evaluating thread, at its lower priority: the rules'
    evaluation (seconds of CPU after a flood of events) gets what the request path leaves,
    while the writes that follow run on this thread at the server's own priority (a write
    transaction held at the lower priority made the reports behind it wait for the CPU)."""
    if _evaluator is None:
        return work(*args, **kwargs)
    return _evaluator.submit(work, *args, **kwargs).result()


def end_with_parent(parent: int) -> None:
    """Exit this process once ``parent`` is gone (a worker's thread: a server killed without
    closing its workers leaves none behind)."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _opened() -> tuple[Store, RuleSettings]:
    if _store is None or _settings is None:
        raise RuntimeError("the rule worker was not started")
    return _store, _settings


#: batteries evaluated together by an update
UPDATE_CHUNK = 1000
#: batteries whose alerts an update writes per transaction, and the pause between two: the
#: server's reports wait for one such transaction at most (1,000 batteries' 3,000 alerts held
#: the database for 40 to 120 ms, the reports behind them up to 99 ms)
WRITE_BATTERIES = 100
WRITE_PAUSE = 0.002


def _update(batteries: list[str], first_id: int, last_id: int) -> dict[str, int]:
    from battrace.supervision.config import BATTERY_RULES
    from battrace.supervision.service import reconcile_scoped_slices, scoped_findings

    store, settings = _opened()
    rules = [r for r in settings.rules if r in BATTERY_RULES]
    counts: dict[str, int] = {}
    # a battery's alerts depend on its own events only (and its vehicle's other packs, which
    # the update reads itself): batteries may be evaluated a chunk at a time, and their
    # alerts written a slice at a time, each slice in a short transaction, so that a flood of
    # new alerts never holds the database for long
    for start in range(0, max(len(batteries), 1), UPDATE_CHUNK):
        part = batteries[start : start + UPDATE_CHUNK]
        found = _evaluated(scoped_findings, store, part, first_id, last_id, settings=settings)
        if found is None:
            continue
        done = reconcile_scoped_slices(
            store, found, rules, batteries=WRITE_BATTERIES, pause=WRITE_PAUSE
        )
        for key, value in done.items():
            counts[key] = counts.get(key, 0) + value
    return counts


def _findings() -> list[Finding]:
    from battrace.supervision.service import evaluate, open_engine

    store, settings = _opened()
    engine = open_engine(store)
    try:
        return evaluate(engine, settings=settings)
    finally:
        engine.close()


#: findings per part of a sweep's reconcile, at most, on average: each part is one write
#: transaction, and the server's reports wait for it (a part of 730 findings held the
#: database for 28 ms, the reports behind it up to 59 ms; benchmarks/RESULTS.md, HTTP API)
PART_FINDINGS: Final = 250
#: seconds a sweep pauses between two parts of its reconcile (the reports' writer goes first)
SWEEP_PAUSE: Final = 0.005


def split_digits(findings: int) -> int:
    """The hex digits of the alert-id split (``16 ** digits`` parts) that leaves at most
    :data:`PART_FINDINGS` of ``findings`` per part on average (1 to 4 digits)."""
    digits = 1
    while digits < 4 and findings > PART_FINDINGS * 16**digits:
        digits += 1
    return digits


def _sweep(pause: float) -> dict[str, Any]:
    """A full sweep here: every rule's findings, reconciled one part of the alert ids at a
    time (:func:`split_digits`), a short transaction each, ``pause`` seconds between two."""
    from battrace.supervision.alerts import part_of, reconcile_parts

    store, settings = _opened()
    started = time.perf_counter()
    found = _evaluated(_findings)
    evaluated = time.perf_counter() - started
    digits = split_digits(len(found))
    parts: list[list[Finding]] = [[] for _ in range(16**digits)]
    counts: dict[str, int] = {}
    for finding in found:
        parts[part_of(finding.id, digits)].append(finding)
        counts[finding.rule] = counts.get(finding.rule, 0) + 1
    del found
    result = reconcile_parts(
        lambda: contextlib.nullcontext(store),
        parts,
        rules=list(settings.rules),
        digits=digits,
        pause=pause,
    )
    return {
        "findings": counts,
        "reconciled": {k: int(v) for k, v in result.to_dict().items()},
        "parts": 16**digits,
        "seconds": {"evaluate": evaluated, "total": time.perf_counter() - started},
    }


Touched = tuple[list[str], int, int]  # battery codes, first and last event id


class TouchedBatteries:
    """An event sink noting which batteries accepted events touch, and their ids: all an
    update needs (the worker reads the events themselves from the store). Costs the write
    path a set update per event."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._codes: set[str] = set()
        self._first: int | None = None
        self._last = 0

    def on_events(self, tx: WriteTransaction, events: Sequence[EventRow]) -> None:
        if not events:
            return
        codes: set[str] = set()
        for event in events:
            codes.update(involved_codes(event))
        # a batch that rolls back leaves its codes here: re-evaluating a battery that did not
        # change finds what it found before (time lost, never correctness)
        with self._lock:
            self._codes.update(codes)
            if self._first is None or events[0].id < self._first:
                self._first = events[0].id
            self._last = max(self._last, events[-1].id)

    def before_commit(self, tx: WriteTransaction) -> None:
        return None

    def take(self) -> Touched | None:
        """What was touched since the last take (None: nothing), forgotten here."""
        with self._lock:
            if self._first is None:
                return None
            taken = (sorted(self._codes), self._first, self._last)
            self._codes, self._first, self._last = set(), None, 0
        return taken

    def give_back(self, taken: Touched) -> None:
        """Note ``taken`` again (its update failed: the next one retries it)."""
        codes, first, last = taken
        with self._lock:
            self._codes.update(codes)
            self._first = first if self._first is None else min(self._first, first)
            self._last = max(self._last, last)


class OneProcess:
    """One spawned worker process that runs calls in turn (a process pool of one), started
    on first use with ``initializer(*initargs)``. A worker that died is replaced on the next
    call (the call it died in raises ``BrokenProcessPool``); :meth:`close` stops it at once,
    and for good (a call after it raises ``RuntimeError``: none starts another worker)."""

    def __init__(self, initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
        self._initializer = initializer
        self._initargs = initargs
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    def pool(self) -> ProcessPoolExecutor:
        """The pool of the running worker (starting one)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker process was closed")
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    # spawn: a fork would copy the server's threads' locks in whatever state
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=self._initializer,
                    initargs=self._initargs,
                )
            return self._pool

    def call(self, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` in the worker; its result."""
        pool = self.pool()
        try:
            return pool.submit(work, *args).result()
        except BrokenProcessPool:
            with self._lock:  # stopped once: here, or by close() if that took it first
                ours = self._pool is pool
                if ours:
                    self._pool = None
            if ours:
                _stop(pool)
            raise

    def close(self) -> None:
        """Stop the worker now, dropping the work in hand."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            _stop(pool)


def _stop(pool: ProcessPoolExecutor) -> None:
    # the pool's own processes (ProcessPoolExecutor has no public way to stop them before
    # Python 3.14's terminate_workers): stopped first, then the pool shut down and waited for,
    # so that every call in hand has failed (BrokenProcessPool) when this returns
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for worker in processes:
        worker.terminate()
    for worker in processes:
        worker.join(STOP_SECONDS)
    pool.shutdown(wait=True, cancel_futures=True)


class RuleProcess:
    """One worker process evaluating the rules over ``target`` (see the module)."""

    def __init__(self, target: str, rules_file: str | None = None) -> None:
        if not worker_can_open(target):
            raise ValueError(f"a worker process cannot open {target}")
        # reports come first: the rules' evaluation runs below their priority
        self._process = OneProcess(_start, (target, rules_file, os.getpid(), WORKER_NICENESS))

    def update(self, batteries: list[str], first_id: int, last_id: int) -> dict[str, int]:
        """Update (and write) the alerts of ``batteries`` after events ``first_id`` ..
        ``last_id``; returns the reconcile counts."""
        return self._process.call(_update, batteries, first_id, last_id)

    def findings(self) -> list[Finding]:
        """Every rule's findings over the whole store (a full sweep's evaluation)."""
        return self._process.call(_findings)

    def sweep(self, pause: float = SWEEP_PAUSE) -> dict[str, Any]:
        """A full sweep in the worker: evaluated, then reconciled there one part of the alert
        ids at a time, ``pause`` seconds between parts; returns the findings per rule, the
        reconcile counts, the parts and the seconds taken."""
        return self._process.call(_sweep, pause)

    def pid(self) -> int:
        """The worker's process id (starting it)."""
        return self._process.call(os.getpid)

    def close(self) -> None:
        """Stop the worker now, dropping the work in hand: an update or a sweep writes each of
        its transactions whole or not at all, and the next server's first sweep judges every
        battery again (a server stopping waited minutes for an update of 100,000 batteries)."""
        self._process.close()

    def __enter__(self) -> RuleProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


__all__ = [
    "OneProcess",
    "RuleProcess",
    "Touched",
    "TouchedBatteries",
    "end_with_parent",
    "split_digits",
    "worker_can_open",
]
