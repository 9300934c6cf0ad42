"""Reporting events: the one path every event takes into the store, single or in bulk.

:func:`report_events` validates each event, runs the state machine against the batteries as
they stand (including earlier events of the same batch), and writes the events, their battery
links and the new battery states in **one transaction**: a batch with one bad event writes
nothing and raises :class:`battrace.errors.BatchError` naming the item (or file line) and why.

Work is done in chunks (default 5,000 events): states for a chunk are loaded in one query and
written with one ``executemany`` per table, and the in-memory cache is dropped after each chunk,
so memory stays bounded whatever the input size.

Hooks: an :class:`EventSink` sees every chunk of accepted events inside the transaction before it
commits; the tamper-evident log appends its leaves there.

Refused reports: when an item breaks a state, custody or identity rule (``RuleViolation``,
``NotFoundError``, ``ConflictError``; not a format or signature error), the batch is rolled
back as always, then that item alone is recorded in ``rejections`` in its own short write
transaction (after the caller's own transaction, when the batch ran inside one), so that
supervision sees attempts the platform refused. Accepted batches pay nothing for this.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

import orjson
import pydantic

from battrace.domain.entities import BatteryState, Enterprise
from battrace.domain.events import (
    BODY_MODELS,
    CorrectionBody,
    EventIn,
    EventType,
    parse_event,
)
from battrace.domain.lifecycle import apply_event
from battrace.domain.quantities import to_aware_datetime, utc_now
from battrace.errors import BatchError, BattraceError, ConflictError, NotFoundError, RuleViolation
from battrace.errors import ValidationError as FieldError
from battrace.services.enterprises import RegistryCache
from battrace.services.keys import SignatureCheck, SignedSubmission
from battrace.services.log import CheckpointPolicy, LogAppender
from battrace.store.base import Store
from battrace.store.rows import EventRow, RejectionRow, db_time, json_text
from battrace.store.writes import WriteTransaction

DEFAULT_CHUNK = 5_000


@dataclass(slots=True)  # not frozen: frozen dataclasses are slow to build in bulk
class SourceItem:
    """One item of a batch: decoded JSON (or an already parsed event, or the error that reading
    it raised), with its 1-based line number when it came from a file."""

    data: Any
    line: int | None = None


class EventSink(Protocol):
    """Sees each chunk of accepted events inside the writing transaction, before they are
    inserted (it may fill in their log columns), and the transaction once before it commits.

    A sink that also defines ``on_batteries(tx, batteries)`` (:class:`BatterySink`) is given,
    after each chunk, the states the chunk wrote of the batteries it changed."""

    def on_events(self, tx: WriteTransaction, events: Sequence[EventRow]) -> None: ...

    def before_commit(self, tx: WriteTransaction) -> None: ...


class BatterySink(EventSink, Protocol):
    """An event sink that also sees the battery states each chunk wrote (read them at once:
    the objects are the importer's own)."""

    def on_batteries(self, tx: WriteTransaction, batteries: Sequence[BatteryState]) -> None: ...


@dataclass(frozen=True, slots=True)
class ReportResult:
    """What a batch did: how many events were accepted and their id range."""

    accepted: int
    first_id: int | None
    last_id: int | None
    batteries_changed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "first_id": self.first_id,
            "last_id": self.last_id,
            "batteries_changed": self.batteries_changed,
        }


class _BatchContext:
    """Batteries and enterprises as of the event being checked, for the state machine."""

    def __init__(self, tx: WriteTransaction, store: Store, registry: RegistryCache) -> None:
        self._tx = tx
        self._store = store
        self._registry = registry
        self.batteries: dict[str, BatteryState] = {}
        self.absent: set[str] = set()  # codes known not to be registered yet

    def preload(self, codes: Iterable[str]) -> None:
        wanted = [c for c in dict.fromkeys(codes) if c not in self.batteries]
        if wanted:
            found = self._tx.load_batteries(wanted)
            for code in wanted:
                state = found.get(code)
                if state is None:
                    self.absent.add(code)
                else:
                    self.batteries[code] = state

    def battery(self, code: str) -> BatteryState | None:
        state = self.batteries.get(code)
        if state is None and code not in self.absent:
            state = self._tx.load_batteries([code]).get(code)
            if state is not None:
                self.batteries[code] = state
        return state

    def remember(self, state: BatteryState) -> None:
        self.batteries[state.code] = state
        self.absent.discard(state.code)

    def forget_all(self) -> None:
        self.batteries.clear()
        self.absent.clear()

    def enterprise(self, enterprise_id: str) -> Enterprise | None:
        return self._registry.enterprise(self._store, enterprise_id)


