"""API tokens: made once, kept hashed, refused when unknown, expired or revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from battrace.errors import ConflictError, NotFoundError, Unauthenticated, ValidationError
from battrace.services.tokens import (
    TOKEN_PREFIX,
    authenticate,
    create_token,
    revoke_token,
    token_digest,
)
from battrace.store import Store


def test_token_is_shown_once_and_stored_hashed(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    owner = firms["recycler"].credit_code
    token, text = create_token(sqlite_world, owner, label="ERP")
    assert text.startswith(TOKEN_PREFIX)
    assert len(text) == len(TOKEN_PREFIX) + 43
    token_id, digest = token_digest(text)
    stored = sqlite_world.api_token(token_id)
    assert stored == token
    assert stored.token_hash == digest
    assert text not in repr(stored)
    assert authenticate(sqlite_world, text).id == owner


@pytest.mark.parametrize("bad", ["", "btk_", "Bearer x", TOKEN_PREFIX + "A" * 43, "é" * 47])
def test_unknown_tokens_are_refused(sqlite_world: Store, bad: str) -> None:
    with pytest.raises(Unauthenticated) as info:
        authenticate(sqlite_world, bad)
    assert info.value.rule == "token"


def test_expired_and_revoked(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    owner = firms["recycler"].credit_code
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    _, old = create_token(sqlite_world, owner, days=1, now=lambda: long_ago)
    with pytest.raises(Unauthenticated):
        authenticate(sqlite_world, old)
    token, text = create_token(sqlite_world, owner)
    revoke_token(sqlite_world, token.token_id)
    with pytest.raises(Unauthenticated):
        authenticate(sqlite_world, text)
    with pytest.raises(ConflictError):
        revoke_token(sqlite_world, token.token_id)
    later = datetime.now(UTC) + timedelta(days=400)
    _, fresh = create_token(sqlite_world, owner)
    with pytest.raises(Unauthenticated):
        authenticate(sqlite_world, fresh, now=lambda: later)


def test_bad_requests(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFoundError):
        create_token(sqlite_world, "91350900000000019X")
    with pytest.raises(ValidationError):
        create_token(sqlite_world, firms["recycler"].credit_code, days=0)
    with pytest.raises(ValidationError):
        revoke_token(sqlite_world, "not-an-id")
    with pytest.raises(NotFoundError):
        revoke_token(sqlite_world, "0" * 16)
