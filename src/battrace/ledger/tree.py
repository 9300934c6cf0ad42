"""Storage-agnostic Merkle tree maths: roots, compact ranges and the node ids of proofs.

The tree is the RFC 9162 §2.1 Merkle tree over leaves ``0 .. size-1``. A *perfect subtree*
is named by a :class:`NodeId` ``(level, index)``: it holds the ``2**level`` leaves starting
at leaf ``index * 2**level``. Only perfect subtrees ever need storing; every other hash a
proof needs (the *ephemeral* node on the right border of a tree whose size is not a power of
two) is folded here from perfect ones. A store therefore only has to answer
``get_node(level, index)`` for perfect subtrees, and this module asks for O(log n) of them
per proof, in the style of transparency-dev/merkle (``compact`` and ``proof`` packages).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from battrace.errors import ValidationError
from battrace.ledger.hasher import EMPTY_ROOT, HASH_SIZE, node_hash

__all__ = [
    "CompactRange",
    "GetNode",
    "NodeId",
    "ProofNodes",
    "compact_range_nodes",
    "consistency_proof",
    "consistency_proof_nodes",
    "inclusion_proof",
    "inclusion_proof_nodes",
    "node_hashes_for_leaves",
    "parent_hashes",
    "range_nodes",
    "root_from_leaf_hashes",
    "root_from_nodes",
]

GetNode = Callable[[int, int], bytes]
"""``get_node(level, index)``: hash of the perfect subtree of ``2**level`` leaves starting at
leaf ``index * 2**level``. Level 0 is the leaf hashes themselves."""


@dataclass(frozen=True, slots=True, order=True)
class NodeId:
    """A perfect subtree: ``2**level`` leaves starting at leaf ``index * 2**level``."""

    level: int
    index: int

    def coverage(self) -> tuple[int, int]:
        """The half-open leaf range ``[begin, end)`` the subtree holds."""
        return self.index << self.level, (self.index + 1) << self.level

    def parent(self) -> NodeId:
        """The perfect subtree one level up that contains this one."""
        return NodeId(self.level + 1, self.index >> 1)

    def sibling(self) -> NodeId:
        """The other child of this node's parent."""
        return NodeId(self.level, self.index ^ 1)


def _check_size(name: str, value: int) -> None:
    if value < 0:
        raise ValidationError(f"{name} must be >= 0, got {value}", field=name, rule="negative")


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """The RFC 9162 root hash (MTH) of a whole tree given all its leaf hashes.

    Inputs: the leaf hashes (already ``leaf_hash``-ed) in log order. Output: the 32-byte root;
    :data:`EMPTY_ROOT` for no leaves. Raises nothing. Iterative: each level pairs neighbours
    and carries an odd last node up unchanged, which builds exactly the RFC tree (its split
    point is always the largest power of two below the size).
    """
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def parent_hashes(children: Sequence[bytes]) -> list[bytes]:
    """The perfect-subtree hashes of one level from the level below.

    Inputs: the hashes of nodes ``(level, 0), (level, 1), ...``. Output: the hashes of
    ``(level + 1, 0), (level + 1, 1), ...``; an odd last child has no perfect parent yet and is
    dropped. Raises nothing.
    """
    return [node_hash(children[i], children[i + 1]) for i in range(0, len(children) - 1, 2)]


