"""HTTP API tokens: an enterprise's bearer credentials, shown once, kept only as a hash.

A token is ``btk_`` and 43 characters of URL-safe base64 (32 random bytes from the OS), so
it cannot be guessed and a plain SHA-256 is a safe way to keep it: the store holds the hash
and the first 16 hex digits of it as the token's id (whoever holds a token can name it). A
token is refused from its ``expires_at`` or ``revoked_at`` on. Tokens say *who* calls; what
the caller may do follows from the enterprise's roles (:mod:`battrace.domain.access`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from battrace.domain.entities import ApiToken, Enterprise
from battrace.domain.quantities import utc_now
from battrace.errors import ConflictError, NotFoundError, Unauthenticated, ValidationError
from battrace.store.base import Store
from battrace.store.rows import db_time

TOKEN_PREFIX = "btk_"
MAX_TOKEN_DAYS = 3650
_TOKEN_LENGTH = len(TOKEN_PREFIX) + 43
_TOKEN_ID_CHARS = frozenset("0123456789abcdef")


def token_digest(token: str) -> tuple[str, bytes]:
    """The id (16 hex digits) and the SHA-256 of a token text."""
    digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
    return digest[:8].hex(), digest


def check_token_id(token_id: str, field: str = "token_id") -> str:
    """``token_id`` if it is 16 lower-case hex digits; else ``ValidationError``."""
    if len(token_id) != 16 or not set(token_id) <= _TOKEN_ID_CHARS:
        raise ValidationError(
            f"{field}: a token id is 16 lower-case hex digits", field=field, rule="format"
        )
    return token_id


def create_token(
    store: Store,
    enterprise_id: str,
    *,
    label: str | None = None,
    days: int = 365,
    now: Callable[[], datetime] = utc_now,
) -> tuple[ApiToken, str]:
    """Make a token for ``enterprise_id`` valid for ``days``; returns it and the token text.

    The text is returned once and never stored. Raises ``NotFoundError`` for an unknown
    enterprise and ``ValidationError`` for ``days`` outside 1..3650 or a label over 200
    characters.
    """
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationError(
            f"days: must be between 1 and {MAX_TOKEN_DAYS}", field="days", rule="range"
        )
    clean_label = label.strip() if label else None
    if clean_label is not None and len(clean_label) > 200:
        raise ValidationError("label: at most 200 characters", field="label", rule="length")
    text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id, digest = token_digest(text)
    created = now()
    token = ApiToken(
        token_id=token_id,
        enterprise_id=enterprise_id,
        token_hash=digest,
        label=clean_label or None,
        created_at=db_time(created),
        expires_at=db_time(created + timedelta(days=days)),
        revoked_at=None,
    )
    with store.write() as tx:
        if store.enterprise(enterprise_id) is None:
            raise NotFoundError(
                f"enterprise {enterprise_id} is not registered",
                field="enterprise",
                rule="registered",
            )
        tx.insert_api_token(token)
    return token, text


def revoke_token(store: Store, token_id: str, *, now: Callable[[], datetime] = utc_now) -> ApiToken:
    """Revoke a token from now on. Raises ``NotFoundError`` for an unknown id and
    ``ConflictError`` for a token revoked before."""
    check_token_id(token_id)
    with store.write() as tx:
        found = store.api_token(token_id)
        if found is None:
            raise NotFoundError(
                f"token_id: {token_id} is not a token", field="token_id", rule="registered"
            )
        if found.revoked_at is not None:
            raise ConflictError(
                f"token_id: {token_id} was revoked at {found.revoked_at}",
                field="token_id",
                rule="revoked_once",
            )
        tx.revoke_api_token(token_id, db_time(now()))
    revoked = store.api_token(token_id)
    assert revoked is not None
    return revoked


def _refused() -> Unauthenticated:
    return Unauthenticated(
        "Authorization: the bearer token is unknown, expired or revoked",
        field="Authorization",
        rule="token",
    )


def _checked(store: Store, token: str, now: Callable[[], datetime]) -> tuple[ApiToken, Enterprise]:
    if len(token) != _TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
        raise _refused()
    token_id, digest = token_digest(token)
    found = store.api_token(token_id)
    if found is None or not hmac.compare_digest(found.token_hash, digest):
        raise _refused()
    if not found.valid_at(db_time(now())):
        raise _refused()
    enterprise = store.enterprise(found.enterprise_id)
    if enterprise is None:
        raise _refused()
    return found, enterprise


def authenticate(store: Store, token: str, *, now: Callable[[], datetime] = utc_now) -> Enterprise:
    """The enterprise a bearer token belongs to.

    Raises ``Unauthenticated`` (rule ``token``) for a malformed, unknown, expired or revoked
    token; the message does not say which, so a caller cannot probe for tokens.
    """
    return _checked(store, token, now)[1]


class TokenCache:
    """Tokens a writer has already checked, for one that checks thousands a second (the API's
    group-commit writer): each accepted token's stored row and enterprise, so that a token
    seen before costs no query. :meth:`refresh`, once per transaction, counts the revoked
    tokens and forgets everything when the count moved (tokens are revoked, never deleted or
    un-revoked), so a revocation holds from the first transaction that sees it committed, as
    without the cache; expiry is checked on every use. Only accepted tokens are kept, at
    most ``size`` (then all are forgotten)."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._kept: dict[str, tuple[ApiToken, Enterprise]] = {}
        self._revoked = -1

    def refresh(self, store: Store) -> None:
        """Forget the tokens kept if any token was revoked since the last refresh."""
        revoked = store.revoked_token_count()
        if revoked != self._revoked:
            self._kept.clear()
            self._revoked = revoked

    def authenticate(
        self, store: Store, token: str, *, now: Callable[[], datetime] = utc_now
    ) -> Enterprise:
        """As :func:`authenticate`, from the tokens kept when it can."""
        kept = self._kept.get(token)
        if kept is not None:
            if not kept[0].valid_at(db_time(now())):
                raise _refused()
            return kept[1]
        found = _checked(store, token, now)
        if len(self._kept) >= self.size:
            self._kept.clear()
        self._kept[token] = found
        return found[1]


__all__ = [
    "TOKEN_PREFIX",
    "TokenCache",
    "authenticate",
    "check_token_id",
    "create_token",
    "revoke_token",
    "token_digest",
]
