"""EPCIS capture and query on a battrace store.

:func:`capture_document` takes an EPCISDocument, checks it against the GS1 schema, maps every
event (:mod:`battrace.epcis.mapping`) and reports them all or nothing through
:func:`battrace.services.reporting.report_events`, so a captured event passes exactly the
checks, lifecycle rules and tamper-evident log of any other report. :func:`query_events`
answers the EPCIS 2.0 query parameters (:mod:`battrace.epcis.query`) with an
EPCISQueryDocument, page by page in the order events were accepted.

Security assumption: the caller (the API) has authenticated the enterprise it passes as
``actor`` and decides what a reader may see (``visible``); this module enforces both but
does not establish them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from battrace.codes import validate_credit_code
from battrace.domain.events import parse_event
from battrace.domain.quantities import utc_now
from battrace.epcis.documents import document_events, query_document
from battrace.epcis.identifiers import NEXT_PAGE_FIELD, event_uri
from battrace.epcis.mapping import epcis_to_event, event_to_epcis, stored_event
from battrace.epcis.query import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    EventQuery,
    encode_page_token,
    parse_query,
)
from battrace.epcis.validate import validate_document
from battrace.errors import BatchError, BattraceError, PermissionDenied, ValidationError
from battrace.services.reporting import SourceItem, report_events
from battrace.store.base import Store
from battrace.store.rows import EventRow

_SCAN_CHUNK_MIN = 200
_SCAN_CHUNK_MAX = 10_000


def _event_items(events: list[Any], actor: str | None, trust_reported_at: bool) -> list[SourceItem]:
    caller = validate_credit_code(actor, field="actor") if actor is not None else None
    items = []
    for index, raw in enumerate(events):
        where = f"$.epcisBody.eventList[{index}]"
        try:
            data = epcis_to_event(raw, actor=caller, field=where)
            if "id" in data:
                raise ValidationError(
                    f"{where}.eventID: {event_uri(data['id'])} is an id battrace gives when it"
                    " accepts an event; send your own eventID or none",
                    field=f"{where}.eventID",
                    rule="platform_set",
                )
            if not trust_reported_at:
                # EPCIS 2.0: a capture ignores recordTime; the repository sets it
                data.pop("reported_at", None)
            event = parse_event(data)
        except BattraceError as exc:
            raise BatchError(index, exc) from None
        if caller is not None and event.actor != caller:
            raise PermissionDenied(
                f"{where}: reported for {event.actor}, but the caller is {caller};"
                " an enterprise captures only its own events [rule own_events_only]",
                field=f"{where}.battrace:actor",
                rule="own_events_only",
            )
        items.append(SourceItem(event))
    return items


def capture_document(
    store: Store,
    document: Any,
    *,
    actor: str | None = None,
    schema: Path | None = None,
    **report_options: Any,
) -> dict[str, Any]:
    """Capture an EPCISDocument: every event is accepted, or none is.

    ``actor`` is the authenticated caller's credit code: an event naming no reporter is
    reported by it, and one naming another enterprise is refused. ``schema`` overrides where
    the GS1 schema is read from; ``report_options`` go to ``report_events`` (with
    ``trust_reported_at`` an event's ``recordTime`` is kept, for importing history; otherwise
    it is ignored, as EPCIS capture does). Returns ``{"captured": N, "eventIDs": [...]}``,
    the ids battrace gave the events, in document order.

    Raises ``ValidationError`` naming the JSON path and schema rule for a document the GS1
    schema refuses, ``BatchError`` (index = position in ``eventList``) for an event that
    cannot be mapped or breaks a battrace rule, ``PermissionDenied`` for an event of another
    enterprise, and ``SchemaUnavailable`` when the schema file is missing. Nothing is
    written when anything is raised.
    """
    validate_document(document, schema=schema)
    if document.get("type") != "EPCISDocument":
        raise ValidationError(
            f"$.type: capture takes an EPCISDocument, not {document.get('type')!r}",
            field="$.type",
            rule="document_type",
        )
    trust = bool(report_options.get("trust_reported_at"))
    items = _event_items(document_events(document), actor, trust)
    if not items:
        return {"captured": 0, "eventIDs": []}
    result = report_events(store, items, **report_options)
    ids: list[int] = []
    if result.first_id is not None and result.last_id is not None:
        ids = list(range(result.first_id, result.last_id + 1))
    return {"captured": result.accepted, "eventIDs": [event_uri(i) for i in ids]}


#: events a page examines at most (read and checked against ``visible`` and the query); a
#: page that reaches it ends there, with fewer events than asked and the token to go on from
#: (a query that matches little would otherwise read the whole store in one request)
SCAN_EVENTS: Final = 10_000
#: batteries a reader's events are found through at most (:func:`_candidates`); a reader
#: with more is served by the scan (its events are then dense among all events)
READER_BATTERIES: Final = 5_000


def _candidates(store: Store, query: EventQuery, reader: str | None) -> Iterator[EventRow]:
    """Events that may match, in id order, after the page token's event."""
    after = query.after_id
    if query.event_ids is not None:
        for event_id in sorted(i for i in query.event_ids if i > after):
            row = store.event(event_id)
            if row is not None:
                yield row
        return
    if query.battery_codes is not None:
        rows: dict[int, EventRow] = {}
        for code in query.battery_codes:
            for row in store.history(code):
                if row.id > after:
                    rows[row.id] = row
        for event_id in sorted(rows):
            yield rows[event_id]
        return
    chunk = min(max(query.per_page * 4, _SCAN_CHUNK_MIN), _SCAN_CHUNK_MAX)
    codes = store.readable_batteries(reader, READER_BATTERIES) if reader is not None else None
    if reader is None or codes is None:
        yield from store.iter_events(after_id=after, chunk=chunk)
        return
    # the events of the batteries the reader may read, and those it is party to that touch
    # no battery: a superset of what it may read
    while page := store.reader_events(codes, reader, after, chunk):
        yield from page
        after = page[-1].id


