"""Enterprise submission signatures, pure: canonical events, digests, keys, sign and verify."""

from __future__ import annotations

import pytest

from battrace.errors import ValidationError
from battrace.ledger.submission import (
    canonical_event,
    check_nonce,
    decode_public_key,
    generate_key,
    key_id,
    load_private_key,
    public_key_of,
    sign_digest,
    signature_valid,
    submission_digest,
)

EVENTS = [{"type": "shipped", "body": {"b": "1", "a": "2"}}, {"type": "received"}]
NONCE = bytes(range(32))


def test_canonical_event_sorts_keys_and_refuses_floats() -> None:
    assert (
        canonical_event({"b": 1, "a": {"d": "x", "c": None}}) == b'{"a":{"c":null,"d":"x"},"b":1}'
    )
    with pytest.raises(ValidationError) as info:
        canonical_event({"body": {"mass_kg": 1.5}})
    assert info.value.rule == "no_floats"


def test_digest_depends_on_content_and_order() -> None:
    digest = submission_digest(EVENTS)
    assert digest == submission_digest([dict(reversed(list(e.items()))) for e in EVENTS])
    assert digest != submission_digest(list(reversed(EVENTS)))
    assert digest != submission_digest([EVENTS[0]])


def test_sign_and_verify_round_trip() -> None:
    private_text, public_text = generate_key()
    private = load_private_key(private_text)
    public = decode_public_key(public_text)
    assert public_key_of(private) == public
    assert len(key_id(public)) == 16
    digest = submission_digest(EVENTS)
    signature = sign_digest(private, NONCE, digest)
    assert signature_valid(public, NONCE, digest, signature)
    assert not signature_valid(public, bytes(32), digest, signature)  # another nonce
    assert not signature_valid(public, NONCE, submission_digest([EVENTS[0]]), signature)
    _, other_public = generate_key()
    assert not signature_valid(decode_public_key(other_public), NONCE, digest, signature)
    forged = bytes([signature[0] ^ 1]) + signature[1:]
    assert not signature_valid(public, NONCE, digest, forged)


@pytest.mark.parametrize(("text", "rule"), [("%%%", "base64"), ("AAAA", "key_size")])
def test_bad_public_keys(text: str, rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        decode_public_key(text)
    assert info.value.rule == rule


def test_bad_private_keys_and_nonces() -> None:
    with pytest.raises(ValidationError, match="not a battrace private key"):
        load_private_key("PRIVATE+KEY+x")
    with pytest.raises(ValidationError, match="damaged"):
        load_private_key("battrace-ed25519-private:%%%")
    with pytest.raises(ValidationError, match="nonce"):
        check_nonce(b"short")
    check_nonce(bytes(16))
