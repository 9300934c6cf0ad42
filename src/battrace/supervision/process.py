"""The server's rule evaluation in a process of its own, away from the request path.

A server that evaluated the rules in one of its own threads would hold the interpreter lock
for the Arrow copies, the SQL compilation and the reconcile: with reports arriving, every
update every ``BATTRACE_SUPERVISION_SECONDS`` made the slowest reports four times slower
(measured: p99 27 ms without updates, 116 ms with them; benchmarks/RESULTS.md, HTTP API).
:class:`RuleProcess` runs that work in one spawned worker process with its own connection to
the same database:

- :meth:`RuleProcess.update`: the incremental update of the batteries new events touched
  (:func:`battrace.supervision.service.update_alerts`); the worker writes their alerts itself
  in one short transaction (the store's single-writer lock orders it with the server's);
- :meth:`RuleProcess.sweep_parts`: a full sweep's findings, split by part of the alert ids
  and handed over one part at a time; the server reconciles each part through its own
  writer (``alerts.reconcile_parts``), a short transaction each, pausing between parts, so
  its reports wait for one part at most and never on another process's lock.

The worker starts on first use and is stopped by :meth:`RuleProcess.close`. An in-memory
SQLite database exists only in its own process: :func:`worker_can_open` says whether a
target can be handed to a worker.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Final

from battrace.store import Store, open_store
from battrace.store.rows import EventRow
from battrace.store.writes import WriteTransaction
from battrace.supervision.config import RuleSettings, load_settings
from battrace.supervision.findings import Finding
from battrace.supervision.incremental import involved_codes

_store: Store | None = None
_settings: RuleSettings | None = None


def worker_can_open(target: str) -> bool:
    """Whether another process can open ``target`` (a file or a PostgreSQL URL)."""
    return target != ":memory:" and not target.startswith("file::memory:")


def _start(target: str, rules_file: str | None, parent: int) -> None:
    """In the worker: open the store and read the rule settings once; end with the server
    even when it is killed (a pool's worker would wait for work forever)."""
    global _store, _settings
    _store = open_store(target, migrate=False)
    _settings = load_settings(rules_file)
    threading.Thread(target=_end_with, args=(parent,), daemon=True).start()


def _end_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _opened() -> tuple[Store, RuleSettings]:
    if _store is None or _settings is None:
        raise RuntimeError("the rule worker was not started")
    return _store, _settings


#: batteries per update transaction: the server's reports wait while the worker writes alerts
UPDATE_CHUNK = 1000


def _update(batteries: list[str], first_id: int, last_id: int) -> dict[str, int]:
    from battrace.supervision.service import update_alerts

    store, settings = _opened()
    counts: dict[str, int] = {}
    # a battery's alerts depend on its own events only (and its vehicle's other packs, which
    # the update reads itself): batteries may be updated a slice at a time, each slice in a
    # short transaction, so that a flood of new alerts never holds the database for long
    for start in range(0, max(len(batteries), 1), UPDATE_CHUNK):
        part = batteries[start : start + UPDATE_CHUNK]
        for key, value in update_alerts(store, part, first_id, last_id, settings=settings).items():
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


#: findings past which a sweep's reconcile is split finer (256 parts instead of 16)
FINE_PARTS_FROM: Final = 50_000
_parts: list[list[Finding]] = []  # the worker's: a sweep's findings, by part of the ids


def _evaluate_parts() -> int:
    """A full sweep's findings, kept here split by part of the alert ids (16, or 256 past
    :data:`FINE_PARTS_FROM`); returns the hex digits of the split."""
    from battrace.supervision.alerts import part_of

    found = _findings()
    digits = 2 if len(found) > FINE_PARTS_FROM else 1
    parts: list[list[Finding]] = [[] for _ in range(16**digits)]
    for finding in found:
        parts[part_of(finding.id, digits)].append(finding)
    _parts[:] = parts
    return digits


def _take_part(index: int) -> list[Finding]:
    found, _parts[index] = _parts[index], []
    return found


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


class RuleProcess:
    """One worker process evaluating the rules over ``target`` (see the module)."""

    def __init__(self, target: str, rules_file: str | None = None) -> None:
        if not worker_can_open(target):
            raise ValueError(f"a worker process cannot open {target}")
        self._target = target
        self._rules_file = rules_file
        self._pool: ProcessPoolExecutor | None = None

    def _worker(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                # spawn: a fork would copy the server's threads' locks in whatever state
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start,
                initargs=(self._target, self._rules_file, os.getpid()),
            )
        return self._pool

    def update(self, batteries: list[str], first_id: int, last_id: int) -> dict[str, int]:
        """Update (and write) the alerts of ``batteries`` after events ``first_id`` ..
        ``last_id``; returns the reconcile counts."""
        return self._worker().submit(_update, batteries, first_id, last_id).result()

    def findings(self) -> list[Finding]:
        """Every rule's findings over the whole store (a full sweep's evaluation)."""
        return self._worker().submit(_findings).result()

    def sweep_parts(self) -> tuple[int, Iterator[list[Finding]]]:
        """A full sweep's findings split by part of the alert ids: the hex digits of the
        split (:func:`battrace.supervision.alerts.id_parts`) and the parts, in order, each
        fetched from the worker when the iterator reaches it (the server never unpickles
        every finding at once: 186,000 of them held its interpreter for half a second)."""
        digits = int(self._worker().submit(_evaluate_parts).result())

        def parts() -> Iterator[list[Finding]]:
            for index in range(16**digits):
                yield self._worker().submit(_take_part, index).result()

        return digits, parts()

    def pid(self) -> int:
        """The worker's process id (starting it)."""
        return int(self._worker().submit(os.getpid).result())

    def close(self) -> None:
        """Stop the worker (waiting for the work in hand)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> RuleProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


__all__ = ["RuleProcess", "Touched", "TouchedBatteries", "worker_can_open"]
