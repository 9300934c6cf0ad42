"""The offline auditor: ``battrace verify``.

Trusting only the log's verifier key, it recomputes every leaf from the stored events (with
their salts), rebuilds the Merkle tree, checks every saved checkpoint's signature and root,
checks the checkpoints are consistent with each other through consistency proofs built from the
stored tree nodes, and names the first thing that does not hold: an edited, deleted or swapped
event, a leaf that does not match its event, a rewritten checkpoint or tree node.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson

from battrace.errors import BattraceError
from battrace.ledger.checkpoint import parse_checkpoint
from battrace.ledger.hasher import EMPTY_ROOT, leaf_hash
from battrace.ledger.leaf import LEAF_VERSION, SALT_SIZE, event_bytes, leaf_bytes, parse_leaf
from battrace.ledger.note import Verifier, open_note
from battrace.ledger.tree import (
    CompactRange,
    NodeId,
    consistency_proof_nodes,
    node_hashes_for_leaves,
    root_from_nodes,
)
from battrace.ledger.verify import verify_consistency
from battrace.services.keys import check_submissions
from battrace.services.log import MIN_STORED_LEVEL, log_origin, store_nodes, tree_root
from battrace.store.base import Store


@dataclass
class AuditReport:
    """What the auditor checked and the problems it found (the first one first)."""

    leaves: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "leaves": self.leaves,
            "checkpoints": self.checkpoints,
            "problems": self.problems,
        }


def _event_fields(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "id": row[0],
        "type": row[1],
        "actor": row[2],
        "counterparty": row[3],
        "occurred_at": row[4],
        "reported_at": row[5],
        "place": row[6],
        "ref": row[7],
        "corrects": row[8],
        "batteries": orjson.Fragment(row[9]),
        "body": orjson.Fragment(row[10]),
        "v": LEAF_VERSION,
    }


_sha256 = hashlib.sha256
_dumps = orjson.dumps
_SORTED = orjson.OPT_SORT_KEYS


def _leaf_problem(row: tuple[Any, ...]) -> tuple[bytes | None, str | None]:
    """The leaf hash of a stored event, or why its leaf does not hold.

    The common case (an unsigned leaf whose commitment matches) is checked with as few calls as
    possible, because the auditor runs it for every event; signed leaves and anything wrong go
    to :func:`_leaf_checked`, which also gives the precise diagnosis.
    """
    salt, stored = row[11], row[12]
    if salt is None or stored is None or len(salt) != SALT_SIZE:
        return _leaf_checked(row)
    try:
        encoded = _dumps(_event_fields(row), option=_SORTED)
    except (TypeError, orjson.JSONEncodeError):
        return _leaf_checked(row)
    stored = bytes(stored)
    # the bytes of an unsigned leaf (ledger.leaf.leaf_bytes, written out here for speed)
    expected = b'{"c":"' + _sha256(bytes(salt) + encoded).hexdigest().encode() + b'","v":1}'
    if stored == expected:
        return _sha256(b"\x00" + stored).digest(), None
    return _leaf_checked(row)  # a signed leaf, or something wrong


def _leaf_checked(row: tuple[Any, ...]) -> tuple[bytes | None, str | None]:
    """The leaf hash of a stored event, or why its leaf does not hold (any leaf; slower)."""
    event_id, salt, stored = row[0], row[11], row[12]
    if salt is None or stored is None:
        return None, f"event {event_id}: has no leaf in the log"
    salt, stored = bytes(salt), bytes(stored)
    if len(salt) != SALT_SIZE:
        return None, f"event {event_id}: salt is not {SALT_SIZE} bytes"
    try:
        encoded = event_bytes(_event_fields(row))
    except (TypeError, orjson.JSONEncodeError) as exc:
        return None, f"event {event_id}: stored content is not valid JSON ({exc})"
    digest = hashlib.sha256(salt + encoded).digest()
    if leaf_bytes(digest) != stored:
        try:
            leaf = parse_leaf(stored)
        except BattraceError as exc:
            return None, f"leaf {event_id - 1} (event {event_id}): {exc.message}"
        if leaf.commitment != digest:
            return None, (
                f"event {event_id} (leaf {event_id - 1}): the stored event does not match its"
                " leaf commitment: the event row was edited or swapped"
            )
    return leaf_hash(stored), None


def verify_log(
    store: Store,
    verifier_key: str,
    *,
    extra_checkpoints: Iterable[str] = (),
    on_progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> AuditReport:
    """Audit the whole log of ``store`` trusting only ``verifier_key``.

    ``extra_checkpoints`` are signed checkpoint notes saved elsewhere (by a witness or an
    earlier audit); they are checked like the stored ones, so a log rewritten together with
    its checkpoint table is still caught. Returns an :class:`AuditReport`; ``ok`` only when
    every check holds. Leaves are hashed by ``workers`` processes (default: one per core for
    logs of over 100,000 events), each reading its own range of events.
    """
    report = AuditReport()
    verifier = Verifier.from_key(verifier_key)
    notes = [(c.note, f"checkpoint at size {c.size}") for c in store.checkpoints()]
    notes += [(n, f"given checkpoint {i + 1}") for i, n in enumerate(extra_checkpoints)]
    wanted: dict[int, bytes] = {}
    heads: list[tuple[str, int, bytes]] = []
    origin = log_origin(store)
    for note, label in notes:
        try:
            body = parse_checkpoint(open_note(note, [verifier]))
        except BattraceError as exc:
            report.problems.append(f"{label}: {exc.message}")
            continue
        if body.origin != origin:
            report.problems.append(f"{label}: origin {body.origin!r} is not this log's {origin!r}")
            continue
        heads.append((label, body.size, body.root_hash))
        wanted[body.size] = b""
    tree = _BlockTree(store, set(wanted))
    for digests, problem in _leaf_hashes(store, workers):
        for digest in digests:
            problem_here = tree.add(digest)
            if problem_here is not None:
                report.problems.append(problem_here)
                break
            if on_progress is not None and tree.size % 100_000 == 0:
                on_progress(tree.size)
        if report.problems:
            break
        if problem is not None:
            report.problems.append(problem)
            break
    if not report.problems:
        problem = tree.finish()
        if problem is not None:
            report.problems.append(problem)
    report.leaves = tree.size
    if report.problems:
        return report
    _check_heads(store, report, heads, tree.roots, tree.size, tree.root())
    if not report.problems:
        report.problems.extend(check_submissions(store))
    return report


_RANGE = 100_000  # events a worker hashes per task


def _hash_range(location: str, after_id: int, until_id: int) -> tuple[list[bytes], str | None]:
    """Leaf hashes of events ``after_id + 1 .. until_id`` and the first problem, if any."""
    from battrace.store import open_store

    with open_store(location, migrate=False) as store:
        return _hash_rows(store.iter_event_records(after_id, until_id=until_id), after_id + 1)


def _hash_rows(rows: Iterable[tuple[Any, ...]], first_id: int) -> tuple[list[bytes], str | None]:
    digests: list[bytes] = []
    expected = first_id
    for row in rows:
        if row[0] != expected:
            break
        digest, problem = _leaf_problem(row)
        if problem is not None:
            return digests, problem
        assert digest is not None
        digests.append(digest)
        expected += 1
    else:
        return digests, None
    return digests, _missing(expected)


def _missing(event_id: int) -> str:
    return f"event {event_id} (leaf {event_id - 1}) is missing: rows were deleted"


def _checked(
    after: int, until: int, result: tuple[list[bytes], str | None]
) -> tuple[list[bytes], str | None]:
    digests, problem = result
    if problem is None and len(digests) < until - after:
        problem = _missing(after + len(digests) + 1)
    return digests, problem


def _leaf_hashes(store: Store, workers: int | None) -> Iterator[tuple[list[bytes], str | None]]:
    """Leaf hashes of the whole log in order, in ranges, from worker processes if useful."""
    last = store.max_event_id()
    ranges = [(a, min(a + _RANGE, last)) for a in range(0, last, _RANGE)]
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1 or len(ranges) <= 1:
        for after, until in ranges:
            rows = store.iter_event_records(after, until_id=until)
            digests, problem = _checked(after, until, _hash_rows(rows, after + 1))
            yield digests, problem
            if problem is not None:
                return
        return
    with ProcessPoolExecutor(max_workers=count) as pool:
        jobs = [pool.submit(_hash_range, store.location, a, u) for a, u in ranges]
        try:
            for (after, until), job in zip(ranges, jobs, strict=True):
                digests, problem = _checked(after, until, job.result())
                yield digests, problem
                if problem is not None:
                    return
        finally:
            for job in jobs:
                job.cancel()


BLOCK_LEVEL = 14  # leaves are hashed into trees of 2**14, then the block roots are joined


class _BlockTree:
    """Rebuilds the Merkle tree block by block, level by level, for speed.

    Leaves are gathered into aligned blocks of ``2**BLOCK_LEVEL``; a block's perfect subtrees
    are computed a level at a time and compared with the stored tree nodes; full block roots
    go into a :class:`CompactRange` as if they were leaves (joining perfect subtrees is the
    same at every level). Roots at the ``wanted`` checkpoint sizes are recorded.
    """

    def __init__(self, store: Store, wanted: set[int]) -> None:
        self._store = store
        self._wanted = wanted
        self._blocks = CompactRange()
        self._upper: dict[tuple[int, int], bytes] = {}  # nodes at level >= BLOCK_LEVEL
        self._leaves: list[bytes] = []
        self._tail: list[list[bytes]] = []
        self.size = 0
        self.roots: dict[int, bytes] = {}
        if 0 in wanted:
            self.roots[0] = EMPTY_ROOT

    def add(self, digest: bytes) -> str | None:
        self._leaves.append(digest)
        self.size += 1
        if len(self._leaves) == 1 << BLOCK_LEVEL:
            return self._close_block()
        return None

    def finish(self) -> str | None:
        problem = self._close_block() if self._leaves else None
        if problem is not None:
            return problem
        by_level: dict[int, dict[int, bytes]] = {}
        for (level, index), digest in self._upper.items():
            if level >= MIN_STORED_LEVEL:
                by_level.setdefault(level, {})[index] = digest
        for level in sorted(by_level):
            mine = by_level[level]
            stored = self._store.log_node_range(level, min(mine), max(mine))
            for index in sorted(mine):
                if stored.get(index) != mine[index]:
                    return _node_problem(level, index)
        return None

    def _close_block(self) -> str | None:
        first_leaf = self.size - len(self._leaves)
        levels = node_hashes_for_leaves(self._leaves)
        if len(self._leaves) == 1 << BLOCK_LEVEL:
            del levels[BLOCK_LEVEL + 1 :]  # a full block has exactly one root
        problem = _compare_levels(self._store, levels, first_leaf)
        if problem is not None:
            return problem
        full = len(self._leaves) == 1 << BLOCK_LEVEL
        if full:

            def keep(node: NodeId, digest: bytes) -> None:
                self._upper[(node.level + BLOCK_LEVEL, node.index)] = digest

            self._blocks.append(levels[-1][0], keep)
        for size in sorted(x for x in self._wanted if first_leaf < x <= self.size):
            self.roots[size] = self._root_at(size, levels, first_leaf)
        if full:
            self._leaves = []
        else:
            self._tail = levels
        return None

    def _root_at(self, size: int, levels: list[list[bytes]], first_leaf: int) -> bytes:
        def get_node(level: int, index: int) -> bytes:
            if level >= BLOCK_LEVEL:
                return self._upper[(level, index)]
            return levels[level][index - (first_leaf >> level)]

        return root_from_nodes(size, get_node)

    def root(self) -> bytes:
        """The root of everything added (call after :meth:`finish`)."""
        if self.size == 0:
            return EMPTY_ROOT
        if self._leaves:
            return self._root_at(self.size, self._tail, self.size - len(self._leaves))
        return self._blocks.root()


def _compare_levels(store: Store, levels: list[list[bytes]], first_leaf: int) -> str | None:
    """Compare a block's recomputed perfect subtrees with the stored ones (level >= 4)."""
    for level in range(MIN_STORED_LEVEL, len(levels)):
        mine = levels[level]
        if not mine:
            continue
        first = first_leaf >> level
        stored = store.log_node_range(level, first, first + len(mine) - 1)
        for offset, digest in enumerate(mine):
            if stored.get(first + offset) != digest:
                return _node_problem(level, first + offset)
    return None


