"""The dashboard's compliance figures, computed in the background and kept in memory.

A figure (:mod:`battrace.supervision.figures`) reads the whole log: building its fact tables
takes about 2 s on a 40,000-battery SQLite store and each figure 0.1-0.7 s more, far beyond
what a page may take. So the pages never compute one in the request when they can avoid it:

- one worker thread owns one supervision engine over the store's database, builds the fact
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
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from battrace.store.base import Store

LOGGER = logging.getLogger(__name__)

DEFAULT_TTL = 60.0
MAX_KEPT = 256  # figures kept (least recently used dropped first)
#: figures warmed up in the background on first use: the national ones every page starts from
WARM_UP: tuple[str, ...] = ("provinces", "collection", "trend", "flows", "timeliness", "recovery")

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


class FigureCache:
    """Figures of one store, computed by one worker thread (see the module docstring).

    ``reading`` lends a store on the database (the app's reader pool); the worker only takes
    its dialect and location to open its own engine. ``clock`` is for tests.
    """

    def __init__(
        self,
        reading: Callable[[], AbstractContextManager[Store]],
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reading = reading
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="battrace-figures")
        self._results: OrderedDict[Key, FigureResult] = OrderedDict()
        self._pending: dict[Key, Future[FigureResult]] = {}
        # owned by the worker thread only
        self._engine: Any = None
        self._facts: Any = None
        self._log_size = -1
        # read by request threads under the lock
        self._version = 0
        self._built_at = 0.0  # clock() when the facts were built
        self._built_wall = datetime.now(UTC)
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
        """Stop the worker (after its current job) and close its engine."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pending = list(self._pending.values())
        for future in pending:
            future.cancel()
        with contextlib.suppress(RuntimeError):  # already shut down
            self._executor.submit(self._close_engine)
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

    # -- the worker thread -----------------------------------------------------------------
    def _build(self) -> None:
        from battrace.supervision.figures import build_facts
        from battrace.supervision.service import open_engine, settings_from_env

        with self._reading() as store:
            size = store.log_size()
            if self._engine is None:
                self._engine = open_engine(store, "store")
        self._facts = build_facts(self._engine, settings_from_env())
        self._log_size = size
        with self._lock:
            self._version += 1
            self._built_at = self._clock()
            self._checked_at = self._built_at
            self._built_wall = datetime.now(UTC)

    def _refresh(self) -> None:
        try:
            with self._reading() as store:
                size = store.log_size()
            if size != self._log_size:
                self._build()
        except Exception:  # keep serving the figures there are
            LOGGER.exception("refreshing the dashboard's figures failed")
        finally:
            with self._lock:
                self._refreshing = False
                self._checked_at = self._clock()

    def _compute(self, key: Key) -> FigureResult:
        from battrace.supervision.figures import check_filters, evaluate_figure

        kind, items = key
        try:
            filters = check_filters(kind, **dict(items))
            if self._facts is None:
                self._build()
            with self._lock:
                version, wall = self._version, self._built_wall
            rows = [r.to_dict() for r in evaluate_figure(self._facts, kind, filters)]
            result = FigureResult(kind, rows, wall, version)
            with self._lock:
                self._results[key] = result
                self._results.move_to_end(key)
                while len(self._results) > MAX_KEPT:
                    self._results.popitem(last=False)
            return result
        finally:
            with self._lock:
                self._pending.pop(key, None)

    def _close_engine(self) -> None:
        if self._engine is not None:
            try:
                self._engine.close()
            finally:
                self._engine, self._facts = None, None


__all__ = ["DEFAULT_TTL", "WARM_UP", "FigureCache", "FigureResult"]
