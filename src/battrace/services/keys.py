"""Enterprise signing keys (registration, rotation, revocation) and signed submissions.

An enterprise that has registered a key must sign what it reports: from then on an unsigned
report in its name is refused (``signature_required``), so nobody with access to the platform
can write for it, and it cannot later deny what it signed. Rotation is adding a new key;
revocation dates the end of an old one. See :mod:`battrace.ledger.submission` for what is
signed.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from battrace.domain.entities import EnterpriseKey
from battrace.domain.quantities import utc_now
from battrace.errors import ConflictError, NotFoundError, ValidationError
from battrace.ledger.errors import SignatureError
from battrace.ledger.submission import (
    SubmissionDigest,
    canonical_event,
    check_nonce,
    decode_public_key,
    key_id,
    signature_valid,
)
from battrace.store.base import Store
from battrace.store.rows import Submission, db_time
from battrace.store.writes import WriteTransaction

if TYPE_CHECKING:
    from battrace.services.enterprises import RegistryCache


def register_key(
    store: Store,
    enterprise_id: str,
    public_key: str,
    *,
    valid_from: datetime | None = None,
    now: Callable[[], datetime] = utc_now,
) -> EnterpriseKey:
    """Register a base64 Ed25519 public key for an enterprise; returns it with its key id.

    Raises ``NotFoundError`` for an unknown enterprise, ``ValidationError`` for a malformed
    key and ``ConflictError`` for a key registered before (by anyone).
    """
    raw = decode_public_key(public_key)
    registered = db_time(now())
    key = EnterpriseKey(
        key_id=key_id(raw),
        enterprise_id=enterprise_id,
        public_key=raw,
        valid_from=db_time(valid_from) if valid_from else registered,
        revoked_at=None,
        registered_at=registered,
    )
    with store.write() as tx:
        if store.enterprise(enterprise_id) is None:
            raise NotFoundError(
                f"enterprise {enterprise_id} is not registered",
                field="enterprise",
                rule="registered",
            )
        if store.key(key.key_id) is not None:
            raise ConflictError(
                f"public_key: key {key.key_id} is already registered",
                field="public_key",
                rule="unique",
            )
        tx.insert_key(key)
    return key


def revoke_key(
    store: Store, key: str, *, at: datetime | None = None, now: Callable[[], datetime] = utc_now
) -> EnterpriseKey:
    """Revoke a key from ``at`` (default now): signatures received from then on are refused.

    Raises ``NotFoundError`` for an unknown key and ``ConflictError`` for a revoked one.
    """
    when = db_time(at or now())
    with store.write() as tx:
        found = store.key(key)
        if found is None:
            raise NotFoundError(f"key: {key} is not registered", field="key", rule="registered")
        if found.revoked_at is not None:
            raise ConflictError(
                f"key: {key} was revoked at {found.revoked_at}", field="key", rule="revoked_once"
            )
        tx.revoke_key(key, when)
    revoked = store.key(key)
    assert revoked is not None
    return revoked


@dataclass(frozen=True, slots=True)
class SignedSubmission:
    """What comes with a signed batch: the key id, the nonce and the signature."""

    key_id: str
    nonce: bytes
    signature: bytes

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignedSubmission:
        """From ``{"key": ..., "nonce": "<base64>", "signature": "<base64>"}``."""
        try:
            nonce = base64.b64decode(str(data["nonce"]), validate=True)
            signature = base64.b64decode(str(data["signature"]), validate=True)
            return cls(str(data["key"]), nonce, signature)
        except KeyError as exc:
            field = str(exc.args[0])
            raise ValidationError(f"{field}: required", field=field, rule="required") from None
        except (binascii.Error, ValueError):
            raise ValidationError(
                "signature: nonce and signature must be base64", field="signature", rule="base64"
            ) from None

    def to_json(self) -> dict[str, str]:
        return {
            "key": self.key_id,
            "nonce": base64.b64encode(self.nonce).decode(),
            "signature": base64.b64encode(self.signature).decode(),
        }


def _refuse(rule: str, message: str) -> SignatureError:
    return SignatureError(f"signature: {message} [rule {rule}]", field="signature", rule=rule)


class SignatureCheck:
    """Checks one batch: a signed one against its key, an unsigned one against the rule that
    enterprises with keys must sign. Used by ``report_events`` inside its transaction."""

    def __init__(
        self,
        store: Store,
        signed: SignedSubmission | None,
        received_at: str,
        registry: RegistryCache,
    ) -> None:
        self._store = store
        self._registry = registry  # the enterprises' keys, as read in this transaction
        self._signed = signed
        self._received_at = received_at
        self._digest = SubmissionDigest()
        self._key: EnterpriseKey | None = None
        self._must_sign: dict[str, bool] = {}
        if signed is not None:
            check_nonce(signed.nonce)
            key = store.key(signed.key_id)
            if key is None:
                raise _refuse("unknown_key", f"key {signed.key_id} is not registered")
            if received_at < key.valid_from:
                raise _refuse(
                    "key_not_yet_valid", f"key {key.key_id} is valid from {key.valid_from}"
                )
            if not key.valid_at(received_at):
                raise _refuse("key_revoked", f"key {key.key_id} was revoked at {key.revoked_at}")
            self._key = key

    @property
    def signed_by(self) -> tuple[str, bytes] | None:
        return (self._signed.key_id, self._signed.signature) if self._signed else None

    def begin(self, tx: WriteTransaction) -> None:
        if self._signed is not None and tx.nonce_used(self._signed.key_id, self._signed.nonce):
            raise _refuse("replayed", "this submission (key and nonce) was accepted before")

    def item(self, data: Any, actor: str) -> str | None:
        """Account for one submitted event; returns its canonical text if the batch is signed."""
        if self._key is None:
            if actor not in self._must_sign:
                keys = self._registry.keys_of(self._store, actor)
                self._must_sign[actor] = any(k.valid_at(self._received_at) for k in keys)
            if self._must_sign[actor]:
                raise _refuse(
                    "signature_required",
                    f"enterprise {actor} has registered signing keys; its reports must be signed",
                )
            return None
        if actor != self._key.enterprise_id:
            raise _refuse(
                "signer_is_actor",
                f"key {self._key.key_id} belongs to {self._key.enterprise_id}, not to {actor}",
            )
        if not isinstance(data, dict):
            raise ValidationError(
                "event: a signed submission is made of JSON objects", field="event", rule="type"
            )
        canonical = canonical_event(data)
        self._digest.add(canonical)
        return canonical.decode()

    def finish(self, tx: WriteTransaction, first_event: int, events: int) -> None:
        """Verify the signature over everything seen and record the submission."""
        if self._signed is None or self._key is None:
            return
        digest = self._digest.digest()
        if not signature_valid(
            self._key.public_key, self._signed.nonce, digest, self._signed.signature
        ):
            raise _refuse(
                "signature_invalid",
                f"does not verify with key {self._key.key_id} over the {events} events sent",
            )
        tx.insert_submission(
            Submission(
                self._signed.key_id,
                self._signed.nonce,
                digest,
                self._signed.signature,
                first_event,
                events,
                self._received_at,
            )
        )


def sign_events(private_key: str, key: str, events: Any) -> SignedSubmission:
    """Client side: sign an iterable of event objects (dicts) with a private key text.

    ``key`` is the key id the platform gave for the matching public key. Used by the CLI's
    ``--sign-key``; an enterprise's own system does the same in any language.
    """
    import os

    from battrace.ledger.submission import load_private_key, sign_digest

    private = load_private_key(private_key)
    digest = SubmissionDigest()
    for event in events:
        digest.add(canonical_event(event))
    nonce = os.urandom(32)
    return SignedSubmission(key, nonce, sign_digest(private, nonce, digest.digest()))


def check_submissions(store: Store) -> list[str]:
    """Re-verify every signed submission from the stored events (for the auditor).

    Returns problems, first first: an unknown or out-of-date key, submitted events that no
    longer hash to what was signed, a signature that does not verify, a leaf that does not
    carry the submission's signature.
    """
    from battrace.ledger.leaf import parse_leaf

    problems: list[str] = []
    for sub in store.submissions():
        last = sub.first_event + sub.events - 1
        where = f"signed submission of events {sub.first_event}..{last}"
        key = store.key(sub.key_id)
        if key is None:
            problems.append(f"{where}: key {sub.key_id} is not registered")
            continue
        if not key.valid_at(sub.received_at):
            problems.append(f"{where}: key {key.key_id} was not valid at {sub.received_at}")
        texts = store.submitted_texts(sub.first_event, sub.events)
        digest = SubmissionDigest()
        for _, text in texts:
            if text is not None:
                digest.add(text.encode())
        if len(texts) != sub.events or any(t is None for _, t in texts):
            problems.append(f"{where}: events are missing their submitted text")
        elif digest.digest() != sub.digest:
            problems.append(f"{where}: the submitted events were altered after signing")
        elif not signature_valid(key.public_key, sub.nonce, sub.digest, sub.signature):
            problems.append(f"{where}: the signature does not verify with key {key.key_id}")
        for index, leaf in enumerate(store.leaves(sub.first_event - 1, last - 1)):
            parsed = parse_leaf(leaf)
            if (parsed.key_id, parsed.signature) != (sub.key_id, sub.signature):
                event_id = sub.first_event + index
                problems.append(f"{where}: the leaf of event {event_id} lacks the signature")
                break
    return problems
