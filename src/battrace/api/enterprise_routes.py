"""Enterprises, their whitelist history, signing keys, API tokens and shipment inbox.

Regulators register and manage enterprises in their jurisdiction; an enterprise reads its own
record, keys, tokens and inbox, and may revoke its own tokens.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from battrace.api.answers import documented, json_answer
from battrace.api.auth import current_caller
from battrace.api.bodies import json_body, json_object, validated
from battrace.api.context import context_of
from battrace.api.idempotency import perform_write
from battrace.api.matrix import route_doc
from battrace.api.schemas import (
    Enterprise,
    EnterpriseInput,
    EnterprisePage,
    EnterpriseView,
    Key,
    KeyInput,
    NewToken,
    Pending,
    Token,
    TokenInput,
    WhitelistChange,
    WhitelistInput,
)
from battrace.codes import validate_division_code
from battrace.domain.access import Caller
from battrace.domain.quantities import date_field, time_field
from battrace.errors import NotFoundError
from battrace.services import enterprises as enterprise_service
from battrace.services import keys as key_service
from battrace.services import queries, tokens
from battrace.services.access import (
    check_manage,
    check_manage_enterprise,
    check_read_enterprise,
    enterprise_scope,
    require_caller,
)
from battrace.store.base import Store

router = APIRouter(prefix="/api/v1/enterprises", tags=["enterprises"])
CallerDep = Annotated[Caller, Depends(current_caller)]
EnterpriseId = Annotated[str, Path(description="Unified social credit code.", max_length=64)]


def body_doc(model: type[BaseModel], required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON request body read by hand."""
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


