"""Whether each event of a battery's history is in the log, checked against the latest
signed checkpoint.

For one event the page shows ✓ only when all of this holds, checked here on the server with
the :mod:`battrace.ledger` verifiers:

1. the latest checkpoint's note carries a valid signature of the log's key
   (:func:`~battrace.ledger.note.open_note`), and its text parses
   (:func:`~battrace.ledger.checkpoint.parse_checkpoint`);
2. the event's leaf commits to the event as stored: ``SHA-256(salt || event bytes)`` equals
   the leaf's commitment (so the row shown is the row logged);
3. the inclusion proof of that leaf (:func:`battrace.services.log.inclusion`) leads to the
   checkpoint's root (:func:`~battrace.ledger.verify.verify_inclusion`).

An event accepted after the latest checkpoint is *pending*: the next checkpoint (published
every ``BATTRACE_CHECKPOINT_SECONDS`` while the server runs) will cover it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from battrace.errors import BattraceError
from battrace.ledger.checkpoint import parse_checkpoint
from battrace.ledger.hasher import leaf_hash
from battrace.ledger.leaf import commitment, event_bytes, parse_leaf
from battrace.ledger.note import Verifier, open_note
from battrace.ledger.verify import verify_inclusion
from battrace.services import log as log_service
from battrace.store.base import Store
from battrace.store.rows import EventRow

VERIFIED: Final = "verified"
FAILED: Final = "failed"
PENDING: Final = "pending"


@dataclass(frozen=True, slots=True)
class ProofCheck:
    """The outcome for one event: ``verified``, ``failed`` (with why) or ``pending``."""

    status: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class CheckpointView:
    """The latest checkpoint as verified: its size, when it was published, and whether its
    signature held (``error`` says why not)."""

    size: int
    root: bytes
    published_at: str | None
    error: str | None = None

    @property
    def valid(self) -> bool:
        return self.error is None


def latest_checkpoint(store: Store, key_file: str | None) -> CheckpointView:
    """The latest published checkpoint, its signature verified with the log's key."""
    latest = store.latest_checkpoint()
    if latest is None:
        return CheckpointView(0, b"", None)
    try:
        verifier = Verifier.from_key(log_service.log_verifier_key(store, key_file))
        body = parse_checkpoint(open_note(latest.note, [verifier]))
    except BattraceError as exc:
        return CheckpointView(latest.size, latest.root, latest.published_at, exc.message)
    return CheckpointView(body.size, body.root_hash, latest.published_at)


def check_event(store: Store, checkpoint: CheckpointView, row: EventRow) -> ProofCheck:
    """Whether ``row`` is in the log under ``checkpoint`` (see the module docstring)."""
    index = row.id - 1
    if not checkpoint.valid:
        return ProofCheck(FAILED, checkpoint.error)
    if index >= checkpoint.size:
        return ProofCheck(PENDING)
    if row.leaf is None or row.salt is None:
        return ProofCheck(FAILED, f"event {row.id} has no leaf")
    try:
        leaf = parse_leaf(row.leaf)
        if commitment(row.salt, event_bytes(log_service.event_fields(row))) != leaf.commitment:
            return ProofCheck(FAILED, f"event {row.id} does not match its leaf's commitment")
        proof = log_service.inclusion(store, index, checkpoint.size)
        hashes = [bytes.fromhex(h) for h in proof["hashes"]]
        verify_inclusion(leaf_hash(row.leaf), index, checkpoint.size, hashes, checkpoint.root)
    except BattraceError as exc:
        return ProofCheck(FAILED, exc.message)
    return ProofCheck(VERIFIED)


__all__ = [
    "FAILED",
    "PENDING",
    "VERIFIED",
    "CheckpointView",
    "ProofCheck",
    "check_event",
    "latest_checkpoint",
]
