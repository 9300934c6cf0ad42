"""Supervision alerts: list, read with history, and the regulators' acknowledge, resolve and
reopen (docs/supervision.md).

Regulators see and act on the alerts of their jurisdiction (the national regulator on all);
an enterprise reads the alerts about itself and acts on none. Actions take an
``Idempotency-Key`` like every write.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from battrace.api.answers import documented, json_answer
from battrace.api.auth import current_caller
from battrace.api.bodies import json_body, validated
from battrace.api.context import context_of
from battrace.api.idempotency import perform_write
from battrace.api.matrix import route_doc
from battrace.domain.access import Caller
from battrace.services.access import require_caller
from battrace.store.base import Store
from battrace.supervision import alerts as alert_service

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
CallerDep = Annotated[Caller, Depends(current_caller)]
AlertId = Annotated[
    str, Path(description="The alert's id: 16 lower-case hex digits.", pattern=r"^[0-9a-f]{16}$")
]


# -- shapes (for the OpenAPI document; answers are built by the service) ---------------------
class AlertChange(BaseModel):
    at: str
    status: str = Field(description="The status the alert entered.")
    by: str | None = Field(description="Credit code of the regulator, or system.")
    comment: str | None


class Alert(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(description="The finding's id: the same breach always has the same id.")
    rule: str
    severity: str = Field(description="low, medium, high or critical")
    status: str = Field(description="open, acknowledged or resolved")
    battery: str | None
    enterprise: str | None
    province: str | None
    subject: str
    evidence: list[int] = Field(description="Ids of the events that show the breach.")
    detail: str
    day: str | None
    first_seen: str
    last_seen: str
    found: bool = Field(description="Whether the latest evaluation still finds it.")
    acknowledged_by: str | None
    acknowledged_at: str | None
    resolved_by: str | None
    resolved_at: str | None
    comment: str | None


class AlertView(Alert):
    history: list[AlertChange]


class AlertPage(BaseModel):
    items: list[Alert]
    next: str | None = Field(description="Cursor for the next page (after=...), or null.")


class CommentInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    comment: str | None = Field(
        None, description="Why (1-2000 characters); required to resolve or reopen."
    )


def _comment_doc(required: bool) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": CommentInput.model_json_schema()}},
        }
    }


# -- routes ------------------------------------------------------------------------------------
@router.get(
    "",
    responses=documented(200, AlertPage, "A page of alerts, by id"),
    **route_doc(
        "list_alerts",
        "Filters combine. The national regulator lists all; a provincial regulator those of"
        " its province; an enterprise those about itself. Cursor pages: pass `next` as"
        " `after`.",
    ),
)
def list_alerts(
    request: Request,
    caller: CallerDep,
    rule: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")] = None,
    status: Annotated[str | None, Query(pattern=r"^(open|acknowledged|resolved)$")] = None,
    severity: Annotated[str | None, Query(pattern=r"^(low|medium|high|critical)$")] = None,
    battery: Annotated[str | None, Query(max_length=64)] = None,
    enterprise: Annotated[str | None, Query(max_length=64)] = None,
    province: Annotated[str | None, Query(pattern=r"^([0-9]{2}|[0-9]{6})$")] = None,
    after: Annotated[str | None, Query(pattern=r"^[0-9a-f]{16}$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    scope_enterprise, scope_province = alert_service.alert_scope(caller, enterprise, province)
    with context_of(request).access.reading() as store:
        page = alert_service.alert_page(
            store,
            rule=rule,
            status=status,
            severity=severity,
            battery=battery,
            enterprise=scope_enterprise,
            province=scope_province,
            after=after,
            limit=limit,
        )
    return json_answer(page)


@router.get(
    "/{alert_id}",
    responses=documented(200, AlertView, "The alert and its history, oldest first"),
    **route_doc("read_alert"),
)
def read_alert(request: Request, caller: CallerDep, alert_id: AlertId) -> Response:
    with context_of(request).access.reading() as store:
        found = alert_service.check_read_alert(store, caller, alert_id)
        return json_answer(alert_service.alert_view(store, found))


async def _act(request: Request, caller: Caller, alert_id: str, action: str) -> Response:
    me = require_caller(caller)
    alert_service.check_may_act(caller, alert_id)
    raw = await request.body()
    given = json_body(raw, request.headers.get("content-type"), required=action != "acknowledge")
    data = validated(CommentInput, {} if given is None else given)
    comment = alert_service.check_comment(data.comment, required=action != "acknowledge")

    def write(store: Store) -> tuple[int, Any]:
        alert_service.check_act_on_alert(store, caller, alert_id)
        if action == "acknowledge":
            done = alert_service.acknowledge(store, alert_id, me.id, comment)
        elif action == "resolve":
            done = alert_service.resolve(store, alert_id, me.id, comment or "")
        else:
            done = alert_service.reopen(store, alert_id, me.id, comment or "")
        return 200, alert_service.alert_view(store, done)

    return (await perform_write(request, me.id, raw, write)).response()


@router.post(
    "/{alert_id}/acknowledge",
    responses=documented(200, AlertView, "The acknowledged alert"),
    openapi_extra=_comment_doc(required=False),
    **route_doc("acknowledge_alert", "open -> acknowledged; `comment` optional."),
)
async def acknowledge_alert(request: Request, caller: CallerDep, alert_id: AlertId) -> Response:
    return await _act(request, caller, alert_id, "acknowledge")


@router.post(
    "/{alert_id}/resolve",
    responses=documented(200, AlertView, "The resolved alert"),
    openapi_extra=_comment_doc(required=True),
    **route_doc("resolve_alert", "open or acknowledged -> resolved; `comment` says why."),
)
async def resolve_alert(request: Request, caller: CallerDep, alert_id: AlertId) -> Response:
    return await _act(request, caller, alert_id, "resolve")


@router.post(
    "/{alert_id}/reopen",
    responses=documented(200, AlertView, "The alert, open again"),
    openapi_extra=_comment_doc(required=True),
    **route_doc("reopen_alert", "resolved -> open; `comment` says why."),
)
async def reopen_alert(request: Request, caller: CallerDep, alert_id: AlertId) -> Response:
    return await _act(request, caller, alert_id, "reopen")


__all__ = ["router"]