def _node_problem(level: int, index: int) -> str:
    return (
        f"log node (level {level}, index {index}): the stored hash does not match the events"
        " (proofs served from it would be wrong)"
    )


def _check_heads(
    store: Store,
    report: AuditReport,
    heads: list[tuple[str, int, bytes]],
    roots: dict[int, bytes],
    size: int,
    root: bytes,
) -> None:
    logged = store.log_size()
    if logged != size:
        report.problems.append(f"log: {logged} leaves in the tree but {size} events")
        return
    if tree_root(store, size) != root:
        report.problems.append("log: stored tree nodes do not match the events")
        return
    for label, head_size, head_root in sorted(heads, key=lambda h: h[1]):
        report.checkpoints += 1
        if head_size > size:
            report.problems.append(f"{label}: size {head_size} is beyond the log ({size} leaves)")
        elif roots.get(head_size) != head_root:
            report.problems.append(
                f"{label}: root does not match the events: the log was rewritten"
            )
    if report.problems:
        return
    # consecutive checkpoints must be consistent, as a client holding the older would check
    ordered = sorted({(s, r) for _, s, r in heads})
    for (old, old_root), (new, new_root) in itertools.pairwise(ordered):
        nodes = consistency_proof_nodes(old, new)
        try:
            proof = nodes.rehash(store_nodes(store).get(nodes.ids))
            verify_consistency(old, new, old_root, new_root, proof)
        except BattraceError as exc:
            report.problems.append(f"checkpoints {old} -> {new}: not consistent ({exc})")
            return
