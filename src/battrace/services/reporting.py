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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

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
from battrace.store.base import EventRow, Store, WriteTransaction, db_time

DEFAULT_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class SourceItem:
    """One item of a batch: decoded JSON (or an already parsed event, or the error that reading
    it raised), with its 1-based line number when it came from a file."""

    data: Any
    line: int | None = None


class EventSink(Protocol):
    """Sees each chunk of accepted events inside the writing transaction."""

    def on_events(self, tx: WriteTransaction, events: Sequence[EventRow]) -> None: ...


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

    def __init__(self, tx: WriteTransaction, store: Store) -> None:
        self._tx = tx
        self._store = store
        self.batteries: dict[str, BatteryState] = {}
        self._enterprises: dict[str, Enterprise | None] = {}

    def preload(self, codes: Iterable[str]) -> None:
        wanted = [c for c in codes if c not in self.batteries]
        if wanted:
            found = self._tx.load_batteries(wanted)
            for code in wanted:
                state = found.get(code)
                if state is not None:
                    self.batteries[code] = state

    def battery(self, code: str) -> BatteryState | None:
        state = self.batteries.get(code)
        if state is None:
            found = self._tx.load_batteries([code]).get(code)
            if found is not None:
                self.batteries[code] = found
            return found
        return state

    def enterprise(self, enterprise_id: str) -> Enterprise | None:
        if enterprise_id not in self._enterprises:
            self._enterprises[enterprise_id] = self._store.enterprise(enterprise_id)
        return self._enterprises[enterprise_id]


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


def report_events(
    store: Store,
    items: Iterable[SourceItem],
    *,
    now: Callable[[], datetime] = utc_now,
    trust_reported_at: bool = False,
    chunk_size: int = DEFAULT_CHUNK,
    sinks: Sequence[EventSink] = (),
    on_progress: Callable[[int], None] | None = None,
) -> ReportResult:
    """Accept a batch of events all or nothing, in one transaction.

    ``items`` may be a generator (a file being read); it is consumed once. With
    ``trust_reported_at`` an item's own ``reported_at`` is kept (bulk import of historical
    data); otherwise giving one is an error and the platform's clock sets it. Raises
    :class:`BatchError` for the first bad item; nothing is written then. ``on_progress``
    gets the number of events accepted so far after each chunk.
    """
    accepted = 0
    first_id: int | None = None
    changed_total = 0
    with store.write() as tx:
        next_id = tx.next_event_id()
        start_id = next_id
        ctx = _BatchContext(tx, store)
        seen_refs: set[tuple[str, str]] = set()
        for chunk in _chunks(items, chunk_size):
            parsed: list[tuple[int, SourceItem, EventIn]] = []
            for index, item in chunk:
                try:
                    event = _parse_item(item, trust_reported_at)
                except BattraceError as exc:
                    raise BatchError(index, exc, line=item.line) from None
                parsed.append((index, item, event))
            refs = [(e.actor, e.ref) for _, _, e in parsed if e.ref is not None]
            taken = tx.existing_refs(refs) if refs else set()
            ctx.preload(code for _, _, e in parsed for code in e.involved_codes())
            rows: list[EventRow] = []
            links: list[tuple[str, int]] = []
            dirty: dict[str, BatteryState] = {}
            recent: dict[int, EventRow] = {}
            reported_now = now()
            for index, item, event in parsed:
                try:
                    if event.ref is not None:
                        key = (event.actor, event.ref)
                        if key in taken or key in seen_refs:
                            raise ConflictError(
                                f"ref: {event.ref!r} was already used by {event.actor}"
                                " [rule ref_unique]",
                                field="ref",
                                rule="ref_unique",
                            )
                        seen_refs.add(key)
                    if event.type is EventType.CORRECTION:
                        event = _resolve_correction(store, recent, event)
                    changed = apply_event(ctx, event, next_id)
                except BattraceError as exc:
                    raise BatchError(index, exc, line=item.line) from None
                for state in changed:
                    ctx.batteries[state.code] = state
                    dirty[state.code] = state
                row = _event_row(event, next_id, reported_now, ctx)
                rows.append(row)
                recent[next_id] = row
                links.extend((code, next_id) for code in event.involved_codes())
                next_id += 1
            tx.insert_events(rows, links)
            tx.save_batteries(dirty.values())
            for sink in sinks:
                sink.on_events(tx, rows)
            changed_total += len(dirty)
            accepted += len(rows)
            ctx.batteries.clear()
            if on_progress is not None:
                on_progress(accepted)
        if accepted:
            first_id = start_id
    return ReportResult(
        accepted=accepted,
        first_id=first_id,
        last_id=(first_id + accepted - 1) if first_id is not None else None,
        batteries_changed=changed_total,
    )


def _parse_item(item: SourceItem, trust_reported_at: bool) -> EventIn:
    data = item.data
    if isinstance(data, BattraceError):
        raise data
    if isinstance(data, EventIn):
        event = data
    else:
        event = parse_event(data)
    if event.reported_at is not None and not trust_reported_at:
        raise FieldError(
            "reported_at: set by the platform when it accepts the report",
            field="reported_at",
            rule="platform_set",
        )
    return event


def _event_row(event: EventIn, event_id: int, now: datetime, ctx: _BatchContext) -> EventRow:
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
        reported_at=db_time(event.reported_at or now),
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
    "EventSink",
    "ReportResult",
    "SourceItem",
    "report_event",
    "report_events",
]
