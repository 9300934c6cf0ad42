"""Pure verifiers of inclusion and consistency proofs (RFC 9162 §2.1.3.2 and §2.1.4.2).

Everything given here is untrusted: hash lengths, proof lengths and sizes are all checked, and
every failure raises :class:`~battrace.ledger.errors.ProofError` with a message saying which
check failed. The loops follow the RFC text step by step; the expected proof length is
checked first only to give a precise message.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from battrace.ledger.errors import ProofError
from battrace.ledger.hasher import EMPTY_ROOT, HASH_SIZE, node_hash

__all__ = [
    "consistency_proof_length",
    "inclusion_proof_length",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(
            f"{name} has {len(value)} bytes, want {HASH_SIZE}", field=name, rule="hash_size"
        )


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for position, value in enumerate(proof):
        if len(value) != HASH_SIZE:
            raise ProofError(
                f"proof hash {position} has {len(value)} bytes, want {HASH_SIZE}",
                field="proof",
                rule="hash_size",
            )


def _same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def inclusion_proof_length(index: int, size: int) -> int:
    """Number of hashes in the inclusion proof of leaf ``index`` in a tree of ``size``.

    Requires ``0 <= index < size`` (not checked). The proof climbs ``inner`` levels below the
    point where the paths to ``index`` and to the last leaf part, then one hash per left
    subtree on the right border above it.
    """
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def consistency_proof_length(old_size: int, new_size: int) -> int:
    """Number of hashes in the consistency proof from ``old_size`` to ``new_size``.

    Requires ``0 <= old_size <= new_size`` (not checked); 0 when the sizes are equal or the
    old tree is empty.
    """
    if old_size == 0 or old_size == new_size:
        return 0
    shift = (old_size & -old_size).bit_length() - 1
    length = inclusion_proof_length(old_size - 1, new_size) - shift
    return length if old_size == 1 << shift else length + 1


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """The root that an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1-4).

    Inputs: the 32-byte leaf hash, its index, the tree size and the audit path. Output: the
    calculated 32-byte root; compare it with a *trusted* root, or use
    :func:`verify_inclusion`. Raises :class:`ProofError` for a bad index or size, a hash that
    is not 32 bytes, or a proof of the wrong length.
    """
    _check_hash("leaf_hash", leaf_hash)
    _check_proof_hashes(proof)
    if index < 0 or index >= size:
        raise ProofError(
            f"leaf index {index} is not in a tree of size {size}",
            field="index",
            rule="index_out_of_range",
        )
    want = inclusion_proof_length(index, size)
    if len(proof) != want:
        raise ProofError(
            f"inclusion proof of leaf {index} in a tree of size {size} has {len(proof)} "
            f"hashes, want {want}",
            field="proof",
            rule="proof_length",
        )
    fn, sn = index, size - 1
    result = leaf_hash
    for p in proof:
        if sn == 0:  # unreachable after the length check; kept as the RFC states it
            raise ProofError("inclusion proof is too long", field="proof", rule="proof_length")
        if fn & 1 or fn == sn:
            result = node_hash(p, result)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short", field="proof", rule="proof_length")
    return result


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that leaf ``index`` with ``leaf_hash`` is in the tree of ``size`` with ``root``.

    Inputs: the 32-byte leaf hash (``leaf_hash(entry)``, not the entry), the leaf index, the
    tree size, the audit path and the root. Output: None when the proof holds. Raises
    :class:`ProofError` otherwise (rules ``hash_size``, ``index_out_of_range``,
    ``proof_length``, ``root_mismatch``).
    Security: ``root`` and ``size`` must come from a checkpoint whose signature was verified;
    a proof against an untrusted root proves nothing.
    """
    _check_hash("root", root)
    calculated = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if not _same(calculated, root):
        raise ProofError(
            f"inclusion proof of leaf {index} leads to root {calculated.hex()}, "
            f"not the expected {root.hex()} of tree size {size}",
            field="root",
            rule="root_mismatch",
        )


def root_from_consistency_proof(
    old_size: int, new_size: int, old_root: bytes, proof: Sequence[bytes]
) -> bytes:
    """Check a consistency proof against ``old_root`` and return the new root it implies.

    Inputs: both sizes, the trusted 32-byte old root and the proof. Output: the new root the
    proof leads to. Raises :class:`ProofError` when the sizes are reversed, a hash is not 32
    bytes, the proof has the wrong length, or it does not lead back to ``old_root``.
    An empty old tree (size 0, root :data:`~battrace.ledger.hasher.EMPTY_ROOT`) is consistent
    with every tree and takes an empty proof, but then the new root is not implied by anything:
    use :func:`verify_consistency`.
    """
    _check_hash("old_root", old_root)
    _check_proof_hashes(proof)
    if old_size < 0 or old_size > new_size:
        raise ProofError(
            f"old tree size {old_size} is not between 0 and the new size {new_size}",
            field="old_size",
            rule="size_order",
        )
    want = consistency_proof_length(old_size, new_size)
    if len(proof) != want:
        raise ProofError(
            f"consistency proof from size {old_size} to {new_size} has {len(proof)} hashes, "
            f"want {want}",
            field="proof",
            rule="proof_length",
        )
    if old_size == 0 or old_size == new_size:
        if old_size == 0 and not _same(old_root, EMPTY_ROOT):
            raise ProofError(
                "the root of an empty tree must be SHA-256 of nothing",
                field="old_root",
                rule="old_root_mismatch",
            )
        return old_root

    # RFC 9162 §2.1.4.2 steps 2-6.
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:  # unreachable after the length check; kept as the RFC states it
            raise ProofError("consistency proof is too long", field="proof", rule="proof_length")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short", field="proof", rule="proof_length")
    if not _same(fr, old_root):
        raise ProofError(
            f"consistency proof leads to old root {fr.hex()}, not the expected "
            f"{old_root.hex()} of tree size {old_size}",
            field="old_root",
            rule="old_root_mismatch",
        )
    return sr


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``new_size`` with ``new_root`` extends the one of ``old_size``.

    Inputs: both sizes, both 32-byte roots and the proof. Output: None when the new tree is an
    append-only extension of the old one. Raises :class:`ProofError` otherwise (rules
    ``hash_size``, ``size_order``, ``proof_length``, ``old_root_mismatch``,
    ``new_root_mismatch``). Equal sizes need equal roots and an empty proof.
    Security: both roots must come from verified checkpoints of the same log (same origin and
    key); this is what proves the log was never rewritten between them.
    """
    _check_hash("new_root", new_root)
    calculated = root_from_consistency_proof(old_size, new_size, old_root, proof)
    if old_size == 0:
        return
    if not _same(calculated, new_root):
        raise ProofError(
            f"consistency proof leads to new root {calculated.hex()}, not the expected "
            f"{new_root.hex()} of tree size {new_size}",
            field="new_root",
            rule="new_root_mismatch",
        )
