"""Tests for battrace.ledger.tree: roots, compact ranges and proof node ids.

The fast code is checked against the fixed RFC 6962 vectors and against the slow literal
reference (:mod:`battrace.ledger.reference`) for every tree size up to 300.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from battrace.errors import ValidationError
from battrace.ledger.hasher import EMPTY_ROOT, leaf_hash, node_hash
from battrace.ledger.tree import (
    CompactRange,
    NodeId,
    ProofNodes,
    compact_range_nodes,
    consistency_proof,
    consistency_proof_nodes,
    inclusion_proof,
    inclusion_proof_nodes,
    node_hashes_for_leaves,
    parent_hashes,
    range_nodes,
    root_from_leaf_hashes,
    root_from_nodes,
)
from tests.ledger.rfc6962_vectors import (
    COMPACT_TREES,
    CONSISTENCY_PROOFS,
    INCLUSION_PROOFS,
    LEAF_INPUTS,
    NODE_HASHES,
    ROOTS,
)
from tests.ledger.trees import MAX_SIZE, shared_log

VECTOR_LEAVES = [leaf_hash(data) for data in LEAF_INPUTS]


def vector_node(level: int, index: int) -> bytes:
    return NODE_HASHES[level][index]


# --- fixed vectors ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(9))
def test_roots_match_vectors(size: int) -> None:
    assert root_from_leaf_hashes(VECTOR_LEAVES[:size]) == ROOTS[size]
    assert root_from_nodes(size, vector_node) == ROOTS[size]
    compact = CompactRange()
    compact.extend(VECTOR_LEAVES[:size])
    assert compact.root() == ROOTS[size]
    assert list(compact.hashes) == COMPACT_TREES[size]


def test_node_hashes_for_leaves_match_vectors() -> None:
    assert node_hashes_for_leaves(VECTOR_LEAVES) == NODE_HASHES
    assert node_hashes_for_leaves([]) == []
    assert parent_hashes(VECTOR_LEAVES[:3]) == [NODE_HASHES[1][0]]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_inclusion_proofs_match_vectors(index: int, size: int, proof: list[bytes]) -> None:
    assert inclusion_proof(index, size, vector_node) == proof


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_PROOFS)
def test_consistency_proofs_match_vectors(old: int, new: int, proof: list[bytes]) -> None:
    assert consistency_proof(old, new, vector_node) == proof


# --- fast vs reference -----------------------------------------------------------------------


def test_roots_match_reference_for_every_size() -> None:
    log = shared_log()
    compact = CompactRange()
    assert compact.root() == EMPTY_ROOT == log.reference.root(0)
    for size in range(1, MAX_SIZE + 1):
        compact.append(log.leaf_hashes[size - 1])
        expected = log.reference.root(size)
        assert log.roots[size] == expected, size
        assert compact.root() == expected, size
        assert root_from_nodes(size, log.get_node) == expected, size


def test_every_inclusion_proof_matches_reference() -> None:
    log = shared_log()
    for size in range(1, MAX_SIZE + 1):
        for index in range(size):
            got = inclusion_proof(index, size, log.get_node)
            assert got == log.reference.inclusion_proof(index, size), (index, size)


def consistency_pairs() -> list[tuple[int, int]]:
    pairs = [(old, new) for new in range(1, 65) for old in range(1, new + 1)]
    rng = random.Random(6962)
    for new in range(65, MAX_SIZE + 1):
        olds = {1, new - 1, new, 64, 128, 256 if new >= 256 else 1, rng.randint(1, new)}
        olds |= {rng.randint(1, new) for _ in range(6)}
        pairs += [(old, new) for old in sorted(olds) if old <= new]
    return pairs


def test_consistency_proofs_match_reference() -> None:
    log = shared_log()
    for old, new in consistency_pairs():
        got = consistency_proof(old, new, log.get_node)
        assert got == log.reference.consistency_proof(old, new), (old, new)


def test_consistency_from_empty_tree_is_empty() -> None:
    assert consistency_proof_nodes(0, 5) == ProofNodes(())
    assert consistency_proof(0, 0, vector_node) == []


# --- node id structure -----------------------------------------------------------------------


@given(st.integers(0, 2**64), st.integers(0, 2**64))
def test_range_nodes_cover_the_range_with_perfect_subtrees(a: int, b: int) -> None:
    begin, end = min(a, b), max(a, b)
    ids = range_nodes(begin, end)
    pos = begin
    for node in ids:
        start, stop = node.coverage()
        assert start == pos  # contiguous, left to right, each aligned to its size
        pos = stop
    assert pos == end
    assert len(ids) <= 2 * max(1, (end - begin).bit_length())


@given(st.integers(0, 2**63))
def test_compact_range_nodes_one_per_set_bit(size: int) -> None:
    ids = compact_range_nodes(size)
    assert [n.level for n in ids] == [
        b for b in range(size.bit_length() - 1, -1, -1) if size >> b & 1
    ]


@given(st.data(), st.integers(1, 2**62))
def test_proof_nodes_lie_inside_the_tree(data: st.DataObject, size: int) -> None:
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(0, size))
    for nodes in (inclusion_proof_nodes(index, size), consistency_proof_nodes(old, size)):
        for node in nodes.ids:
            assert node.coverage()[1] <= size
        assert len(nodes.ids) <= 2 * size.bit_length()
        assert 0 <= nodes.ephemeral_begin <= nodes.ephemeral_end <= len(nodes.ids)


def test_ephemeral_node_is_folded_from_perfect_subtrees() -> None:
    # Leaf 0 of a 7-leaf tree: its top sibling covers leaves 4..6, which is not perfect.
    nodes = inclusion_proof_nodes(0, 7)
    assert nodes.ids == (NodeId(0, 1), NodeId(1, 1), NodeId(0, 6), NodeId(1, 2))
    assert (nodes.ephemeral_begin, nodes.ephemeral_end) == (2, 4)
    assert nodes.ephemeral == NodeId(2, 1)
    log = shared_log()
    hashes = [log.get_node(n.level, n.index) for n in nodes.ids]
    assert nodes.rehash(hashes)[2] == node_hash(hashes[3], hashes[2])


def test_rehash_rejects_wrong_hash_count() -> None:
    with pytest.raises(ValidationError) as raised:
        inclusion_proof_nodes(0, 8).rehash([b"x" * 32])
    assert raised.value.rule == "proof_length"


def test_node_id_navigation() -> None:
    node = NodeId(2, 3)
    assert node.coverage() == (12, 16)
    assert node.parent() == NodeId(3, 1)
    assert node.sibling() == NodeId(2, 2)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (5, 5), (-1, 3)])
def test_inclusion_nodes_reject_leaf_outside_tree(index: int, size: int) -> None:
    with pytest.raises(ValidationError):
        inclusion_proof_nodes(index, size)


@pytest.mark.parametrize(("old", "new"), [(5, 4), (-1, 3)])
def test_consistency_nodes_reject_shrinking_tree(old: int, new: int) -> None:
    with pytest.raises(ValidationError):
        consistency_proof_nodes(old, new)


def test_range_nodes_reject_reversed_range() -> None:
    with pytest.raises(ValidationError):
        range_nodes(5, 4)


# --- compact range ---------------------------------------------------------------------------


def test_compact_range_visits_exactly_the_perfect_subtrees() -> None:
    log = shared_log()
    seen: dict[NodeId, bytes] = {}
    compact = CompactRange()
    compact.extend(log.leaf_hashes, lambda node, h: seen.setdefault(node, h))
    expected = {
        NodeId(level, index): h
        for level, hashes in enumerate(log.levels)
        for index, h in enumerate(hashes)
    }
    assert seen == expected
    assert compact.size == MAX_SIZE
    assert compact.nodes() == compact_range_nodes(MAX_SIZE)
    assert list(compact.hashes) == [log.get_node(n.level, n.index) for n in compact.nodes()]


def test_compact_range_resumes_from_stored_state() -> None:
    log = shared_log()
    first = CompactRange()
    first.extend(log.leaf_hashes[:137])
    resumed = CompactRange.from_state(first.size, first.hashes)
    resumed.extend(log.leaf_hashes[137:])
    assert resumed.root() == log.roots[MAX_SIZE]


@pytest.mark.parametrize(("size", "hashes"), [(3, [b"a" * 32]), (1, [b"short"]), (-1, [])])
def test_compact_range_rejects_bad_state(size: int, hashes: list[bytes]) -> None:
    with pytest.raises(ValidationError):
        CompactRange.from_state(size, hashes)


def test_compact_range_rejects_bad_leaf_hash() -> None:
    with pytest.raises(ValidationError):
        CompactRange().append(b"not a hash")


# --- speed -----------------------------------------------------------------------------------