def node_hashes_for_leaves(leaf_hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Every perfect-subtree hash of a tree, level by level (for storing levels or tiles).

    Inputs: all leaf hashes in log order. Output: ``levels`` with ``levels[l][i]`` the hash of
    :class:`NodeId` ``(l, i)``; ``levels[0]`` is a copy of the leaves and the last level has
    one hash (or the list is empty for no leaves). Raises nothing.
    """
    levels: list[list[bytes]] = []
    current = list(leaf_hashes)
    while current:
        levels.append(current)
        current = parent_hashes(current)
    return levels


def range_nodes(begin: int, end: int) -> list[NodeId]:
    """The compact range of ``[begin, end)``: the fewest perfect subtrees covering it.

    Inputs: ``0 <= begin <= end``. Output: node ids in left-to-right leaf order (levels rise,
    then fall). At most ``2 * log2(end - begin)`` nodes. Raises :class:`ValidationError` for a
    reversed or negative range.
    """
    _check_size("begin", begin)
    if end < begin:
        raise ValidationError(f"range end {end} < begin {begin}", field="end", rule="size_order")
    left, right = _decompose(begin, end)
    ids: list[NodeId] = []
    pos = begin
    while left:
        level = (left & -left).bit_length() - 1
        ids.append(NodeId(level, pos >> level))
        pos += 1 << level
        left ^= 1 << level
    while right:
        level = right.bit_length() - 1
        ids.append(NodeId(level, pos >> level))
        pos += 1 << level
        right ^= 1 << level
    return ids


def _decompose(begin: int, end: int) -> tuple[int, int]:
    # Bit masks of the node sizes on the left and right borders of [begin, end)
    # (transparency-dev/merkle compact.Decompose).
    if begin == 0:
        return 0, end
    xbegin = begin - 1
    diverge = (xbegin ^ end).bit_length() - 1
    mask = (1 << diverge) - 1
    return ~xbegin & mask, end & mask


def compact_range_nodes(size: int) -> list[NodeId]:
    """The perfect subtrees whose hashes fold into the root of a tree of ``size`` leaves.

    One per set bit of ``size``, largest (leftmost) first. Raises :class:`ValidationError`
    for a negative size.
    """
    return range_nodes(0, size)


def _fold_right(hashes: Sequence[bytes]) -> bytes:
    # Root of adjacent perfect subtrees given left to right with strictly falling sizes.
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def root_from_nodes(size: int, get_node: GetNode) -> bytes:
    """The root hash of the tree of ``size`` leaves from its stored perfect subtrees.

    Inputs: the size and ``get_node``. Output: the 32-byte root (:data:`EMPTY_ROOT` for 0).
    Calls ``get_node`` ``popcount(size)`` times. Raises :class:`ValidationError` for a negative
    size and whatever ``get_node`` raises.
    """
    ids = compact_range_nodes(size)
    if not ids:
        return EMPTY_ROOT
    return _fold_right([get_node(n.level, n.index) for n in ids])


class CompactRange:
    """The right border of a growing tree: O(log n) hashes that give the root at any time.

    Holds one hash per set bit of ``size`` (the nodes of :func:`compact_range_nodes`), largest
    first. A store keeps one while appending a batch, and persists the new perfect nodes that
    ``append`` reports to its ``visit`` callback.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_state(cls, size: int, hashes: Sequence[bytes]) -> CompactRange:
        """Resume from a stored state: ``hashes`` of :func:`compact_range_nodes` ``(size)``.

        Raises :class:`ValidationError` when the count or a hash length is wrong.
        """
        _check_size("size", size)
        if len(hashes) != size.bit_count():
            raise ValidationError(
                f"a compact range of size {size} has {size.bit_count()} hashes, got {len(hashes)}",
                field="hashes",
                rule="compact_range_length",
            )
        for h in hashes:
            if len(h) != HASH_SIZE:
                raise ValidationError(
                    f"hash of {len(h)} bytes, want {HASH_SIZE}", field="hashes", rule="hash_size"
                )
        state = cls()
        state._size = size
        state._hashes = list(hashes)
        return state

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The border hashes, matching :func:`compact_range_nodes` ``(self.size)``."""
        return tuple(self._hashes)

    def nodes(self) -> list[NodeId]:
        """The node ids of :attr:`hashes`."""
        return compact_range_nodes(self._size)

    def append(
        self, leaf_hash: bytes, visit: Callable[[NodeId, bytes], None] | None = None
    ) -> None:
        """Append one leaf hash.

        ``visit(node_id, hash)``, when given, is called for the leaf and then for every perfect
        subtree the append completes, lowest first: exactly the new hashes a store must keep.
        Raises :class:`ValidationError` for a hash that is not 32 bytes.
        """
        if len(leaf_hash) != HASH_SIZE:
            raise ValidationError(
                f"leaf hash of {len(leaf_hash)} bytes, want {HASH_SIZE}",
                field="leaf_hash",
                rule="hash_size",
            )
        index = self._size
        if visit is not None:
            visit(NodeId(0, index), leaf_hash)
        current = leaf_hash
        level = 0
        while index & 1:
            current = node_hash(self._hashes.pop(), current)
            level += 1
            index >>= 1
            if visit is not None:
                visit(NodeId(level, index), current)
        self._hashes.append(current)
        self._size += 1

    def extend(
        self, leaf_hashes: Iterable[bytes], visit: Callable[[NodeId, bytes], None] | None = None
    ) -> None:
        """Append many leaf hashes in order; see :meth:`append`."""
        for h in leaf_hashes:
            self.append(h, visit)

    def root(self) -> bytes:
        """The root hash of the tree so far (:data:`EMPTY_ROOT` when empty)."""
        if not self._hashes:
            return EMPTY_ROOT
        return _fold_right(self._hashes)


@dataclass(frozen=True)
class ProofNodes:
    """How to build one proof from perfect-subtree hashes.

    ``ids`` are the perfect subtrees to fetch, in proof order (lowest level first).
    ``ids[ephemeral_begin:ephemeral_end]`` (possibly empty) are the parts of the one
    *ephemeral* node of the proof, the subtree on the tree's right border that is not perfect;
    they are listed right to left, and :meth:`rehash` folds them into that single proof hash.
    ``ephemeral`` is that node's position as if the tree were perfect (informative only).
    """

    ids: tuple[NodeId, ...]
    ephemeral_begin: int = 0
    ephemeral_end: int = 0
    ephemeral: NodeId | None = None

    def rehash(self, hashes: Sequence[bytes]) -> list[bytes]:
        """Turn the hashes of :attr:`ids` (same order) into the proof.

        Output: the proof hashes, lowest level first. Raises :class:`ValidationError` when the
        number of hashes does not match the number of ids.
        """
        if len(hashes) != len(self.ids):
            raise ValidationError(
                f"got {len(hashes)} hashes for {len(self.ids)} proof nodes",
                field="hashes",
                rule="proof_length",
            )
        proof: list[bytes] = []
        i = 0
        while i < len(hashes):
            current = hashes[i]
            if i == self.ephemeral_begin and self.ephemeral_begin < self.ephemeral_end:
                for j in range(i + 1, self.ephemeral_end):
                    current = node_hash(hashes[j], current)
                i = self.ephemeral_end
            else:
                i += 1
            proof.append(current)
        return proof

    def fetch(self, get_node: GetNode) -> list[bytes]:
        """Fetch every node with ``get_node`` and :meth:`rehash` them into the proof."""
        return self.rehash([get_node(n.level, n.index) for n in self.ids])

    def _skip_first(self) -> ProofNodes:
        begin, end = self.ephemeral_begin, self.ephemeral_end
        if begin < end:
            begin, end = begin - 1, end - 1
        return ProofNodes(self.ids[1:], begin, end, self.ephemeral)


def _proof_nodes(index: int, level: int, size: int) -> ProofNodes:
    # The node ids proving that (level, index) is in the tree of `size` leaves, starting with
    # that node itself (transparency-dev/merkle proof.nodes). `fork` is where the path from the
    # node up to the root leaves the path to the right border; its sibling is the ephemeral
    # node, covered by the perfect subtrees of [end, size).
    inner = (index ^ (size >> level)).bit_length() - 1
    fork = NodeId(level + inner, index >> inner)
    begin, end = fork.coverage()

    node = NodeId(level, index)
    ids = [node]
    while node.level < fork.level:
        ids.append(node.sibling())
        node = node.parent()
    first_right = len(ids)
    ids.extend(reversed(range_nodes(end, size)))
    after_right = len(ids)
    ids.extend(reversed(range_nodes(0, begin)))
    if first_right >= after_right:
        first_right = after_right = 0
    return ProofNodes(tuple(ids), first_right, after_right, fork.sibling())


def inclusion_proof_nodes(index: int, size: int) -> ProofNodes:
    """The node ids of the inclusion proof of leaf ``index`` in the tree of ``size`` leaves.

    Inputs: ``0 <= index < size``. Output: :class:`ProofNodes` (RFC 9162 §2.1.3.1 PATH, at
    most ``2 * log2(size)`` ids). O(log size) time, no leaf is visited. Raises
    :class:`ValidationError` (rule ``index_out_of_range``) otherwise.
    """
    _check_size("index", index)
    if index >= size:
        raise ValidationError(
            f"leaf index {index} is not in a tree of size {size}",
            field="index",
            rule="index_out_of_range",
        )
    return _proof_nodes(index, 0, size)._skip_first()


def consistency_proof_nodes(old_size: int, new_size: int) -> ProofNodes:
    """The node ids of the consistency proof from ``old_size`` to ``new_size``.

    Inputs: ``0 <= old_size <= new_size``. Output: :class:`ProofNodes` (RFC 9162 §2.1.4.1
    PROOF); empty when ``old_size`` is 0 or equal to ``new_size``. O(log new_size). Raises
    :class:`ValidationError` (rule ``size_order``) for a shrinking tree.
    """
    _check_size("old_size", old_size)
    if old_size > new_size:
        raise ValidationError(
            f"old tree size {old_size} > new tree size {new_size}",
            field="old_size",
            rule="size_order",
        )
    if old_size == 0 or old_size == new_size:
        return ProofNodes(())
    # Largest perfect subtree ending at old_size: the proof is its hash (unless old_size is a
    # power of two, when the verifier already has it as the old root) plus its inclusion proof.
    level = (old_size & -old_size).bit_length() - 1
    index = (old_size - 1) >> level
    nodes = _proof_nodes(index, level, new_size)
    if old_size & (old_size - 1) == 0:
        return nodes._skip_first()
    return nodes


def inclusion_proof(index: int, size: int, get_node: GetNode) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in the tree of ``size`` leaves.

    Inputs: ``0 <= index < size`` and ``get_node`` for perfect subtrees of that tree. Output:
    the audit path, lowest level first, as RFC 9162 §2.1.3.1. Raises
    :class:`ValidationError` for a bad index, and whatever ``get_node`` raises.
    Security: the proof is only as good as ``get_node``; verify it against a signed root.
    """
    return inclusion_proof_nodes(index, size).fetch(get_node)


def consistency_proof(old_size: int, new_size: int, get_node: GetNode) -> list[bytes]:
    """The consistency proof between the trees of ``old_size`` and ``new_size`` leaves.

    Inputs: ``0 <= old_size <= new_size`` and ``get_node`` for the tree of ``new_size``.
    Output: the proof as RFC 9162 §2.1.4.1. Raises :class:`ValidationError` for a shrinking
    tree, and whatever ``get_node`` raises.
    """
    return consistency_proof_nodes(old_size, new_size).fetch(get_node)
