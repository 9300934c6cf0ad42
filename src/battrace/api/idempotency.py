"""Writes: one transaction on the single writer, and idempotency keys.

Every write request runs :func:`perform_write`: it takes the writer, opens one transaction,
and inside it (so that two retries of one request are serialised) looks up the caller's
``Idempotency-Key``:

- not seen (or older than ``BATTRACE_API_IDEMPOTENCY_HOURS``): the write runs, and its answer
  (status and JSON body) is stored with a SHA-256 of the request, in the same transaction,
  so an acknowledged write and its recorded answer commit together or not at all;
- seen with the same request (method, path and query, ``Battrace-Signature`` and body): the
  stored answer is sent again, with ``Idempotent-Replayed: true``, and nothing is written;
- seen with a different request: 409, rule ``idempotency_key_reuse``.

A write that fails records nothing (its transaction is rolled back), so a retry runs it anew.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from battrace.api.bodies import SIGNATURE_HEADER
from battrace.api.context import context_of
from battrace.domain.quantities import utc_now
from battrace.errors import ConflictError, ValidationError
from battrace.store.base import Store
from battrace.store.rows import IdempotentAnswer, db_time

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255

WriteAction = Callable[[Store], tuple[int, Any]]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    replayed: bool = False
    event_id: int | None = None  # the event a single report wrote, when known without parsing

    def response(self, headers: dict[str, str] | None = None) -> Response:
        extra = dict(headers or {})
        if self.replayed:
            extra[REPLAYED_HEADER] = "true"
        return Response(
            self.body, status_code=self.status, media_type="application/json", headers=extra
        )


def idempotency_key(request: Request) -> str | None:
    """The request's ``Idempotency-Key``: 1 to 255 visible ASCII characters."""
    key = request.headers.get(KEY_HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all("!" <= c <= "~" for c in key):
        raise ValidationError(
            f"{KEY_HEADER}: 1 to {MAX_KEY_LENGTH} visible ASCII characters",
            field=KEY_HEADER,
            rule="format",
        )
    return key


def request_digest(request: Request, body: bytes) -> bytes:
    """SHA-256 over what makes two requests the same request."""
    scope = request.scope  # the path and query as sent, without building a URL
    query = scope.get("query_string", b"").decode("latin-1")
    target = scope.get("root_path", "") + scope["path"] + ("?" + query if query else "")
    digest = hashlib.sha256()
    for part in (request.method, target, request.headers.get(SIGNATURE_HEADER, "")):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\n")
    digest.update(body)
    return digest.digest()


def _run(
    request: Request, caller_id: str, key: str | None, digest: bytes, action: WriteAction
) -> Answer:
    ctx = context_of(request)
    now = utc_now()
    with ctx.access.writing() as store, store.write() as tx:
        if key is not None:
            expiry = now - timedelta(hours=ctx.settings.api_idempotency_hours)
            tx.forget_idempotent_answers(caller_id, db_time(expiry))
            kept = tx.idempotent_answer(caller_id, key)
            if kept is not None:
                if kept.request_hash != digest:
                    raise ConflictError(
                        f"{KEY_HEADER}: {key!r} was used for a different request; a retry"
                        " must repeat the same request, a new request needs a new key"
                        " [rule idempotency_key_reuse]",
                        field=KEY_HEADER,
                        rule="idempotency_key_reuse",
                    )
                return Answer(kept.status, kept.response, replayed=True)
        status, data = action(store)
        body = orjson.dumps(data)
        if key is not None:
            tx.save_idempotent_answer(
                IdempotentAnswer(caller_id, key, digest, status, body, db_time(now))
            )
    return Answer(status, body)


async def perform_write(
    request: Request, caller_id: str, body: bytes, action: WriteAction
) -> Answer:
    """Run ``action(store)`` (returning status and JSON data) as one idempotent write."""
    key = idempotency_key(request)
    digest = request_digest(request, body)
    return await run_in_threadpool(_run, request, caller_id, key, digest, action)


__all__ = [
    "KEY_HEADER",
    "REPLAYED_HEADER",
    "Answer",
    "idempotency_key",
    "perform_write",
    "request_digest",
]
