"""Tests for battrace.ledger.hasher (RFC 6962 leaf and node hashing)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from battrace.ledger.hasher import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash
from tests.ledger.rfc6962_vectors import EMPTY_ROOT_HEX, LEAF_INPUTS, NODE_HASHES


def test_empty_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == EMPTY_ROOT_HEX


# transparency-dev/merkle rfc6962/rfc6962_test.go TestRFC6962Hasher.
def test_known_leaf_and_node_hashes() -> None:
    empty_leaf = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert leaf_hash(b"").hex() == empty_leaf
    assert leaf_hash(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert node_hash(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


def test_leaf_hashes_of_the_eight_vector_leaves() -> None:
    assert [leaf_hash(data) for data in LEAF_INPUTS] == NODE_HASHES[0]
    assert node_hash(NODE_HASHES[0][0], NODE_HASHES[0][1]) == NODE_HASHES[1][0]


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_hashes_are_32_bytes_and_domain_separated(left: bytes, right: bytes) -> None:
    assert len(leaf_hash(left)) == HASH_SIZE
    parent = node_hash(left, right)
    assert len(parent) == HASH_SIZE
    # A node is never the leaf hash of its children's concatenation (second preimage).
    assert parent != leaf_hash(left + right)
    if left != right:
        assert parent != node_hash(right, left)
