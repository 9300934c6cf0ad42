"""EPCIS 2.0 over HTTP: capture a document, query events (GS1 EPCIS 2.0 REST binding style).

- ``POST /epcis/capture``: an EPCISDocument (``application/json`` or ``application/ld+json``)
  is checked against the GS1 schema and reported all or nothing as the caller; 202 with
  ``{"captured": N, "eventIDs": [...]}``.
- ``GET /epcis/events``: the EPCIS query parameters (``docs/epcis.md``) answered with an
  EPCISQueryDocument of the events the caller may read; when more remain, a
  ``Link: <...?nextPageToken=...>; rel="next"`` header points to the next page.

Errors are :class:`~battrace.errors.BattraceError` subclasses; the app turns them into the one
JSON error shape. The work is in :mod:`battrace.epcis.service`; this module only reads the
request and shapes the response.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from battrace.api.bodies import json_object
from battrace.api.context import context_of
from battrace.api.deps import Principal, get_principal, get_store
from battrace.epcis.service import capture_document, next_page_token, query_events
from battrace.errors import Unauthenticated
from battrace.store.base import Store

JSON_LD = "application/ld+json"

StoreDep = Annotated[Store, Depends(get_store)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]

router = APIRouter(tags=["EPCIS 2.0"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "An unknown or badly valued query parameter (QueryParameterException)"},
    401: {"description": "No enterprise is calling"},
    403: {"description": "An event of another enterprise"},
    409: {"description": "An event breaks a lifecycle or custody rule; nothing was captured"},
    422: {"description": "Not valid EPCIS 2.0, or an event battrace cannot map"},
}


def _enterprise(principal: Principal, action: str) -> str:
    """The calling enterprise's id; 401 for an anonymous caller."""
    if principal.enterprise_id is None:
        raise Unauthenticated(
            f"Authorization: an enterprise's token is needed to {action} events",
            field="Authorization",
            rule="required",
        )
    return principal.enterprise_id


@router.post(
    "/epcis/capture",
    status_code=202,
    summary="Capture an EPCIS 2.0 document: all its events, or none",
    responses=_ERRORS,
)
async def capture_epcis_document(
    request: Request, store: StoreDep, principal: PrincipalDep
) -> dict[str, Any]:
    caller = _enterprise(principal, "capture")
    document = json_object(await request.body(), request.headers.get("content-type"))
    options = context_of(request).log_options()
    # the store is synchronous: keep the event loop free while the batch is checked and written
    result: dict[str, Any] = await run_in_threadpool(
        lambda: capture_document(store, document, actor=caller, **options)
    )
    return result


@router.get(
    "/epcis/events",
    summary="Query events with EPCIS 2.0 query parameters",
    response_class=JSONResponse,
    responses=_ERRORS,
)
def query_epcis_events(request: Request, store: StoreDep, principal: PrincipalDep) -> JSONResponse:
    params: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        params.setdefault(name, []).append(value)
    _enterprise(principal, "query")  # anonymous callers read no event
    document = query_events(
        store, params, visible=principal.can_read_event, reader=principal.reader
    )
    headers: dict[str, str] = {}
    token = next_page_token(document)
    if token is not None:
        following = request.url.include_query_params(nextPageToken=token)
        headers["Link"] = f'<{following}>; rel="next"'
    return JSONResponse(document, headers=headers, media_type=JSON_LD)


__all__ = ["router"]
