"""Request body size limits: 413 in the JSON error shape, before or while the body is read.

A declared ``Content-Length`` over the limit is refused before a byte is read; a body sent
without one (chunked) is counted as it arrives and refused as soon as it passes the limit.
Batch endpoints (paths ending in ``/batch``) have their own, larger limit.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from battrace.api.errors import error_response
from battrace.errors import PayloadTooLarge


def _too_large(limit: int, setting: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"body: larger than {limit} bytes ({setting})", field="body", rule="max_body_bytes"
    )


class BodyLimit:
    """ASGI middleware enforcing ``default`` bytes per body, ``batch`` on batch endpoints."""

    def __init__(self, app: ASGIApp, *, default: int, batch: int) -> None:
        self.app = app
        self.default = default
        self.batch = batch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_batch = str(scope.get("path", "")).rstrip("/").endswith("/batch")
        limit = self.batch if is_batch else self.default
        setting = "BATTRACE_API_MAX_BATCH_BODY" if is_batch else "BATTRACE_API_MAX_BODY"
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                if value.strip().isdigit() and int(value) > limit:
                    await error_response(_too_large(limit, setting))(scope, receive, send)
                    return
                break
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit, setting)
            return message

        await self.app(scope, counted, send)


__all__ = ["BodyLimit"]
