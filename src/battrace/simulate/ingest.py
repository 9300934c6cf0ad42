"""Loading a simulation into a store through the same validated path as any import.

The enterprises are registered (with their whitelist history) through
:func:`battrace.services.enterprises.register_enterprise`; the events go through
:func:`battrace.services.reporting.report_events` with ``trust_reported_at=True``, in batches
(one transaction each). Events the platform is expected to refuse (``refused``) are kept aside
in a temporary file (memory stays bounded) and submitted one by one after the rest, each in its
own ``report_events`` call; their refusal is counted as expected.

Every other event must be accepted. If one is not, it is counted as an unexpected rejection
(with its message in ``problems``) and its batch is retried without it, so one bad event costs
one event, not a batch.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from battrace.errors import BatchError, BattraceError, ValidationError
from battrace.services.enterprises import change_whitelist, register_firm
from battrace.services.reporting import SourceItem, report_events
from battrace.simulate.config import SimConfig
from battrace.simulate.files import SimSummary, read_enterprises, read_events, sibling
from battrace.simulate.stream import simulate_events
from battrace.simulate.violations import Label
from battrace.simulate.world import SimFirm, build_world
from battrace.store.base import Store

DEFAULT_BATCH = 50_000
_MAX_PROBLEMS = 20


@dataclass
class IngestResult:
    """Counts of a load: events accepted, refusals expected and not, and what went wrong."""

    enterprises_added: int = 0
    accepted: int = 0
    expected_rejections: int = 0
    unexpected_rejections: int = 0
    unexpected_acceptances: int = 0
    batches: int = 0
    problems: list[str] = field(default_factory=list)
    summary: SimSummary = field(default_factory=SimSummary)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "enterprises_added": self.enterprises_added,
            "accepted": self.accepted,
            "expected_rejections": self.expected_rejections,
            "unexpected_rejections": self.unexpected_rejections,
            "unexpected_acceptances": self.unexpected_acceptances,
            "batches": self.batches,
            "problems": self.problems,
        }
        summary = self.summary.to_dict()
        data["labels"] = summary["labels"]
        data["labels_by_rule"] = summary["labels_by_rule"]
        return data

    def _problem(self, text: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(text)


def register_world(store: Store, firms: Iterable[SimFirm]) -> int:
    """Register the firms not in the store yet, with their whitelist history; returns how
    many were added. Raises ``ConflictError`` when a manufacturer code is taken by another."""
    added = 0
    for firm in firms:
        if store.enterprise(firm.credit_code) is not None:
            continue
        register_firm(store, firm)
        for number, (day, listed) in enumerate(firm.whitelist, start=1):
            change_whitelist(
                store,
                firm.credit_code,
                listed=listed,
                effective_date=day,
                note=f"simulated whitelist change {number}",
            )
        added += 1
    return added


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise ValidationError("batch_size: must be at least 1", field="batch_size", rule="range")


def _require_empty(store: Store) -> None:
    events = store.count("events")
    if events:
        raise ValidationError(
            f"db: the database already has {events} events; simulated codes would clash with"
            " them, so load a simulation into a new database",
            field="db",
            rule="empty",
        )


class _Loader:
    def __init__(
        self,
        store: Store,
        result: IngestResult,
        batch_size: int,
        on_progress: Callable[[int], None] | None,
        options: dict[str, Any],
        aside: IO[bytes],
    ) -> None:
        self.store, self.result, self.batch_size = store, result, batch_size
        self.on_progress = on_progress
        self.options = options
        self.batch: list[dict[str, Any]] = []
        self.aside = aside  # expected refusals, submitted after everything else

    def add(self, event: dict[str, Any], refused: bool) -> None:
        if refused:
            self.aside.write(orjson.dumps(event) + b"\n")
            return
        self.batch.append(event)
        if len(self.batch) >= self.batch_size:
            self.flush()

    def _progress(self, done: int) -> Callable[[int], None] | None:
        report = self.on_progress
        if report is None:
            return None
        return lambda n: report(done + n)

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        result = self.result
        while batch:
            try:
                done = report_events(
                    self.store,
                    (SourceItem(e) for e in batch),
                    trust_reported_at=True,
                    on_progress=self._progress(result.accepted),
                    **self.options,
                )
            except BatchError as exc:
                bad = batch[exc.index]
                result.unexpected_rejections += 1
                result._problem(f"{bad.get('ref')} ({bad.get('type')}): {exc.cause.message}")
                batch = batch[: exc.index] + batch[exc.index + 1 :]
                continue
            result.accepted += done.accepted
            result.batches += 1
            return

    def finish(self) -> None:
        """Submit what is left, then each event set aside on its own."""
        self.flush()
        result = self.result
        self.aside.seek(0)
        for line in self.aside:
            event = orjson.loads(line)
            try:
                report_events(
                    self.store, [SourceItem(event)], trust_reported_at=True, **self.options
                )
            except BattraceError:
                result.expected_rejections += 1
                continue
            result.unexpected_acceptances += 1
            result.accepted += 1
            result._problem(f"{event.get('ref')} ({event.get('type')}): accepted, expected refusal")
        if self.on_progress is not None:
            self.on_progress(result.accepted)


def ingest_simulation(
    store: Store,
    config: SimConfig,
    *,
    labels: Callable[[Label], Any] | None = None,
    batch_size: int = DEFAULT_BATCH,
    on_progress: Callable[[int], None] | None = None,
    **report_options: Any,
) -> IngestResult:
    """Generate the run ``config`` describes straight into ``store`` (which must have no
    events yet): register the world, report the events in batches of ``batch_size``, then the
    expected refusals one by one.

    ``labels`` receives every ground-truth label in stream order; ``on_progress`` the number
    of events accepted so far; ``report_options`` go to ``report_events`` (log settings).
    Raises ``ValidationError`` (field ``db``) for a store that has events.
    """
    _check_batch_size(batch_size)
    _require_empty(store)
    world = build_world(config.seed, config.batteries)
    result = IngestResult()
    result.enterprises_added = register_world(store, world)
    result.summary.enterprises = len(world.firms)
    summary = result.summary
    with tempfile.TemporaryFile() as aside:
        loader = _Loader(store, result, batch_size, on_progress, report_options, aside)
        for item in simulate_events(config, world):
            if item.refused:
                summary.refused += 1
            else:
                summary.events += 1
            if item.labels:
                summary.count(item.labels, labels)
            loader.add(item.event, item.refused)
        loader.finish()
    return result


def ingest_files(
    store: Store,
    events: Path,
    *,
    batch_size: int = DEFAULT_BATCH,
    on_progress: Callable[[int], None] | None = None,
    **report_options: Any,
) -> IngestResult:
    """Load files written by :func:`battrace.simulate.files.write_simulation` into ``store``
    (which must have no events yet): ``events``, its ``.enterprises.ndjson`` and its
    ``.refused.ndjson``. Raises ``ValidationError`` naming a missing file."""
    firms = sibling(events, "enterprises")
    for path, name in ((events, "file"), (firms, "enterprises")):
        if not path.is_file():
            raise ValidationError(f"{name}: {path} does not exist", field=name, rule="exists")
    _check_batch_size(batch_size)
    _require_empty(store)
    result = IngestResult()
    result.enterprises_added = register_world(store, read_enterprises(firms))
    with tempfile.TemporaryFile() as aside:
        loader = _Loader(store, result, batch_size, on_progress, report_options, aside)
        for event in read_events(events):
            result.summary.events += 1
            loader.add(event, False)
        for event in read_events(sibling(events, "refused")):
            result.summary.refused += 1
            loader.add(event, True)
        loader.finish()
    return result
