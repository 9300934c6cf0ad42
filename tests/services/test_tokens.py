"""API tokens: made once, kept hashed, refused when unknown, expired or revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from battrace.errors import ConflictError, NotFoundError, Unauthenticated, ValidationError
from battrace.services.tokens import (
    TOKEN_PREFIX,
    TokenCache,
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


def test_the_cache_answers_tokens_it_has_seen_without_a_query(
    sqlite_world: Store,
    firms,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = firms["recycler"].credit_code
    _, text = create_token(sqlite_world, owner)
    cache = TokenCache()
    cache.refresh(sqlite_world)
    looked_up: list[str] = []
    real = sqlite_world.api_token
    monkeypatch.setattr(sqlite_world, "api_token", lambda i: looked_up.append(i) or real(i))
    assert cache.authenticate(sqlite_world, text).id == owner
    assert cache.authenticate(sqlite_world, text).id == owner
    assert len(looked_up) == 1  # the second time from the cache
    for bad in ("btk_", TOKEN_PREFIX + "A" * 43):  # refused, and never kept
        for _ in range(2):
            with pytest.raises(Unauthenticated):
                cache.authenticate(sqlite_world, bad)
    assert len(looked_up) == 3  # the well-formed unknown token: looked up both times
    # expiry is checked on every use, kept or not
    later = datetime.now(UTC) + timedelta(days=400)
    with pytest.raises(Unauthenticated):
        cache.authenticate(sqlite_world, text, now=lambda: later)


def test_the_cache_forgets_when_a_token_is_revoked(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    owner = firms["recycler"].credit_code
    token, text = create_token(sqlite_world, owner)
    _, other = create_token(sqlite_world, owner)
    cache = TokenCache()
    cache.refresh(sqlite_world)
    assert cache.authenticate(sqlite_world, text).id == owner
    assert cache.authenticate(sqlite_world, other).id == owner
    revoke_token(sqlite_world, token.token_id)
    assert cache.authenticate(sqlite_world, text).id == owner  # not refreshed yet: kept
    cache.refresh(sqlite_world)  # what the writer does at the start of each transaction
    with pytest.raises(Unauthenticated):
        cache.authenticate(sqlite_world, text)
    assert cache.authenticate(sqlite_world, other).id == owner  # looked up again, still good
    cache.refresh(sqlite_world)  # nothing revoked since: the kept token stays
    assert cache.authenticate(sqlite_world, other).id == owner


def test_the_cache_stays_within_its_size(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    owner = firms["recycler"].credit_code
    cache = TokenCache(size=2)
    cache.refresh(sqlite_world)
    texts = [create_token(sqlite_world, owner)[1] for _ in range(5)]
    for text in texts:
        assert cache.authenticate(sqlite_world, text).id == owner
        assert len(cache._kept) <= 2
