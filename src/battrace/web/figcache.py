"""The dashboard's compliance figures, computed in the background and kept in memory.

A figure (:mod:`battrace.supervision.figures`) reads the whole log: building its fact tables
takes about 2 s on a 40,000-battery SQLite store and each figure 0.1-0.7 s more, far beyond
what a page may take. So the pages never compute one in the request when they can avoid it:

- one supervision engine over the store's database (:class:`FigureEngine`, asked by one
  worker thread, in a worker process where possible: see below) builds the fact
  tables once (:func:`~battrace.supervision.figures.build_facts`) and evaluates figures on
  them (:func:`~battrace.supervision.figures.evaluate_figure`): the facts are shared by every
  figure, not rebuilt per figure as :func:`~battrace.supervision.figures.figures` does;
- results are kept per (kind, filters). A page gets the kept result at once; when the log
  has grown and the facts are older than ``ttl`` seconds (60 by default), the worker
  rebuilds them in the background and each kept figure is recomputed on its next request,
  which still gets the previous result meanwhile (stale while revalidating);
- only a figure never asked before is computed while the request waits (0.1-0.7 s at
  40,000 batteries); the first use starts a background warm-up of the national figures.

Every result carries the time its facts were built: the pages show "figures as of HH:MM".

Where another process can open the database (a file or PostgreSQL), the engine and its facts
live in a worker process of the server's (:class:`FigureProcess`), at a lower CPU priority
than the server's: building the facts is seconds of CPU (DuckDB's threads and the Python
around them) that, in a thread of the server, made its single-event reports wait (50 paced
clients, a dashboard visitor, the facts rebuilt every 5 s: p99 52.3 ms with the engine in a
thread, 18.7 ms in the worker, 13.4 ms with nobody on the dashboard; benchmarks/RESULTS.md,
HTTP API). In-memory databases, tests and ``BATTRACE_WEB_FIGURE_WORKER=thread`` keep the
engine in the cache's own thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from battrace.store.base import Store
from battrace.supervision.process import (
    WORKER_NICENESS,
    OneProcess,
    end_with_parent,
    worker_can_open,
)

LOGGER = logging.getLogger(__name__)

DEFAULT_TTL = 60.0
MAX_KEPT = 256  # figures kept (least recently used dropped first)
#: figures warmed up in the background on first use: the national ones every page starts from
WARM_UP: tuple[str, ...] = ("provinces", "collection", "trend", "flows", "timeliness", "recovery")

T = TypeVar("T")
FilterItems = tuple[tuple[str, Any], ...]
Key = tuple[str, FilterItems]


@dataclass(frozen=True, slots=True)
class FigureResult:
    """A figure's rows and when the fact tables they come from were built (UTC)."""

    kind: str
    rows: list[dict[str, Any]]
    as_of: datetime
    version: int


def _key(kind: str, filters: dict[str, Any]) -> Key:
    return kind, tuple(sorted((k, v) for k, v in filters.items() if v is not None))


#: a figure's rows, and the build (number, wall time) of the facts they come from
Computed = tuple[list[dict[str, Any]], int, datetime]


class FigureEngine:
    """Fact tables over one store, and figures evaluated on them; used by one thread at a
    time (the cache's, or the worker process's). ``reading`` lends a store on the database:
    the engine only takes its dialect and location to open its own."""

    def __init__(self, reading: Callable[[], AbstractContextManager[Store]]) -> None:
        self._reading = reading
        self._engine: Any = None
        self._facts: Any = None
        self._log_size = -1
        self._builds = 0
        self._built_wall = datetime.now(UTC)

    def _build(self) -> None:
        from battrace.supervision.figures import build_facts
        from battrace.supervision.service import open_engine, settings_from_env

        with self._reading() as store:
            size = store.log_size()
            if self._engine is None:
                self._engine = open_engine(store, "store")
        self._facts = build_facts(self._engine, settings_from_env())
        self._log_size = size
        self._builds += 1
        self._built_wall = datetime.now(UTC)

    def compute(self, kind: str, filters: Any) -> Computed:
        """Figure ``kind`` with checked ``filters`` (building the facts first if none)."""
        from battrace.supervision.figures import evaluate_figure

        if self._facts is None:
            self._build()
        rows = [r.to_dict() for r in evaluate_figure(self._facts, kind, filters)]
        return rows, self._builds, self._built_wall

    def refresh(self) -> tuple[int, datetime]:
        """Build the facts again if the log has grown; the build now in use."""
        with self._reading() as store:
            size = store.log_size()
        if size != self._log_size:
            self._build()
        return self._builds, self._built_wall

    def close(self) -> None:
        if self._engine is not None:
            try:
                self._engine.close()
            finally:
                self._engine, self._facts = None, None


# the worker process's engine (FigureProcess)
_engine: FigureEngine | None = None


def _start(target: str, parent: int, niceness: int) -> None:
    """In the worker: the whole process below the server's priority (it only reads), its
    own store, and an end with the server even when that is killed."""
    global _engine
    from battrace.store import open_store

    os.nice(niceness)
    store = open_store(target, migrate=False)
    _engine = FigureEngine(lambda: contextlib.nullcontext(store))
    threading.Thread(target=end_with_parent, args=(parent,), daemon=True).start()


def _compute(kind: str, filters: Any) -> Computed:
    assert _engine is not None, "the figure worker was not started"
    return _engine.compute(kind, filters)


def _refresh() -> tuple[int, datetime]:
    assert _engine is not None, "the figure worker was not started"
    return _engine.refresh()


