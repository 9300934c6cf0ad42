"""``POST /api/v1/events`` without the framework in the way: the hot path of live reporting.

Enterprise systems report one event at a time, many at once. Through FastAPI's middleware,
router and dependency injection such a request costs several times what its work costs (on
the 2-core benchmark host a bare FastAPI route answers ~3,800 requests/s at 50 clients, a
bare ASGI handler ~16,000), and the bearer-token lookup would hop to a worker thread and
back. So the app (:class:`battrace.api.app.BattraceAPI`) hands exactly ``POST
/api/v1/events`` to :func:`answer_single`, behind the same body-size limit, before FastAPI
sees it:

- the headers and body are checked on the event loop (no database needed): body as a JSON
  object, ``Battrace-Signature``, ``Idempotency-Key``, and the bearer token's shape;
- the token itself is checked by the group-commit writer (:mod:`battrace.api.group_commit`),
  inside the transaction that writes the report, together with the rule that an enterprise
  reports only as itself: no thread hop, and a revoked token is refused from the moment its
  revocation committed.

Each request gets exactly the answer the route in :mod:`battrace.api.event_routes` (which
calls :func:`report_single` too, and documents it in the OpenAPI document) would give, in the
same order of checks: 401 for a missing or bad token before any body error, then 415/400 for
the body, 403 for writing as someone else, 400 for the signature and key headers. When a
header or body check fails the token is looked up first (on a worker thread), so that a bad
token still answers 401.
"""

from __future__ import annotations

import asyncio

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from battrace.api.auth import bearer_token, token_caller
from battrace.api.bodies import SIGNATURE_HEADER, json_object, signature
from battrace.api.context import context_of
from battrace.api.errors import error_response, unexpected_response
from battrace.api.group_commit import Report
from battrace.api.idempotency import REPLAYED_HEADER, Answer, idempotency_key, request_digest
from battrace.domain.access import Caller
from battrace.errors import BattraceError
from battrace.services.access import check_writes_as_caller, require_caller

PATH = "/api/v1/events"


async def report_single(request: Request) -> Response:
    """Report one event as the request's caller (group commit: api/group_commit.py)."""
    answer = await _report(request)
    return answer.response(_location(answer))


async def _report(request: Request) -> Answer:
    ctx = context_of(request)
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        require_caller(Caller())  # raises: reporting needs a token
        raise AssertionError("unreachable")
    raw = await request.body()
    try:
        data = json_object(raw, request.headers.get("content-type"))
    except BattraceError:
        await run_in_threadpool(token_caller, ctx, token)  # 401 comes before body errors
        raise
    try:
        signed = signature(request.headers.get(SIGNATURE_HEADER))
        key = idempotency_key(request)
    except BattraceError:
        caller = await run_in_threadpool(token_caller, ctx, token)  # 401, then 403, first
        check_writes_as_caller(caller, None, data, "actor")
        raise
    report = Report("", data, signed, key, request_digest(request, raw), token=token)
    return await asyncio.wrap_future(ctx.reports.submit(report))


def _location(answer: Answer) -> dict[str, str]:
    if answer.status != 201:
        return {}
    event_id = answer.event_id if answer.event_id is not None else orjson.loads(answer.body)["id"]
    return {"Location": f"{PATH}/{event_id}"}


async def answer_single(scope: Scope, receive: Receive, send: Send) -> None:
    """ASGI: answer one ``POST /api/v1/events`` request as :func:`report_single` would."""
    try:
        answer = await _report(Request(scope, receive))
    except ClientDisconnect:  # the client left before it sent its body: nobody to answer
        return
    except BattraceError as exc:
        await error_response(exc)(scope, receive, send)
        return
    except Exception as exc:
        await unexpected_response("POST", PATH, exc)(scope, receive, send)
        return
    # the answer as Answer.response would send it, without building a Response
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(answer.body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in _location(answer).items()),
    ]
    if answer.replayed:
        headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


def is_single_report(scope: Scope) -> bool:
    """Whether ``scope`` is a ``POST /api/v1/events`` request."""
    return bool(scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST")


__all__ = ["PATH", "answer_single", "is_single_report", "report_single"]