def _chunks(items: Iterable[SourceItem], size: int) -> Iterator[list[tuple[int, SourceItem]]]:
    chunk: list[tuple[int, SourceItem]] = []
    for index, item in enumerate(items):
        chunk.append((index, item))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _resolve_correction(store: Store, tx_events: dict[int, EventRow], event: EventIn) -> EventIn:
    body = event.body
    assert isinstance(body, CorrectionBody)
    original = tx_events.get(body.corrects) or store.event(body.corrects)
    if original is None:
        raise NotFoundError(
            f"body.corrects: event {body.corrects} does not exist",
            field="body.corrects",
            rule="registered",
        )
    if original.actor != event.actor:
        raise RuleViolation(
            f"body.corrects: event {original.id} was reported by {original.actor}; only its"
            " reporter may correct it [rule own_events_only]",
            field="body.corrects",
            rule="own_events_only",
        )
    changes = body.changes
    if "occurred_at" in changes:
        try:
            to_aware_datetime(changes["occurred_at"])
        except ValueError as exc:
            raise FieldError(
                f"body.changes.occurred_at: {exc}", field="body.changes.occurred_at", rule="value"
            ) from None
    if "body" in changes:
        original_type = EventType(original.type)
        if original_type is EventType.CORRECTION:
            raise RuleViolation(
                "body.corrects: correct the original event, not a correction",
                field="body.corrects",
                rule="correct_original",
            )
        if not isinstance(changes["body"], dict):
            raise FieldError(
                "body.changes.body: must be an object", field="body.changes.body", rule="type"
            )
        merged = {**original.body, **changes["body"]}
        try:
            BODY_MODELS[original_type].model_validate(merged)
        except pydantic.ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise FieldError(
                f"body.changes.body.{loc}: {first['msg']}",
                field=f"body.changes.body.{loc}",
                rule=first["type"],
            ) from None
    batteries = event.batteries or tuple(original.batteries)
    if set(batteries) != set(original.batteries):
        raise RuleViolation(
            "batteries: a correction names the batteries of the event it corrects",
            field="batteries",
            rule="same_batteries",
        )
    return dataclasses.replace(event, batteries=batteries)


def _sweep_young() -> None:
    gc.collect(1)


