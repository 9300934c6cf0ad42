"""Reporting events, one or in bulk, and reading one back.

An enterprise reports only as itself (``actor``); once it has registered signing keys its
reports must carry ``Battrace-Signature: key=<key id>, nonce=<base64>, signature=<base64>``
over the events exactly as sent (docs/log-format.md). Writes take an ``Idempotency-Key``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials
from starlette.responses import Response

from battrace.api.answers import ERROR_RESPONSES, documented, json_answer
from battrace.api.auth import bearer_scheme, current_caller
from battrace.api.batches import BatchMode, check_authors, check_mode, run_batch
from battrace.api.bodies import NDJSON, SIGNATURE_HEADER, batch_items, signature
from battrace.api.context import context_of
from battrace.api.idempotency import perform_write
from battrace.api.matrix import route_doc
from battrace.api.schemas import BatchResult, Event, EventInput, PerItemResults
from battrace.api.single_reports import report_single
from battrace.domain.access import Caller
from battrace.services.access import check_read_event, require_caller
from battrace.services.queries import event_view
from battrace.store.base import Store

router = APIRouter(prefix="/api/v1/events", tags=["events"])
CallerDep = Annotated[Caller, Depends(current_caller)]
ModeQuery = Annotated[
    BatchMode,
    Query(description="all (default): all or nothing; per_item: a result per item"),
]
SIGNATURE_DOC = (
    f"`{SIGNATURE_HEADER}: key=<key id>, nonce=<base64>, signature=<base64>` signs the events"
    " as sent; required once the enterprise has signing keys. `Idempotency-Key` makes a"
    " retry safe."
)


def batch_doc(item_schema: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` for a batch body: a JSON array, or NDJSON (one item a line)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "array", "items": item_schema}},
                NDJSON: {"schema": {"type": "string", "description": "one JSON item a line"}},
            },
        }
    }


def batch_responses(result: Any) -> dict[int | str, Any]:
    return {
        **documented(201, result, "All accepted (mode=all)"),
        200: {"model": PerItemResults, "description": "A result per item (mode=per_item)"},
    }


@router.post(
    "",
    status_code=201,
    responses=documented(201, Event, "The accepted event as stored"),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": EventInput.model_json_schema()}},
        }
    },
    **route_doc("report_event", SIGNATURE_DOC),
)
async def report_event(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> Response:
    # the app answers this before routing (BattraceAPI, api/single_reports.py); the route
    # documents it and gives the same answer to an app without that shortcut
    return await report_single(request)


@router.post(
    "/batch",
    status_code=201,
    responses=batch_responses(BatchResult),
    openapi_extra=batch_doc(EventInput.model_json_schema()),
    **route_doc(
        "report_events",
        "A JSON array, or NDJSON with `Content-Type: application/x-ndjson`. " + SIGNATURE_DOC,
    ),
)
async def report_events(
    request: Request, caller: CallerDep, mode: ModeQuery = BatchMode.ALL
) -> Response:
    me = require_caller(caller)
    ctx = context_of(request)
    raw = await request.body()
    signed = signature(request.headers.get(SIGNATURE_HEADER))
    check_mode(mode, signed)
    items = batch_items(raw, request.headers.get("content-type"), ctx.settings.api_max_batch_items)
    items = check_authors(caller, items, "actor", mode)

    def action(store: Store) -> tuple[int, Any]:
        return run_batch(store, items, mode, signed, ctx.log_options())

    return (await perform_write(request, me.id, raw, action)).response()


@router.get(
    "/{event_id}",
    responses={**documented(200, Event, "The event, with its corrections"), **ERROR_RESPONSES},
    **route_doc("read_event"),
)
def read_event(
    request: Request,
    caller: CallerDep,
    event_id: Annotated[int, Path(ge=1, le=2**62)],
) -> Response:
    with context_of(request).access.reading() as store:
        row = check_read_event(store, caller, event_id)
        return json_answer(event_view(store, row))


__all__ = ["router"]
