"""Tests for battrace.ledger.reference: the literal RFC 6962 tree meets the fixed vectors."""

from __future__ import annotations

import pytest

from battrace.ledger.reference import ReferenceTree
from tests.ledger.rfc6962_vectors import (
    CONSISTENCY_PROOFS,
    INCLUSION_PROOFS,
    LEAF_INPUTS,
    NODE_HASHES,
    ROOTS,
)

REFERENCE = ReferenceTree(LEAF_INPUTS)


@pytest.mark.parametrize("size", range(9))
def test_reference_roots_match_vectors(size: int) -> None:
    assert REFERENCE.root(size) == ROOTS[size]


def test_reference_perfect_subtrees_match_vectors() -> None:
    for level, hashes in enumerate(NODE_HASHES):
        for index, expected in enumerate(hashes):
            width = 1 << level
            assert REFERENCE.mth(index * width, (index + 1) * width) == expected


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_reference_inclusion_proofs_match_vectors(
    index: int, size: int, proof: list[bytes]
) -> None:
    assert REFERENCE.inclusion_proof(index, size) == proof


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_PROOFS)
def test_reference_consistency_proofs_match_vectors(old: int, new: int, proof: list[bytes]) -> None:
    assert REFERENCE.consistency_proof(old, new) == proof


def test_memo_does_not_change_answers() -> None:
    fresh = ReferenceTree(LEAF_INPUTS)
    assert [fresh.root(n) for n in range(8, -1, -1)] == ROOTS[::-1]