@contextmanager
def _paused_gc() -> Iterator[Callable[[], None]]:
    """Pause the cyclic garbage collector for bulk work; yields a per-chunk sweep.

    A chunk allocates tens of thousands of short-lived objects that are all alive until the
    chunk is written; the collector would scan them again and again for nothing (measured:
    about a third of the parse time). Cycles made inside a chunk are swept after it, so
    memory stays bounded.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield _sweep_young
    finally:
        if was_enabled:
            gc.enable()


def report_events(
    store: Store,
    items: Iterable[SourceItem],
    *,
    now: Callable[[], datetime] = utc_now,
    trust_reported_at: bool = False,
    chunk_size: int = DEFAULT_CHUNK,
    sinks: Sequence[EventSink] = (),
    on_progress: Callable[[int], None] | None = None,
    log: bool = True,
    log_policy: CheckpointPolicy | None = None,
    log_key_file: str | None = None,
    signed: SignedSubmission | None = None,
    registry: RegistryCache | None = None,
) -> ReportResult:
    """Accept a batch of events all or nothing, in one transaction.

    ``items`` may be a generator (a file being read); it is consumed once. With
    ``trust_reported_at`` an item's own ``reported_at`` is kept (bulk import of historical
    data); otherwise giving one is an error and the platform's clock sets it. Raises
    :class:`BatchError` for the first bad item; nothing is written then. ``on_progress``
    gets the number of events accepted so far after each chunk.

    Every accepted event is appended to the tamper-evident log in the same transaction.
    ``log=False`` exists only to measure what the log costs: a store written so fails
    ``battrace verify``.

    ``signed`` carries an enterprise's signature over the batch (every event must then be its
    own and a JSON object as sent); without it, a batch naming an enterprise that has signing
    keys is refused. A bad signature raises ``SignatureError`` and nothing is written.

    The enterprises and their keys are read once per batch; ``registry`` (refreshed by the
    caller in this transaction) keeps them from one batch to the next (the API's
    group-commit writer).
    """
    registry = registry if registry is not None else RegistryCache()  # for this batch only
    check = SignatureCheck(store, signed, db_time(now()), registry)
    if log:
        appender = LogAppender(
            store, policy=log_policy or CheckpointPolicy(), key_file=log_key_file, now=now
        )
        sinks = [appender, *sinks]
    accepted = 0
    changed_total = 0
    batch: _Batch | None = None
    try:
        with store.write() as tx, _paused_gc() as sweep:
            check.begin(tx)
            batch = _Batch(store, tx, now, trust_reported_at, sinks, check, registry)
            start_id = batch.next_id
            for number, chunk in enumerate(_chunks(items, chunk_size), start=1):
                written, changed = batch.accept_chunk(chunk)
                accepted += written
                changed_total += changed
                if number % _SWEEP_EVERY == 0:
                    sweep()
                if on_progress is not None:
                    on_progress(accepted)
            check.finish(tx, start_id, accepted)
            for sink in sinks:
                sink.before_commit(tx)
    except BatchError as exc:
        # the batch's transaction is rolled back; the refused item is recorded on its own
        if batch is not None and batch.refused is not None:
            store.record_rejection(_rejection(batch.refused, exc.cause, now, trust_reported_at))
        raise
    first_id = start_id if accepted else None
    return ReportResult(
        accepted=accepted,
        first_id=first_id,
        last_id=(start_id + accepted - 1) if accepted else None,
        batteries_changed=changed_total,
    )


# chunks between two sweeps of the paused collector: a sweep costs about as much as scanning
# one chunk's objects, so sweeping every chunk would cost a tenth of the import
_SWEEP_EVERY = 8
_CORRECTION = EventType.CORRECTION


class _Batch:
    """One all-or-nothing batch in its write transaction, accepted chunk by chunk."""

    def __init__(
        self,
        store: Store,
        tx: WriteTransaction,
        now: Callable[[], datetime],
        trust_reported_at: bool,
        sinks: Sequence[EventSink],
        check: SignatureCheck,
        registry: RegistryCache,
    ) -> None:
        self.store = store
        self.check = check
        self.tx = tx
        self.now = now
        self.trust_reported_at = trust_reported_at
        self.sinks = sinks
        self.battery_sinks = [
            cast(BatterySink, s) for s in sinks if callable(getattr(s, "on_batteries", None))
        ]
        self.ctx = _BatchContext(tx, store, registry)
        self.next_id = tx.next_event_id()
        # the item refused for a state, custody or identity rule, to record after rollback
        self.refused: tuple[SourceItem, EventIn] | None = None

    def _parse(
        self, chunk: list[tuple[int, SourceItem]]
    ) -> list[tuple[int, SourceItem, EventIn, tuple[str, ...], str | None]]:
        parsed = []
        for index, item in chunk:
            try:
                event = _parse_item(item, self.trust_reported_at)
                submitted = self.check.item(item.data, event.actor)
                parsed.append((index, item, event, event.involved_codes(), submitted))
            except BattraceError as exc:
                raise BatchError(index, exc, line=item.line) from None
        return parsed

    def accept_chunk(self, chunk: list[tuple[int, SourceItem]]) -> tuple[int, int]:
        """Check and write one chunk; returns (events written, batteries changed)."""
        parsed = self._parse(chunk)
        refs = [(e.actor, e.ref) for _, _, e, *_ in parsed if e.ref is not None]
        # earlier chunks are already written in this transaction, so the query sees them
        taken = self.tx.existing_refs(refs) if refs else set()
        ctx = self.ctx
        ctx.preload(code for *_, codes, _ in parsed for code in codes)
        rows: list[EventRow] = []
        links: list[tuple[str, int]] = []
        dirty: dict[str, BatteryState] = {}
        recent: dict[int, EventRow] = {}
        reported_now = db_time(self.now())
        signed_by = self.check.signed_by
        for index, item, event, codes, submitted in parsed:
            event_id = self.next_id
            try:
                if event.ref is not None:
                    key = (event.actor, event.ref)
                    if key in taken:
                        raise ConflictError(
                            f"ref: {event.ref!r} was already used by {event.actor}"
                            " [rule ref_unique]",
                            field="ref",
                            rule="ref_unique",
                        )
                    taken.add(key)
                if event.type is _CORRECTION:
                    event = _resolve_correction(self.store, recent, event)
                changed = apply_event(ctx, event, event_id)
            except BattraceError as exc:
                if isinstance(exc, _RECORDED_REFUSALS):
                    self.refused = (item, event)
                raise BatchError(index, exc, line=item.line) from None
            for state in changed:
                ctx.remember(state)
                dirty[state.code] = state
            row = _event_row(event, event_id, reported_now, ctx)
            row.submitted, row.signed_by = submitted, signed_by
            rows.append(row)
            recent[event_id] = row
            links.extend((code, event_id) for code in codes)
            self.next_id += 1
        for sink in self.sinks:
            sink.on_events(self.tx, rows)
        self.tx.insert_events(rows, links)
        self.tx.save_batteries(dirty.values())
        if self.battery_sinks:
            states = list(dirty.values())
            for battery_sink in self.battery_sinks:
                battery_sink.on_batteries(self.tx, states)
        ctx.forget_all()
        return len(rows), len(dirty)


# refusals supervision sees (docs/supervision.md "Refused reports"): the rules of the state
# machine, custody and identity; format errors and bad signatures are not recorded
_RECORDED_REFUSALS = (RuleViolation, NotFoundError, ConflictError)


def _rejection(
    refused: tuple[SourceItem, EventIn],
    cause: BattraceError,
    now: Callable[[], datetime],
    trust_reported_at: bool,
) -> RejectionRow:
    """The record of a refused item: its parsed envelope, the rule, the event as sent."""
    item, event = refused
    # importing history (trusted report times): the refusal happened when it was reported
    received = event.reported_at if trust_reported_at and event.reported_at else now()
    sent: str | None = None
    if isinstance(item.data, dict):
        try:
            sent = json_text(item.data)
        except orjson.JSONEncodeError:  # nothing JSON can hold (a 65-bit integer ...)
            sent = None
    return RejectionRow(
        id=0,
        received_at=db_time(received),
        actor=event.actor,
        type=event.type.value,
        batteries=event.batteries,
        occurred_at=db_time(event.occurred_at),
        rule=cause.rule or cause.code,
        field=_refused_field(cause, event),
        message=cause.message,
        event=sent,
    )


def _refused_field(cause: BattraceError, event: EventIn) -> str | None:
    """The field at fault; for a listed battery (``batteries``), which one (``batteries[i]``),
    when the refusal names exactly one of them."""
    if cause.field != "batteries":
        return cause.field
    named = [i for i, code in enumerate(event.batteries) if code in cause.message]
    return f"batteries[{named[0]}]" if len(named) == 1 else cause.field


def _parse_item(item: SourceItem, trust_reported_at: bool) -> EventIn:
    data = item.data
    if isinstance(data, BattraceError):
        raise data
    event = data if isinstance(data, EventIn) else parse_event(data)
    if event.reported_at is not None and not trust_reported_at:
        raise FieldError(
            "reported_at: set by the platform when it accepts the report",
            field="reported_at",
            rule="platform_set",
        )
    return event


def _event_row(event: EventIn, event_id: int, now: str, ctx: _BatchContext) -> EventRow:
    place = event.place
    if place is None:
        actor = ctx.enterprise(event.actor)
        place = actor.division if actor is not None else None
    corrects = event.body.corrects if isinstance(event.body, CorrectionBody) else None
    return EventRow(
        id=event_id,
        type=event.type.value,
        actor=event.actor,
        counterparty=event.counterparty,
        occurred_at=db_time(event.occurred_at),
        reported_at=db_time(event.reported_at) if event.reported_at is not None else now,
        place=place,
        ref=event.ref,
        corrects=corrects,
        batteries=list(event.batteries),
        body=event.body_dict(),
    )


def report_event(store: Store, data: Any, **options: Any) -> EventRow:
    """Accept one event (a decoded JSON object or an :class:`EventIn`) and return it as stored.

    Raises the item's own error (not a ``BatchError``) when it is refused.
    """
    try:
        result = report_events(store, [SourceItem(data)], **options)
    except BatchError as exc:
        raise exc.cause from None
    assert result.first_id is not None
    stored = store.event(result.first_id)
    assert stored is not None
    return stored


__all__ = [
    "BatterySink",
    "EventSink",
    "ReportResult",
    "SourceItem",
    "report_event",
    "report_events",
]
