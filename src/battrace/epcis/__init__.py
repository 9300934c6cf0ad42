"""GS1 EPCIS 2.0 for battrace: its events as EPCIS JSON-LD, capture and query.

- :mod:`~battrace.epcis.identifiers`: the URIs of batteries, parties, places and events, and
  the JSON-LD context of the ``battrace`` extension namespace (pure).
- :mod:`~battrace.epcis.shapes`: the EPCIS class, action, bizStep and disposition of each
  battrace event type (pure).
- :mod:`~battrace.epcis.mapping`: battrace event dicts to EPCIS events and back, exactly
  (pure).
- :mod:`~battrace.epcis.documents`: EPCISDocument and EPCISQueryDocument wrappers (pure).
- :mod:`~battrace.epcis.query`: the EPCIS query parameters, read and matched (pure).
- :mod:`~battrace.epcis.validate`: documents checked against GS1's JSON schema, read from
  disk at run time.
- :mod:`~battrace.epcis.service`: :func:`capture_document` and :func:`query_events` on a
  store.

``docs/epcis.md`` has the mapping table and the query parameters.
"""

from battrace.epcis.documents import epcis_document, query_document
from battrace.epcis.mapping import epcis_to_event, event_to_epcis, stored_event
from battrace.epcis.query import QueryParameterError, parse_query
from battrace.epcis.service import capture_document, next_page_token, query_events
from battrace.epcis.validate import SchemaUnavailable, schema_path, validate_document

__all__ = [
    "QueryParameterError",
    "SchemaUnavailable",
    "capture_document",
    "epcis_document",
    "epcis_to_event",
    "event_to_epcis",
    "next_page_token",
    "parse_query",
    "query_document",
    "query_events",
    "schema_path",
    "stored_event",
    "validate_document",
]
