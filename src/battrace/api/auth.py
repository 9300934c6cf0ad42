"""Who is calling: ``Authorization: Bearer <token>`` to a :class:`~battrace.domain.access.Caller`.

No header means an anonymous caller (routes that need one answer 401); a header that is not a
bearer token, or a token that is unknown, expired or revoked, is refused with 401 at once,
whatever the route, so a client never mistakes a bad token for anonymous access.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from battrace.api.context import ApiContext, context_of
from battrace.domain.access import Caller
from battrace.errors import Unauthenticated
from battrace.services.tokens import authenticate

# for the OpenAPI document (and the docs' Authorize button) only: the header is read below
bearer_scheme = HTTPBearer(
    auto_error=False,
    bearerFormat="btk_...",
    description="An enterprise's API token (battrace token create ENTERPRISE_ID).",
)


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (None without the header);
    ``Unauthenticated`` when the header is not a bearer token."""
    if header is None:
        return None
    scheme, _sep, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated(
            "Authorization: expected 'Bearer <token>'", field="Authorization", rule="bearer"
        )
    return token


def token_caller(ctx: ApiContext, token: str) -> Caller:
    """The caller a bearer token belongs to (``Unauthenticated`` when it is not valid)."""
    with ctx.access.reading() as store:
        return Caller(authenticate(store, token))


def current_caller(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> Caller:
    """The caller of ``request``; raises ``Unauthenticated`` for a bad Authorization header."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        return Caller()
    return token_caller(context_of(request), token)


__all__ = ["bearer_scheme", "bearer_token", "current_caller", "token_caller"]
