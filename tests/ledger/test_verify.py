"""Tests for battrace.ledger.verify: good proofs pass, every tampering fails.

The corruption probes follow transparency-dev/merkle proof/verify_test.go
(corruptInclusionProof, corruptConsistencyProof).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from battrace.ledger.errors import ProofError
from battrace.ledger.hasher import EMPTY_ROOT, leaf_hash
from battrace.ledger.tree import consistency_proof, inclusion_proof
from battrace.ledger.verify import (
    consistency_proof_length,
    inclusion_proof_length,
    root_from_consistency_proof,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from tests.ledger.rfc6962_vectors import CONSISTENCY_PROOFS, INCLUSION_PROOFS, LEAF_INPUTS, ROOTS
from tests.ledger.trees import MAX_SIZE, shared_log

SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def flip(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def inclusion_probes(
    index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes
) -> list[tuple[int, int, list[bytes], bytes, bytes]]:
    probes = [
        (index - 1, size, proof, root, leaf),
        (index + 1, size, proof, root, leaf),
        (index ^ 2, size, proof, root, leaf),
        (index, size * 2, proof, root, leaf),
        (index, size // 2, proof, root, leaf),
        (index, size, proof, root, leaf_hash(b"WrongLeaf")),
        (index, size, proof, EMPTY_ROOT, leaf),
        (index, size, proof, SOME_HASH, leaf),
        (index, size, [*proof, b""], root, leaf),
        (index, size, [*proof, root], root, leaf),
        (index, size, [b"", *proof], root, leaf),
        (index, size, [root, *proof], root, leaf),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = flip(wrong[i], 3)
        probes.append((index, size, wrong, root, leaf))
    if proof:
        probes.append((index, size, proof[:-1], root, leaf))
    if len(proof) > 1:
        probes.append((index, size, [proof[0], SOME_HASH, *proof[1:]], root, leaf))
    return probes


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_known_inclusion_proofs_verify_and_corruptions_fail(
    index: int, size: int, proof: list[bytes]
) -> None:
    leaf = leaf_hash(LEAF_INPUTS[index])
    verify_inclusion(leaf, index, size, proof, ROOTS[size])
    assert root_from_inclusion_proof(leaf, index, size, proof) == ROOTS[size]
    for probe in inclusion_probes(index, size, proof, ROOTS[size], leaf):
        p_index, p_size, p_proof, p_root, p_leaf = probe
        with pytest.raises(ProofError):
            verify_inclusion(p_leaf, p_index, p_size, p_proof, p_root)


def consistency_probes(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> list[tuple[int, int, bytes, bytes, list[bytes]]]:
    probes = [
        (old - 1, new, old_root, new_root, proof),
        (old + 1, new, old_root, new_root, proof),
        (old ^ 2, new, old_root, new_root, proof),
        (old, new * 2, old_root, new_root, proof),
        (old, new // 2, old_root, new_root, proof),
        (old, new, b"WrongRoot", new_root, proof),
        (old, new, old_root, b"WrongRoot", proof),
        (old, new, SOME_HASH, new_root, proof),
        (old, new, old_root, SOME_HASH, proof),
        (old, new, new_root, old_root, proof),
        (old, new, old_root, new_root, []),
        (old, new, old_root, new_root, [*proof, b""]),
        (old, new, old_root, new_root, [*proof, old_root]),
        (old, new, old_root, new_root, [*proof, new_root]),
        (old, new, old_root, new_root, [b"", *proof]),
        (old, new, old_root, new_root, [old_root, *proof]),
        (old, new, old_root, new_root, [new_root, *proof]),
        (old, new, old_root, new_root, [proof[0], *proof]),
        (old, new, old_root, new_root, proof[:-1]),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = flip(wrong[i], 4)
        probes.append((old, new, old_root, new_root, wrong))
    return probes


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_PROOFS)
def test_known_consistency_proofs_verify_and_corruptions_fail(
    old: int, new: int, proof: list[bytes]
) -> None:
    verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)
    if not proof:
        return
    for p_old, p_new, p_old_root, p_new_root, p_proof in consistency_probes(
        old, new, ROOTS[old], ROOTS[new], proof
    ):
        with pytest.raises(ProofError):
            verify_consistency(p_old, p_new, p_old_root, p_new_root, p_proof)


# transparency-dev TestVerifyInclusionSingleEntry / TestVerifyInclusion.
def test_single_entry_tree() -> None:
    h = leaf_hash(b"data")
    verify_inclusion(h, 0, 1, [], h)
    for leaf, root in [(h, b""), (b"", h), (b"", b"")]:
        with pytest.raises(ProofError):
            verify_inclusion(leaf, 0, 1, [], root)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (-1, 4)])
def test_inclusion_outside_tree_fails(index: int, size: int) -> None:
    with pytest.raises(ProofError) as raised:
        verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)
    assert raised.value.rule == "index_out_of_range"


# transparency-dev TestVerifyConsistency, with 32-byte roots; an empty old tree must have the
# empty root (transparency-dev accepts any old root there; we are stricter).
@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof", "ok"),
    [
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [], True),
        (0, 1, EMPTY_ROOT, SOME_HASH, [], True),
        (1, 1, SOME_HASH, SOME_HASH, [], True),
        (0, 0, EMPTY_ROOT, SOME_HASH, [], True),  # nothing to check against an empty tree
        (0, 1, SOME_HASH, SOME_HASH, [], False),
        (1, 1, SOME_HASH, EMPTY_ROOT, [], False),
        (1, 0, SOME_HASH, SOME_HASH, [], False),
        (2, 1, SOME_HASH, SOME_HASH, [], False),
        (1, 2, SOME_HASH, EMPTY_ROOT, [], False),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
    ],
)
def test_consistency_edge_cases(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes], ok: bool
) -> None:
    if ok:
        verify_consistency(old, new, old_root, new_root, proof)
    else:
        with pytest.raises(ProofError):
            verify_consistency(old, new, old_root, new_root, proof)


def test_error_messages_name_the_failed_check() -> None:
    log = shared_log()
    proof = inclusion_proof(3, 10, log.get_node)
    with pytest.raises(ProofError, match=r"has 2 hashes, want 4") as raised:
        verify_inclusion(log.leaf_hashes[3], 3, 10, proof[:2], log.roots[10])
    assert raised.value.rule == "proof_length"
    with pytest.raises(ProofError, match="not the expected") as raised:
        verify_inclusion(log.leaf_hashes[4], 3, 10, proof, log.roots[10])
    assert raised.value.rule == "root_mismatch"
    c_proof = consistency_proof(3, 10, log.get_node)
    with pytest.raises(ProofError) as raised:
        verify_consistency(3, 10, log.roots[4], log.roots[10], c_proof)
    assert raised.value.rule == "old_root_mismatch"
    with pytest.raises(ProofError) as raised:
        verify_consistency(3, 10, log.roots[3], log.roots[9], c_proof)
    assert raised.value.rule == "new_root_mismatch"
    with pytest.raises(ProofError) as raised:
        verify_consistency(3, 10, log.roots[3], log.roots[10], [*c_proof[:-1], b"short"])
    assert raised.value.rule == "hash_size"


def test_every_proof_up_to_64_verifies_only_for_its_own_tree() -> None:
    # Exhaustive for small trees: each proof verifies, and never against another (size, root)
    # of the same log or another leaf position. (Against its own root with a different claimed
    # size it can still verify: the size is bound by the signed checkpoint, not the proof.)
    log = shared_log()
    for size in range(1, 65):
        for index in range(size):
            proof = inclusion_proof(index, size, log.get_node)
            assert len(proof) == inclusion_proof_length(index, size)
            verify_inclusion(log.leaf_hashes[index], index, size, proof, log.roots[size])
            for other in range(1, 66):
                if other != size and index < other:
                    with pytest.raises(ProofError):
                        verify_inclusion(
                            log.leaf_hashes[index], index, other, proof, log.roots[other]
                        )
            for other_index in range(size):
                if other_index != index:
                    with pytest.raises(ProofError):
                        verify_inclusion(
                            log.leaf_hashes[index], other_index, size, proof, log.roots[size]
                        )
        for old in range(1, size + 1):
            proof = consistency_proof(old, size, log.get_node)
            assert len(proof) == consistency_proof_length(old, size)
            verify_consistency(old, size, log.roots[old], log.roots[size], proof)
            assert root_from_consistency_proof(old, size, log.roots[old], proof) == log.roots[size]


sizes = st.integers(1, MAX_SIZE)


@given(st.data(), sizes)
def test_inclusion_proof_tampering_fails(data: st.DataObject, size: int) -> None:
    log = shared_log()
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(index, size, log.get_node)
    leaf, root = log.leaf_hashes[index], log.roots[size]
    verify_inclusion(leaf, index, size, proof, root)
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(ProofError):
        verify_inclusion(flip(leaf, bit), index, size, proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof, flip(root, bit))
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        tampered = list(proof)
        tampered[position] = flip(tampered[position], bit)
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, tampered, root)
    other_index = (
        data.draw(st.integers(0, size - 1).filter(lambda i: i != index)) if size > 1 else 0
    )
    if size > 1:
        with pytest.raises(ProofError):
            verify_inclusion(leaf, other_index, size, proof, root)
    other_size = data.draw(st.integers(index + 1, MAX_SIZE).filter(lambda s: s != size))
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, other_size, proof, log.roots[other_size])


@given(st.data(), st.integers(2, MAX_SIZE))
def test_consistency_proof_tampering_fails(data: st.DataObject, new: int) -> None:
    log = shared_log()
    old = data.draw(st.integers(1, new - 1))
    proof = consistency_proof(old, new, log.get_node)
    old_root, new_root = log.roots[old], log.roots[new]
    verify_consistency(old, new, old_root, new_root, proof)
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(ProofError):
        verify_consistency(old, new, flip(old_root, bit), new_root, proof)
    with pytest.raises(ProofError):
        verify_consistency(old, new, old_root, flip(new_root, bit), proof)
    position = data.draw(st.integers(0, len(proof) - 1))
    tampered = list(proof)
    tampered[position] = flip(tampered[position], bit)
    with pytest.raises(ProofError):
        verify_consistency(old, new, old_root, new_root, tampered)
    other_old = data.draw(st.integers(1, new).filter(lambda s: s != old))
    with pytest.raises(ProofError):
        verify_consistency(other_old, new, log.roots[other_old], new_root, proof)
    other_new = data.draw(st.integers(old, MAX_SIZE).filter(lambda s: s != new))
    with pytest.raises(ProofError):
        verify_consistency(old, other_new, old_root, log.roots[other_new], proof)
