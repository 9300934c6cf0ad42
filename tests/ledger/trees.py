"""A 300-leaf test log with every perfect subtree hash, shared by the ledger tests."""

from __future__ import annotations

from functools import cache

from battrace.ledger.hasher import leaf_hash
from battrace.ledger.reference import ReferenceTree
from battrace.ledger.tree import node_hashes_for_leaves, root_from_leaf_hashes

MAX_SIZE = 300


class SampleLog:
    """Entries ``b"0", b"1", ...``, their leaf hashes, levels and the reference tree."""

    def __init__(self, size: int) -> None:
        self.entries = [str(i).encode() for i in range(size)]
        self.leaf_hashes = [leaf_hash(e) for e in self.entries]
        self.levels = node_hashes_for_leaves(self.leaf_hashes)
        self.reference = ReferenceTree(self.entries)
        self.roots = [root_from_leaf_hashes(self.leaf_hashes[:n]) for n in range(size + 1)]

    def get_node(self, level: int, index: int) -> bytes:
        """Perfect subtree hash; every perfect subtree of a prefix is one of the full log."""
        return self.levels[level][index]


@cache
def shared_log() -> SampleLog:
    """The shared log of :data:`MAX_SIZE` leaves, built once."""
    return SampleLog(MAX_SIZE)
