"""EPCIS documents: the EPCISDocument battrace exports for capture, the EPCISQueryDocument
that answers a query, and the event list of either. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from battrace.domain.quantities import timestamp_text
from battrace.epcis.identifiers import NEXT_PAGE_FIELD, document_context

SCHEMA_VERSION: Final = "2.0"


def epcis_document(
    epcis_events: Iterable[Mapping[str, Any]], *, created: datetime
) -> dict[str, Any]:
    """An EPCISDocument (for capture) holding ``epcis_events``, made at ``created``."""
    return {
        "@context": document_context(),
        "type": "EPCISDocument",
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": timestamp_text(created),
        "epcisBody": {"eventList": [dict(e) for e in epcis_events]},
    }


def query_document(
    epcis_events: Iterable[Mapping[str, Any]],
    *,
    created: datetime,
    next_page_token: str | None = None,
    query_name: str = "SimpleEventQuery",
) -> dict[str, Any]:
    """An EPCISQueryDocument answering ``query_name`` with ``epcis_events``.

    ``next_page_token``, when there are more results, is carried in the
    ``battrace:nextPageToken`` extension of ``queryResults`` (the REST binding's Link header
    carries it too).
    """
    results: dict[str, Any] = {
        "queryName": query_name,
        "resultsBody": {"eventList": [dict(e) for e in epcis_events]},
    }
    if next_page_token is not None:
        results[NEXT_PAGE_FIELD] = next_page_token
    return {
        "@context": document_context(),
        "type": "EPCISQueryDocument",
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": timestamp_text(created),
        "epcisBody": {"queryResults": results},
    }


def document_events(document: Mapping[str, Any]) -> list[Any]:
    """The event list of an EPCISDocument (or EPCISQueryDocument) already schema-checked."""
    body = document.get("epcisBody", {})
    if document.get("type") == "EPCISQueryDocument":
        body = body.get("queryResults", {}).get("resultsBody", {})
    events = body.get("eventList", [])
    return list(events) if isinstance(events, list) else []
