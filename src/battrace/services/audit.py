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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from battrace.errors import BattraceError
from battrace.ledger.checkpoint import parse_checkpoint
from battrace.ledger.hasher import leaf_hash
from battrace.ledger.leaf import SALT_SIZE, Leaf, event_bytes, parse_leaf
from battrace.ledger.note import Verifier, open_note
from battrace.ledger.tree import CompactRange, NodeId, consistency_proof_nodes
from battrace.ledger.verify import verify_consistency
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
    }


def _leaf_problem(row: tuple[Any, ...]) -> tuple[bytes | None, str | None]:
    """The leaf hash of a stored event, or why its leaf does not hold."""
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
    if Leaf(digest).to_bytes() != stored:
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
) -> AuditReport:
    """Audit the whole log of ``store`` trusting only ``verifier_key``.

    ``extra_checkpoints`` are signed checkpoint notes saved elsewhere (by a witness or an
    earlier audit); they are checked like the stored ones, so a log rewritten together with
    its checkpoint table is still caught. Returns an :class:`AuditReport`; ``ok`` only when
    every check holds.
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
    tree = CompactRange()
    roots: dict[int, bytes] = {}
    if 0 in wanted:
        roots[0] = tree.root()
    expected_id = 1
    computed: list[tuple[int, int, bytes]] = []

    def keep(node: NodeId, digest: bytes) -> None:
        if node.level >= MIN_STORED_LEVEL:
            computed.append((node.level, node.index, digest))

    for row in store.iter_event_records():
        if row[0] != expected_id:
            report.problems.append(
                f"event {expected_id} (leaf {expected_id - 1}) is missing: rows were deleted"
            )
            break
        digest, problem = _leaf_problem(row)
        if problem is not None:
            report.problems.append(problem)
            break
        assert digest is not None
        tree.append(digest, keep)
        expected_id += 1
        if len(computed) >= _NODE_BATCH:
            problem = _compare_nodes(store, computed)
            if problem is not None:
                report.problems.append(problem)
                break
            computed.clear()
        if tree.size in wanted:
            roots[tree.size] = tree.root()
        if on_progress is not None and tree.size % 100_000 == 0:
            on_progress(tree.size)
    report.leaves = tree.size
    if not report.problems and computed:
        problem = _compare_nodes(store, computed)
        if problem is not None:
            report.problems.append(problem)
    if report.problems:
        return report
    _check_heads(store, report, heads, roots, tree)
    return report


_NODE_BATCH = 50_000


def _compare_nodes(store: Store, computed: list[tuple[int, int, bytes]]) -> str | None:
    """Compare recomputed tree nodes with the stored ones the proofs are served from."""
    by_level: dict[int, dict[int, bytes]] = {}
    for level, index, digest in computed:
        by_level.setdefault(level, {})[index] = digest
    for level in sorted(by_level):
        mine = by_level[level]
        stored = store.log_node_range(level, min(mine), max(mine))
        for index in sorted(mine):
            if stored.get(index) != mine[index]:
                return (
                    f"log node (level {level}, index {index}): the stored hash does not match"
                    " the events (proofs served from it would be wrong)"
                )
    return None


def _check_heads(
    store: Store,
    report: AuditReport,
    heads: list[tuple[str, int, bytes]],
    roots: dict[int, bytes],
    tree: CompactRange,
) -> None:
    logged = store.log_size()
    if logged != tree.size:
        report.problems.append(f"log: {logged} leaves in the tree but {tree.size} events")
        return
    if tree_root(store, tree.size) != tree.root():
        report.problems.append("log: stored tree nodes do not match the events")
        return
    for label, size, root in sorted(heads, key=lambda h: h[1]):
        report.checkpoints += 1
        if size > tree.size:
            report.problems.append(f"{label}: size {size} is beyond the log ({tree.size} leaves)")
        elif roots.get(size) != root:
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
