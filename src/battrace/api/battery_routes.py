"""Registering batteries (one or in bulk) and reading them: list, record, passport, history,
state.

A battery record becomes the ``produced`` event that registers it (maker = the caller); a
signature (``Battrace-Signature``) signs those events, as ``battrace import --kind batteries
--sign-key`` does. Anyone may read a battery's public passport; the rest follows
:mod:`battrace.domain.access`.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from battrace.api.answers import documented, json_answer
from battrace.api.auth import current_caller
from battrace.api.batches import BatchMode, check_authors, check_mode, run_batch
from battrace.api.bodies import SIGNATURE_HEADER, batch_items, json_object, signature
from battrace.api.context import context_of
from battrace.api.event_routes import SIGNATURE_DOC, batch_doc, batch_responses
from battrace.api.idempotency import perform_write
from battrace.api.matrix import route_doc
from battrace.api.schemas import (
    BatchResult,
    BatteryPage,
    BatteryRecord,
    BatteryState,
    BatteryView,
    Event,
    Passport,
)
from battrace.codes import parse_battery_code, validate_credit_code
from battrace.domain.access import Caller
from battrace.domain.entities import State
from battrace.domain.events import Material
from battrace.errors import BattraceError, ValidationError
from battrace.services import queries
from battrace.services.access import (
    battery_scope,
    check_read_battery,
    check_writes_as_caller,
    require_caller,
)
from battrace.services.importing import battery_event
from battrace.services.reporting import SourceItem, report_event
from battrace.store.base import Store

router = APIRouter(prefix="/api/v1/batteries", tags=["batteries"])
CallerDep = Annotated[Caller, Depends(current_caller)]
CodePath = Annotated[str, Path(description="GB/T 34014 battery code.", max_length=64)]
RECORD_FIELDS = frozenset(BatteryRecord.model_fields) | {f"{m.value}_kg" for m in Material}


def record_event(data: Any) -> dict[str, Any]:
    """The ``produced`` event of one battery record; unknown fields are refused."""
    if not isinstance(data, dict):
        raise ValidationError("record: must be a JSON object", field="record", rule="object")
    unknown = sorted(k for k in data if k not in RECORD_FIELDS)
    if unknown:
        raise ValidationError(
            f"{unknown[0]}: is not a battery record field", field=unknown[0], rule="extra_forbidden"
        )
    return battery_event(data)


def _as_events(items: list[SourceItem]) -> list[SourceItem]:
    out = []
    for item in items:
        if isinstance(item.data, BattraceError):
            out.append(item)
            continue
        try:
            out.append(SourceItem(record_event(item.data), item.line))
        except BattraceError as exc:
            out.append(SourceItem(exc, item.line))
    return out


@router.post(
    "",
    status_code=201,
    responses=documented(201, BatteryState, "The registered battery"),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": BatteryRecord.model_json_schema()}},
        }
    },
    **route_doc("register_battery", SIGNATURE_DOC),
)
async def register_battery(request: Request, caller: CallerDep) -> Response:
    me = require_caller(caller)
    ctx = context_of(request)
    raw = await request.body()
    data = json_object(raw, request.headers.get("content-type"))
    check_writes_as_caller(caller, None, data, "maker")
    event = record_event(data)
    signed = signature(request.headers.get(SIGNATURE_HEADER))

    def action(store: Store) -> tuple[int, Any]:
        row = report_event(store, event, signed=signed, **ctx.log_options())
        return 201, queries.battery_state(store, row.batteries[0])

    answer = await perform_write(request, me.id, raw, action)
    code = orjson.loads(answer.body)["code"]
    return answer.response({"Location": f"/api/v1/batteries/{code}"})


@router.post(
    "/batch",
    status_code=201,
    responses=batch_responses(BatchResult),
    openapi_extra=batch_doc(BatteryRecord.model_json_schema()),
    **route_doc(
        "register_batteries",
        "A JSON array of records, or NDJSON with `Content-Type: application/x-ndjson`. "
        + SIGNATURE_DOC,
    ),
)
async def register_batteries(
    request: Request,
    caller: CallerDep,
    mode: Annotated[BatchMode, Query()] = BatchMode.ALL,
) -> Response:
    me = require_caller(caller)
    ctx = context_of(request)
    raw = await request.body()
    signed = signature(request.headers.get(SIGNATURE_HEADER))
    check_mode(mode, signed)
    items = batch_items(raw, request.headers.get("content-type"), ctx.settings.api_max_batch_items)
    items = _as_events(check_authors(caller, items, "maker", mode))

    def action(store: Store) -> tuple[int, Any]:
        return run_batch(store, items, mode, signed, ctx.log_options())

    return (await perform_write(request, me.id, raw, action)).response()


def _credit(value: str | None, field: str) -> str | None:
    return validate_credit_code(value, field=field) if value is not None else None


@router.get(
    "",
    responses=documented(200, BatteryPage, "A page of batteries, by code"),
    **route_doc(
        "list_batteries",
        "Filters combine. An enterprise sees the batteries it made, holds, is sent or"
        " reported on; a provincial regulator those now in its province; the national"
        " regulator all. Cursor pages: pass `next` as `after`.",
    ),
)
def list_batteries(
    request: Request,
    caller: CallerDep,
    holder: Annotated[str | None, Query(max_length=64)] = None,
    state: Annotated[State | None, Query()] = None,
    maker: Annotated[str | None, Query(max_length=64)] = None,
    province: Annotated[str | None, Query(pattern=r"^([0-9]{2}|[0-9]{6})$")] = None,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    scope_province, party = battery_scope(caller, province)
    cursor = parse_battery_code(after, field="after").text if after is not None else None
    with context_of(request).access.reading() as store:
        page = queries.list_batteries(
            store,
            holder=_credit(holder, "holder"),
            state=state.value if state is not None else None,
            maker=_credit(maker, "maker"),
            province=scope_province,
            party=party,
            after=cursor,
            limit=limit,
        )
    return json_answer(page)


@router.get(
    "/{code}",
    responses=documented(200, BatteryView, "State, links and full history"),
    **route_doc("read_battery"),
)
def read_battery(request: Request, caller: CallerDep, code: CodePath) -> Response:
    with context_of(request).access.reading() as store:
        found = check_read_battery(store, caller, code)
        return json_answer(queries.battery_view(store, found.code))


@router.get(
    "/{code}/passport",
    responses=documented(200, Passport, "The public passport fields"),
    **route_doc(
        "battery_passport",
        "Public: code, level, type letter, chemistry, maker (credit code and name), state and"
        " whether it is a second-life product.",
    ),
)
def battery_passport(request: Request, caller: CallerDep, code: CodePath) -> Response:
    with context_of(request).access.reading() as store:
        return json_answer(queries.public_passport(store, code))


@router.get(
    "/{code}/history",
    responses=documented(200, list[Event], "Its events in acceptance order"),
    **route_doc("battery_history", "Corrections are shown on the events they correct."),
)
def battery_history(request: Request, caller: CallerDep, code: CodePath) -> Response:
    with context_of(request).access.reading() as store:
        found = check_read_battery(store, caller, code)
        return json_answer(queries.battery_history(store, found.code))


@router.get(
    "/{code}/state",
    responses=documented(200, BatteryState, "Its current state, holder, place and links"),
    **route_doc("battery_state"),
)
def battery_state(request: Request, caller: CallerDep, code: CodePath) -> Response:
    with context_of(request).access.reading() as store:
        found = check_read_battery(store, caller, code)
        return json_answer(queries.battery_state(store, found.code))


__all__ = ["record_event", "router"]