def query_events(
    store: Store,
    params: Mapping[str, str | list[str]],
    *,
    visible: Callable[[EventRow], bool] | None = None,
    reader: str | None = None,
    limit: int = DEFAULT_PER_PAGE,
    max_per_page: int = MAX_PER_PAGE,
    scan: int = SCAN_EVENTS,
    now: Callable[[], datetime] = utc_now,
) -> dict[str, Any]:
    """Answer EPCIS query parameters with one page of an EPCISQueryDocument.

    ``params`` maps parameter names to a value or a list of values (a query string).
    ``visible`` says whether the caller may see a stored event (default: every event).
    ``reader``, an enterprise that may read only the events of batteries it is party to,
    holds, or holds the outer unit of (not a regulator; ``visible`` says so for it), lets
    the query look through those batteries' events instead of every event.
    ``limit`` is the page size when ``perPage`` is not given; ``perPage`` may ask up to
    ``max_per_page``. Events come in the order battrace accepted them; when more remain,
    ``queryResults`` carries ``battrace:nextPageToken`` to pass as ``nextPageToken``.
    A page examines ``scan`` events at most: one that reaches it holds fewer events than
    asked (maybe none) and a token to go on from.

    Raises ``QueryParameterError`` (HTTP 400) naming an unknown or badly valued parameter.
    Without a MATCH_ or EQ_eventID parameter or a ``reader``, the events are scanned from
    the page token on.
    """
    query = parse_query(params, default_per_page=limit, max_per_page=max_per_page)
    found: list[dict[str, Any]] = []
    token: str | None = None
    last_id = query.after_id
    for examined, row in enumerate(_candidates(store, query, reader)):
        if examined == scan:  # the rows up to the last examined one are answered
            token = encode_page_token(last_id)
            break
        if visible is None or visible(row):
            epcis = event_to_epcis(stored_event(row))
            if query.matches(epcis):
                if len(found) == query.per_page:  # another match: the next page starts here
                    token = encode_page_token(last_id)
                    break
                found.append(epcis)
        last_id = row.id
    return query_document(found, created=now(), next_page_token=token)


def next_page_token(document: Mapping[str, Any]) -> str | None:
    """The ``nextPageToken`` of a page made by :func:`query_events`, or None on the last."""
    results = document.get("epcisBody", {}).get("queryResults", {})
    token = results.get(NEXT_PAGE_FIELD)
    return token if isinstance(token, str) else None