@router.get(
    "",
    responses=documented(200, EnterprisePage, "A page of enterprises, by credit code"),
    **route_doc(
        "list_enterprises",
        "National regulators list all; a provincial regulator its province; an enterprise"
        " itself. Cursor pages: pass `next` as `after`.",
    ),
)
def list_enterprises(
    request: Request,
    caller: CallerDep,
    role: Annotated[str | None, Query(max_length=40)] = None,
    province: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    scope_province, only = enterprise_scope(caller, province)
    with context_of(request).access.reading() as store:
        page = enterprise_service.enterprise_page(
            store, role=role, province=scope_province, only=only, after=after, limit=limit
        )
    return json_answer(page)


@router.post(
    "",
    status_code=201,
    responses=documented(201, Enterprise, "The registered enterprise"),
    openapi_extra=body_doc(EnterpriseInput),
    **route_doc(
        "register_enterprise",
        "A regulator registers an enterprise seated in its jurisdiction.",
    ),
)
async def register_enterprise(request: Request, caller: CallerDep) -> Response:
    me = require_caller(caller)
    raw = await request.body()
    data = validated(EnterpriseInput, json_object(raw, request.headers.get("content-type")))
    province = validate_division_code(data.division, field="division").province_code
    check_manage(caller, province, f"division {data.division}")
    since = (
        date_field(data.whitelisted_since, "whitelisted_since") if data.whitelisted_since else None
    )

    def action(store: Store) -> tuple[int, Any]:
        created = enterprise_service.register_enterprise(
            store,
            credit_code=data.credit_code,
            name=data.name,
            roles=data.roles,
            division=data.division,
            manufacturer_code=data.manufacturer_code,
            whitelisted_since=since,
        )
        return 201, created.to_dict()

    answer = await perform_write(request, me.id, raw, action)
    return answer.response()


@router.get(
    "/{enterprise_id}",
    responses=documented(200, EnterpriseView, "The enterprise and its whitelist history"),
    **route_doc("read_enterprise"),
)
def read_enterprise(request: Request, caller: CallerDep, enterprise_id: EnterpriseId) -> Response:
    with context_of(request).access.reading() as store:
        found = check_read_enterprise(store, caller, enterprise_id)
        return json_answer(enterprise_service.enterprise_view(store, found.id))


@router.post(
    "/{enterprise_id}/whitelist",
    status_code=201,
    responses=documented(201, WhitelistChange, "The recorded change"),
    openapi_extra=body_doc(WhitelistInput),
    **route_doc("change_whitelist", "History is kept: a change never overwrites another."),
)
async def change_whitelist(
    request: Request, caller: CallerDep, enterprise_id: EnterpriseId
) -> Response:
    me = require_caller(caller)
    raw = await request.body()
    data = validated(WhitelistInput, json_object(raw, request.headers.get("content-type")))
    effective = date_field(data.effective_date, "effective_date")

    def action(store: Store) -> tuple[int, Any]:
        found = check_manage_enterprise(store, caller, enterprise_id)
        change = enterprise_service.change_whitelist(
            store,
            found.id,
            listed=data.listed,
            effective_date=effective,
            batch=data.batch,
            note=data.note,
        )
        return 201, change.to_dict()

    return (await perform_write(request, me.id, raw, action)).response()


@router.get(
    "/{enterprise_id}/keys",
    responses=documented(200, list[Key], "Its keys, with their validity"),
    **route_doc("list_keys"),
)
def list_keys(request: Request, caller: CallerDep, enterprise_id: EnterpriseId) -> Response:
    with context_of(request).access.reading() as store:
        found = check_read_enterprise(store, caller, enterprise_id)
        return json_answer([k.to_dict() for k in store.keys_of(found.id)])


@router.post(
    "/{enterprise_id}/keys",
    status_code=201,
    responses=documented(201, Key, "The registered key"),
    openapi_extra=body_doc(KeyInput),
    **route_doc(
        "add_key",
        "From then on the enterprise's reports must be signed (`Battrace-Signature`).",
    ),
)
async def add_key(request: Request, caller: CallerDep, enterprise_id: EnterpriseId) -> Response:
    me = require_caller(caller)
    raw = await request.body()
    data = validated(KeyInput, json_object(raw, request.headers.get("content-type")))
    start = time_field(data.valid_from, "valid_from") if data.valid_from else None

    def action(store: Store) -> tuple[int, Any]:
        found = check_manage_enterprise(store, caller, enterprise_id)
        key = key_service.register_key(store, found.id, data.public_key, valid_from=start)
        return 201, key.to_dict()

    return (await perform_write(request, me.id, raw, action)).response()


@router.post(
    "/{enterprise_id}/keys/{key_id}/revoke",
    responses=documented(200, Key, "The revoked key"),
    **route_doc("revoke_key", "Signatures received from now on with this key are refused."),
)
async def revoke_key(
    request: Request,
    caller: CallerDep,
    enterprise_id: EnterpriseId,
    key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")],
) -> Response:
    me = require_caller(caller)
    raw = await request.body()

    def action(store: Store) -> tuple[int, Any]:
        found = check_manage_enterprise(store, caller, enterprise_id)
        key = store.key(key_id)
        if key is None or key.enterprise_id != found.id:
            raise NotFoundError(
                f"key_id: {key_id} is not a key of {found.id}", field="key_id", rule="registered"
            )
        return 200, key_service.revoke_key(store, key_id).to_dict()

    return (await perform_write(request, me.id, raw, action)).response()


@router.get(
    "/{enterprise_id}/pending",
    responses=documented(200, list[Pending], "Shipments addressed to it, oldest first"),
    **route_doc("pending_shipments", "The receiver's inbox, as `battrace pending`."),
)
def pending_shipments(request: Request, caller: CallerDep, enterprise_id: EnterpriseId) -> Response:
    with context_of(request).access.reading() as store:
        found = check_read_enterprise(store, caller, enterprise_id)
        return json_answer(queries.pending_shipments(store, found.id))


@router.get(
    "/{enterprise_id}/tokens",
    responses=documented(200, list[Token], "Its API tokens (never the tokens themselves)"),
    **route_doc("list_tokens"),
)
def list_tokens(request: Request, caller: CallerDep, enterprise_id: EnterpriseId) -> Response:
    with context_of(request).access.reading() as store:
        found = check_read_enterprise(store, caller, enterprise_id)
        return json_answer([t.to_dict() for t in store.api_tokens(found.id)])


@router.post(
    "/{enterprise_id}/tokens",
    status_code=201,
    responses=documented(201, NewToken, "The new token, shown this once"),
    openapi_extra=body_doc(TokenInput, required=False),
    **route_doc("create_token", "A regulator issues an API token for an enterprise."),
)
async def create_token(
    request: Request, caller: CallerDep, enterprise_id: EnterpriseId
) -> Response:
    me = require_caller(caller)
    ctx = context_of(request)
    raw = await request.body()
    given = json_body(raw, request.headers.get("content-type"), required=False)
    data = validated(TokenInput, {} if given is None else given)

    def action(store: Store) -> tuple[int, Any]:
        found = check_manage_enterprise(store, caller, enterprise_id)
        days = data.days if data.days is not None else ctx.settings.api_token_days
        token, text = tokens.create_token(store, found.id, label=data.label, days=days)
        return 201, {**token.to_dict(), "token": text}

    return (await perform_write(request, me.id, raw, action)).response()


@router.post(
    "/{enterprise_id}/tokens/{token_id}/revoke",
    responses=documented(200, Token, "The revoked token"),
    **route_doc("revoke_token", "An enterprise may revoke its own tokens; regulators any."),
)
async def revoke_token(
    request: Request,
    caller: CallerDep,
    enterprise_id: EnterpriseId,
    token_id: Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")],
) -> Response:
    me = require_caller(caller)
    raw = await request.body()

    def action(store: Store) -> tuple[int, Any]:
        found = check_read_enterprise(store, caller, enterprise_id)
        token = store.api_token(token_id)
        if token is None or token.enterprise_id != found.id:
            raise NotFoundError(
                f"token_id: {token_id} is not a token of {found.id}",
                field="token_id",
                rule="registered",
            )
        return 200, tokens.revoke_token(store, token_id).to_dict()

    return (await perform_write(request, me.id, raw, action)).response()


__all__ = ["router"]
