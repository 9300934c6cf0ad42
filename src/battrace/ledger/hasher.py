"""RFC 9162 / RFC 6962 Merkle tree hashing with SHA-256.

Leaves and interior nodes are hashed with different one-byte prefixes (0x00 and 0x01), so a
leaf can never be passed off as an interior node (second-preimage resistance, RFC 9162
§2.1.1).
"""

from __future__ import annotations

import hashlib

__all__ = ["EMPTY_ROOT", "HASH_SIZE", "LEAF_PREFIX", "NODE_PREFIX", "leaf_hash", "node_hash"]

HASH_SIZE = 32
"""Length in bytes of every hash of the log (SHA-256)."""

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""Root hash of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1)."""


def leaf_hash(data: bytes) -> bytes:
    """Hash one log entry as a leaf: ``SHA-256(0x00 || data)``.

    Inputs: the entry bytes, any length. Output: 32 bytes. Raises nothing.
    Security: the 0x00 prefix separates leaves from interior nodes; never hash an entry
    without it.
    """
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two child hashes into their parent: ``SHA-256(0x01 || left || right)``.

    Inputs: the two 32-byte child hashes, left first. Output: 32 bytes. Raises nothing (the
    lengths are the caller's invariant; verifiers check them on untrusted input).
    """
    return hashlib.sha256(NODE_PREFIX + left + right).digest()