class FigureProcess:
    """A :class:`FigureEngine` in a worker process over ``target`` (started on first use;
    one that died is replaced, and the figure asked of it asked again)."""

    def __init__(self, target: str) -> None:
        if not worker_can_open(target):
            raise ValueError(f"a worker process cannot open {target}")
        self._process = OneProcess(_start, (target, os.getpid(), WORKER_NICENESS))

    def _call(self, work: Callable[..., T], *args: Any) -> T:
        try:
            return self._process.call(work, *args)
        except BrokenProcessPool:  # it died (killed, out of memory ...): once more, anew
            LOGGER.warning("the dashboard's figure worker stopped; starting another")
            return self._process.call(work, *args)

    def compute(self, kind: str, filters: Any) -> Computed:
        return self._call(_compute, kind, filters)

    def refresh(self) -> tuple[int, datetime]:
        return self._call(_refresh)

    def pid(self) -> int:
        """The worker's process id (starting it)."""
        return self._call(os.getpid)

    def close(self) -> None:
        self._process.close()


class FigureCache:
    """Figures of one store, computed by one worker thread (see the module docstring), in
    a :class:`FigureProcess` over ``target`` when one is given and another process can
    open it, else in that thread.

    ``reading`` lends a store on the database (the app's reader pool); the engine only takes
    its dialect and location to open its own. ``clock`` is for tests.
    """

    def __init__(
        self,
        reading: Callable[[], AbstractContextManager[Store]],
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
        target: str | None = None,
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="battrace-figures")
        self._results: OrderedDict[Key, FigureResult] = OrderedDict()
        self._pending: dict[Key, Future[FigureResult]] = {}
        self.figures: FigureEngine | FigureProcess = (
            FigureProcess(target)
            if target is not None and worker_can_open(target)
            else FigureEngine(reading)
        )
        # read by request threads under the lock
        self._seen_build: tuple[int, datetime] | None = None  # the facts' build seen last
        self._version = 0  # counts the builds seen
        self._built_at = 0.0  # clock() when the facts seen last were built
        self._checked_at = 0.0
        self._refreshing = False
        self._closed = False

    # -- requests ------------------------------------------------------------------------------
    def get(self, kind: str, **filters: Any) -> FigureResult:
        """Figure ``kind`` with ``filters`` (as :func:`~battrace.supervision.figures.figures`
        takes them; ``None`` values are left out): the kept result, else computed now."""
        key = _key(kind, filters)
        with self._lock:
            found = self._results.get(key)
            if found is not None:
                self._results.move_to_end(key)
                self._maybe_refresh_locked()
                if found.version != self._version:
                    self._submit_locked(key)
                return found
            future = self._submit_locked(key)
        return future.result()

    def peek(self, kind: str, **filters: Any) -> FigureResult | None:
        """The kept result, or None (nothing computed, nothing scheduled)."""
        with self._lock:
            return self._results.get(_key(kind, filters))

    def warm_up(self, kinds: tuple[str, ...] = WARM_UP) -> list[Future[FigureResult]]:
        """Schedule the national figures ``kinds`` (no filters) in the background."""
        with self._lock:
            return [self._submit_locked(_key(kind, {})) for kind in kinds]

    def close(self) -> None:
        """Stop the worker (after its current job; a worker process at once) and close its
        engine."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pending = list(self._pending.values())
        for future in pending:
            future.cancel()
        if isinstance(self.figures, FigureProcess):
            self.figures.close()  # the thread's job in hand fails at once
        with contextlib.suppress(RuntimeError):  # already shut down
            self._executor.submit(self.figures.close)
        self._executor.shutdown(wait=True, cancel_futures=True)

    # -- scheduling (under the lock) -------------------------------------------------------
    def _submit_locked(self, key: Key) -> Future[FigureResult]:
        running = self._pending.get(key)
        if running is not None:
            return running
        if self._closed:
            raise RuntimeError("the figure cache is closed")
        future = self._executor.submit(self._compute, key)
        self._pending[key] = future
        return future

    def _maybe_refresh_locked(self) -> None:
        now = self._clock()
        if self._refreshing or now - self._checked_at < self.ttl or self._closed:
            return
        if now - self._built_at < self.ttl:
            return
        self._checked_at = now
        self._refreshing = True
        self._executor.submit(self._refresh)

    def _seen_locked(self, build: tuple[int, datetime]) -> None:
        """Note the facts' build a result or a refresh came from: a new one is a new
        version (kept figures are recomputed on their next request)."""
        if build != self._seen_build:
            self._seen_build = build
            self._version += 1
            self._built_at = self._clock()
            self._checked_at = self._built_at

    # -- the worker thread -----------------------------------------------------------------
    def _refresh(self) -> None:
        try:
            build = self.figures.refresh()
            with self._lock:
                self._seen_locked(build)
        except Exception:  # keep serving the figures there are
            LOGGER.exception("refreshing the dashboard's figures failed")
        finally:
            with self._lock:
                self._refreshing = False
                self._checked_at = self._clock()

    def _compute(self, key: Key) -> FigureResult:
        from battrace.supervision.figures import check_filters

        kind, items = key
        try:
            filters = check_filters(kind, **dict(items))
            rows, number, wall = self.figures.compute(kind, filters)
            with self._lock:
                self._seen_locked((number, wall))
                result = FigureResult(kind, rows, wall, self._version)
                self._results[key] = result
                self._results.move_to_end(key)
                while len(self._results) > MAX_KEPT:
                    self._results.popitem(last=False)
            return result
        finally:
            with self._lock:
                self._pending.pop(key, None)


__all__ = [
    "DEFAULT_TTL",
    "WARM_UP",
    "FigureCache",
    "FigureEngine",
    "FigureProcess",
    "FigureResult",
]
