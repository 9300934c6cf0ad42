"""Enterprise signatures over what they submit, so a report can be neither denied nor forged.

An enterprise signs a *submission*: one or more events it reports together. What is signed:

- each event's canonical JSON: the event object exactly as submitted, UTF-8, keys sorted, no
  spaces; JSON floats are refused (their text is not canonical: send quantities as strings);
- ``digest = SHA-256(canonical(e1) + b"\\n" + canonical(e2) + b"\\n" + ...)``, which can be
  computed while streaming a file;
- the Ed25519 signature over ``b"battrace-submission/v1\\n" + nonce + digest``, where the
  nonce is 16 to 64 random bytes the enterprise picks for this submission and sends with it.

The nonce is kept private with the events: the public leaves carry the signature, and without
the nonce nobody can test a guessed event against it. One nonce is accepted once per key, so a
replayed submission is refused.

A key is named by its *key id*: the first 16 hex digits of SHA-256 of the 32-byte public key.
All of this is pure (no store); :mod:`battrace.services.keys` keeps the keys and their dates.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from battrace.errors import ValidationError

SIGNING_CONTEXT = b"battrace-submission/v1\n"
PRIVATE_PREFIX = "battrace-ed25519-private:"


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return False


def canonical_event(event: Any) -> bytes:
    """The canonical JSON of one submitted event object.

    Raises ``ValidationError`` (rule ``no_floats``) when it holds a JSON float: a signed
    submission writes quantities as decimal strings, whose text is unambiguous.
    """
    if _has_float(event):
        raise ValidationError(
            "event: a signed submission cannot hold JSON floats; write quantities as strings",
            field="event",
            rule="no_floats",
        )
    return orjson.dumps(event, option=orjson.OPT_SORT_KEYS)


class SubmissionDigest:
    """The running SHA-256 over the canonical events of a submission, in order."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0

    def add(self, canonical: bytes) -> None:
        self._hash.update(canonical)
        self._hash.update(b"\n")
        self.count += 1

    def digest(self) -> bytes:
        return self._hash.digest()


def submission_digest(events: list[Any]) -> bytes:
    """The digest of a list of submitted event objects (see the module docstring)."""
    running = SubmissionDigest()
    for event in events:
        running.add(canonical_event(event))
    return running.digest()


def key_id(public_key: bytes) -> str:
    """The id of a 32-byte Ed25519 public key: 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def decode_public_key(text: str, field: str = "public_key") -> bytes:
    """A base64 Ed25519 public key (32 bytes); raises ``ValidationError`` naming ``field``."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(f"{field}: not base64", field=field, rule="base64") from None
    if len(raw) != 32:
        raise ValidationError(
            f"{field}: an Ed25519 public key is 32 bytes, not {len(raw)}",
            field=field,
            rule="key_size",
        )
    return raw


def generate_key() -> tuple[str, str]:
    """A new key pair: (private key text to keep secret, base64 public key to register)."""
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return (
        PRIVATE_PREFIX + base64.b64encode(seed).decode(),
        base64.b64encode(public).decode(),
    )


def load_private_key(text: str) -> Ed25519PrivateKey:
    """Read a private key written by :func:`generate_key`; raises ``ValidationError``."""
    body = text.strip()
    if not body.startswith(PRIVATE_PREFIX):
        raise ValidationError(
            f"sign_key: not a battrace private key (it starts with {PRIVATE_PREFIX!r})",
            field="sign_key",
            rule="key_format",
        )
    try:
        seed = base64.b64decode(body[len(PRIVATE_PREFIX) :], validate=True)
        return Ed25519PrivateKey.from_private_bytes(seed)
    except (binascii.Error, ValueError):
        raise ValidationError(
            "sign_key: the key is damaged", field="sign_key", rule="key_format"
        ) from None


def public_key_of(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


NONCE_SIZES = range(16, 65)


def check_nonce(nonce: bytes) -> None:
    """Raises ``ValidationError`` (field ``nonce``) unless it is 16 to 64 bytes."""
    if len(nonce) not in NONCE_SIZES:
        raise ValidationError(
            f"nonce: must be 16 to 64 random bytes, not {len(nonce)}", field="nonce", rule="size"
        )


def sign_digest(private: Ed25519PrivateKey, nonce: bytes, digest: bytes) -> bytes:
    """The signature an enterprise sends with its submission."""
    check_nonce(nonce)
    return private.sign(SIGNING_CONTEXT + nonce + digest)


def signature_valid(public_key: bytes, nonce: bytes, digest: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s signature of the submission ``digest``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            signature, SIGNING_CONTEXT + nonce + digest
        )
    except (InvalidSignature, ValueError):
        return False
    return True
