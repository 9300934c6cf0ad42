"""Incremental alert updates: new events re-evaluate the alerts of the batteries they touch.

:class:`AlertUpdater` is an event sink (:class:`battrace.services.reporting.EventSink`): passed
to ``report_events`` it notes the batteries and event ids each accepted batch touches, at no
cost to the batch itself. :meth:`AlertUpdater.flush`, called after the batches committed (at
the end of an import, or every ``BATTRACE_SUPERVISION_SECONDS`` in the server), re-evaluates
the per-battery rules over those batteries only (:func:`battrace.supervision.service.
update_alerts`) and reconciles their alerts. A full sweep at the same evaluation day finds the
same alerts (tested).

Rules that wait for time to pass (a pack not collected within 60 days) can only fire for a
battery nobody reports about when something re-evaluates it: the server's periodic sweep
(``BATTRACE_SUPERVISION_SWEEP_HOURS``) does that.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import Any

from battrace.store.base import Store
from battrace.store.rows import EventRow
from battrace.store.writes import WriteTransaction
from battrace.supervision.config import RuleSettings

_NAMED = ("new", "product")
_NAMED_LISTS = ("children", "parts")


class AlertUpdater:
    """Collects what accepted events touched; :meth:`flush` updates their alerts."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        settings: RuleSettings | None = None,
        as_of: date | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.as_of = as_of
        self._lock = threading.Lock()
        self._codes: set[str] = set()
        self._first: int | None = None
        self._last: int | None = None

    # -- EventSink ----------------------------------------------------------------------------
    def on_events(self, tx: WriteTransaction, events: Sequence[EventRow]) -> None:
        codes: set[str] = set()
        for event in events:
            codes.update(event.batteries)
            body = event.body
            for key in _NAMED:
                value = body.get(key)
                if isinstance(value, str):
                    codes.add(value)
            for key in _NAMED_LISTS:
                values = body.get(key)
                if isinstance(values, list):
                    codes.update(v for v in values if isinstance(v, str))
        if not events:
            return
        # a batch that later rolls back leaves its codes here: re-evaluating a battery that
        # did not change finds what it found before, so that costs time, never correctness
        with self._lock:
            self._codes.update(codes)
            self._first = _low(self._first, events[0].id)
            self._last = _high(self._last, events[-1].id)

    def before_commit(self, tx: WriteTransaction) -> None:
        return None

    def flush(
        self,
        store: Store | None = None,
        *,
        writing: Callable[[], AbstractContextManager[Any]] | None = None,
    ) -> dict[str, Any]:
        """Update the alerts of everything touched since the last flush, reading through
        ``store`` (default the updater's) and writing through it or, when given, the store
        ``writing`` lends for the reconcile only; returns the reconcile counts (empty when
        nothing was touched)."""
        from battrace.supervision.service import update_alerts

        with self._lock:
            codes, first, last = self._codes, self._first, self._last
            self._codes, self._first, self._last = set(), None, None
        target = store or self.store
        if first is None or last is None or target is None:
            return {}
        return update_alerts(
            target,
            sorted(codes),
            first,
            last,
            as_of=self.as_of,
            settings=self.settings,
            writing=writing,
        )


def _low(a: int | None, b: int) -> int:
    return b if a is None else min(a, b)


def _high(a: int | None, b: int) -> int:
    return b if a is None else max(a, b)
