"""The tamper-evident log of accepted events: leaves, tree nodes, signed checkpoints, proofs.

Every event accepted by :func:`battrace.services.reporting.report_events` becomes a leaf in the
same transaction (:class:`LogAppender`). The log's Ed25519 key signs checkpoints (C2SP
``tlog-checkpoint`` in a ``signed-note``); the key is made on first use and kept in the store's
``meta`` table unless ``BATTRACE_LOG_KEY_FILE`` names a file holding it. The maths is in
:mod:`battrace.ledger`; this module only fetches and stores what it asks for.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from battrace.domain.quantities import utc_now
from battrace.errors import NotFoundError, ValidationError
from battrace.ledger.checkpoint import Checkpoint as CheckpointBody
from battrace.ledger.hasher import leaf_hash
from battrace.ledger.leaf import LEAF_VERSION, SALT_SIZE, commitment, event_bytes, leaf_bytes
from battrace.ledger.note import Signer, Verifier, generate_signer, sign_note
from battrace.ledger.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    encode_entry_bundle,
    parse_tile_path,
    tile_width,
)
from battrace.ledger.tree import (
    CompactRange,
    NodeId,
    compact_range_nodes,
    consistency_proof_nodes,
    inclusion_proof_nodes,
    node_hashes_for_leaves,
    root_from_nodes,
)
from battrace.store.base import Store
from battrace.store.rows import Checkpoint, EventRow, db_time
from battrace.store.writes import WriteTransaction

DEFAULT_ORIGIN = "battrace.local/log"
# Tree nodes below this level are not stored: each is rebuilt from at most 16 leaves when a
# proof needs it. Storing every level would cost a row per leaf on the import path.
MIN_STORED_LEVEL = 4
_KEY_META = "log_signer_key"
_ORIGIN_META = "log_origin"


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    """Publish a new checkpoint when this many leaves or seconds have passed since the last."""

    every_leaves: int = 1000
    every_seconds: int = 60


def event_fields(row: EventRow) -> dict[str, Any]:
    """The fields of :func:`battrace.ledger.leaf.event_bytes` for a stored event."""
    batteries_json, body_json = row.json_texts()
    return {
        "id": row.id,
        "type": row.type,
        "batteries": orjson.Fragment(batteries_json),
        "actor": row.actor,
        "counterparty": row.counterparty,
        "occurred_at": row.occurred_at,
        "reported_at": row.reported_at,
        "place": row.place,
        "ref": row.ref,
        "corrects": row.corrects,
        "body": orjson.Fragment(body_json),
        "v": LEAF_VERSION,
    }


def log_origin(store: Store) -> str:
    """The log's origin line (fixed for the life of the log)."""
    return store.meta(_ORIGIN_META) or DEFAULT_ORIGIN


def log_signer(store: Store, key_file: str | None = None) -> Signer:
    """The log's signing key: from ``key_file`` if given, else from the store (made once).

    Security: whoever holds this key can sign checkpoints; keep the file (or the database)
    private. Auditors need only :func:`log_verifier_key`.
    """
    if key_file:
        try:
            return _signer(Path(key_file).read_text(encoding="ascii").strip())
        except OSError as exc:
            raise ValidationError(
                f"BATTRACE_LOG_KEY_FILE: cannot read {key_file}: {exc}",
                field="BATTRACE_LOG_KEY_FILE",
                rule="readable",
            ) from None
    stored = store.meta(_KEY_META)
    if stored is None:
        with store.write() as tx:
            stored = store.meta(_KEY_META)
            if stored is None:
                stored, _ = generate_signer(log_origin(store).replace("/", "-"))
                tx.set_meta(_KEY_META, stored)
                if store.meta(_ORIGIN_META) is None:
                    tx.set_meta(_ORIGIN_META, DEFAULT_ORIGIN)
    return _signer(stored)


@functools.lru_cache(maxsize=16)
def _signer(key: str) -> Signer:
    # parsing a key costs more than a small write: every write appends to the log
    return Signer.from_key(key)


def log_verifier_key(store: Store, key_file: str | None = None) -> str:
    """The verifier key line (``name+hash+base64key``) auditors trust."""
    return log_signer(store, key_file).verifier().to_key()


class NodeReader:
    """Perfect-subtree hashes: stored ones from ``log_nodes``, lower ones from the leaves."""

    def __init__(
        self,
        stored: Callable[[Sequence[tuple[int, int]]], dict[tuple[int, int], bytes]],
        leaves: Callable[[int, int], list[bytes]],
    ) -> None:
        self._stored = stored
        self._leaves = leaves

    def get(self, ids: Sequence[NodeId]) -> list[bytes]:
        """Hashes of ``ids`` in order; raises ``NotFoundError`` for a node the log lacks.

        One query for the stored nodes, one per block of 16 leaves for the lower ones (a proof's
        low nodes mostly share one block).
        """
        high = [(n.level, n.index) for n in ids if n.level >= MIN_STORED_LEVEL]
        found = self._stored(high) if high else {}
        blocks: dict[int, list[list[bytes]] | None] = {}
        out = []
        for n in ids:
            if n.level >= MIN_STORED_LEVEL:
                digest = found.get((n.level, n.index))
            else:
                digest = self._low(n, blocks)
            if digest is None:
                raise NotFoundError(f"log node ({n.level}, {n.index}) is missing", field="log")
            out.append(digest)
        return out

    def _low(self, node: NodeId, blocks: dict[int, list[list[bytes]] | None]) -> bytes | None:
        begin, _ = node.coverage()
        block = begin >> MIN_STORED_LEVEL
        if block not in blocks:
            first = block << MIN_STORED_LEVEL
            leaves = self._leaves(first, first + (1 << MIN_STORED_LEVEL) - 1)
            blocks[block] = node_hashes_for_leaves([leaf_hash(x) for x in leaves])
        levels = blocks[block]
        offset = node.index - (block << (MIN_STORED_LEVEL - node.level))
        if not levels or node.level >= len(levels) or offset >= len(levels[node.level]):
            return None
        return levels[node.level][offset]

    def one(self, level: int, index: int) -> bytes:
        return self.get([NodeId(level, index)])[0]


def store_nodes(store: Store) -> NodeReader:
    return NodeReader(store.log_nodes, store.leaves)


class LogAppender:
    """Appends the leaves of accepted events inside the writing transaction."""

    def __init__(
        self,
        store: Store,
        *,
        policy: CheckpointPolicy = CheckpointPolicy(),
        key_file: str | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._policy = policy
        self._signer = log_signer(store, key_file)
        self._now = now
        self._tree: CompactRange | None = None
        self._published = 0

    def _load(self, tx: WriteTransaction) -> CompactRange:
        size = tx.log_size()
        reader = NodeReader(tx.log_nodes, tx.leaves)
        return CompactRange.from_state(size, reader.get(compact_range_nodes(size)))

    def on_events(self, tx: WriteTransaction, rows: Sequence[EventRow]) -> None:
        """Give each row its salt and leaf, add the tree nodes it completes, and publish a
        checkpoint whenever ``every_leaves`` new leaves have been appended."""
        if self._tree is None:
            self._tree = self._load(tx)
            latest = self._store.latest_checkpoint()
            self._published = latest.size if latest is not None else 0
        tree = self._tree
        if rows and tree.size != rows[0].id - 1:
            raise ValidationError(
                f"log has {tree.size} leaves but the next event is {rows[0].id}",
                field="log",
                rule="one_leaf_per_event",
            )
        nodes: list[tuple[int, int, bytes]] = []

        def keep(node: NodeId, digest: bytes) -> None:
            if node.level >= MIN_STORED_LEVEL:
                nodes.append((node.level, node.index, digest))

        salts = os.urandom(SALT_SIZE * len(rows))
        every = self._policy.every_leaves
        for i, row in enumerate(rows):
            salt = salts[i * SALT_SIZE : (i + 1) * SALT_SIZE]
            signer, signature = row.signed_by or (None, None)
            leaf = leaf_bytes(commitment(salt, event_bytes(event_fields(row))), signer, signature)
            row.salt, row.leaf = salt, leaf
            tree.append(leaf_hash(leaf), keep)
            if tree.size - self._published >= every:
                self._publish(tx)
        tx.insert_log_nodes(nodes)

    def before_commit(self, tx: WriteTransaction) -> None:
        """Publish a checkpoint of the new size unless one was published less than
        ``every_seconds`` ago (then the next write, or ``log checkpoint``, publishes it)."""
        if self._tree is None or self._tree.size == self._published:
            return
        latest = self._store.latest_checkpoint()
        due = latest is None
        if latest is not None:
            age = self._now() - datetime.fromisoformat(latest.published_at.replace("Z", "+00:00"))
            due = age.total_seconds() >= self._policy.every_seconds
        if due:
            self._publish(tx)

    def _publish(self, tx: WriteTransaction) -> None:
        assert self._tree is not None
        size = self._tree.size
        _publish(tx, self._store, self._signer, size, self._tree.root(), self._now())
        self._published = size


def _publish(
    tx: WriteTransaction, store: Store, signer: Signer, size: int, root: bytes, now: datetime
) -> str:
    body = CheckpointBody(log_origin(store), size, root).to_text()
    note = sign_note(body, signer)
    tx.insert_checkpoint(size, root, note, db_time(now))
    return note


def current_checkpoint(store: Store, key_file: str | None = None) -> Checkpoint:
    """The latest signed checkpoint, publishing one first if the log has grown since."""
    latest = store.latest_checkpoint()
    size = store.log_size()
    if latest is not None and latest.size == size:
        return latest
    signer = log_signer(store, key_file)
    with store.write() as tx:
        size = tx.log_size()
        latest = store.latest_checkpoint()
        if latest is None or latest.size != size:
            _publish(tx, store, signer, size, tree_root(store, size), utc_now())
    found = store.latest_checkpoint()
    assert found is not None
    return found


def _fetch(store: Store, ids: Sequence[NodeId]) -> list[bytes]:
    return store_nodes(store).get(ids)


def tree_root(store: Store, size: int) -> bytes:
    """The root hash of the first ``size`` leaves."""
    return root_from_nodes(size, store_nodes(store).one)


def _check_size(store: Store, size: int | None, field: str) -> int:
    current = store.log_size()
    if size is None:
        latest = store.latest_checkpoint()
        return latest.size if latest is not None else current
    if not 0 <= size <= current:
        raise ValidationError(
            f"{field}: tree size {size} is outside 0..{current}", field=field, rule="range"
        )
    return size


def inclusion(store: Store, index: int, size: int | None = None) -> dict[str, Any]:
    """The inclusion proof of leaf ``index`` in the tree of ``size`` (default: the latest
    published checkpoint), in the fixed JSON shape auditors rely on."""
    tree_size = _check_size(store, size, "size")
    if not 0 <= index < tree_size:
        raise ValidationError(
            f"index: leaf {index} is not in a tree of size {tree_size}",
            field="index",
            rule="index_out_of_range",
        )
    nodes = inclusion_proof_nodes(index, tree_size)
    *hashes, leaf = _fetch(store, [*nodes.ids, NodeId(0, index)])
    proof = nodes.rehash(hashes)
    return {
        "index": index,
        "tree_size": tree_size,
        "leaf_hash": leaf.hex(),
        "hashes": [h.hex() for h in proof],
    }


def consistency(store: Store, old_size: int, new_size: int) -> dict[str, Any]:
    """The consistency proof between two tree sizes, in the fixed JSON shape."""
    _check_size(store, old_size, "old_size")
    _check_size(store, new_size, "new_size")
    if old_size > new_size:
        raise ValidationError(
            "old_size: must not be larger than new_size", field="old_size", rule="size_order"
        )
    nodes = consistency_proof_nodes(old_size, new_size)
    proof = nodes.rehash(_fetch(store, nodes.ids))
    return {"old_size": old_size, "new_size": new_size, "hashes": [h.hex() for h in proof]}


def leaf(store: Store, index: int) -> dict[str, Any]:
    """Leaf ``index``: its exact bytes (base64) and the event it commits to."""
    import base64

    row = store.event(index + 1)
    if row is None or row.leaf is None:
        raise NotFoundError(f"index: no leaf {index} in the log", field="index", rule="exists")
    return {"index": index, "leaf": base64.b64encode(row.leaf).decode(), "event": row.to_dict()}


def tile(store: Store, path: str) -> bytes:
    """The bytes of a C2SP ``tlog-tiles`` tile or entry bundle of the latest checkpoint's tree.

    ``path`` is like ``tile/0/x001/234`` or ``tile/entries/000.p/7`` (no leading slash).
    Raises ``ValidationError`` for a malformed path and ``NotFoundError`` for a tile the
    checkpointed tree does not have (yet).
    """
    ref = parse_tile_path(path)
    latest = store.latest_checkpoint()
    size = latest.size if latest is not None else 0
    level = 0 if ref.level is None else ref.level * TILE_HEIGHT
    available = tile_width(ref.level or 0, ref.index, size)
    if ref.width > available:
        raise NotFoundError(
            f"path: {path} is not in the tree of size {size}", field="path", rule="exists"
        )
    first = ref.index * TILE_WIDTH
    if ref.level is None:
        return encode_entry_bundle(store.leaves(first, first + ref.width - 1))
    if level >= MIN_STORED_LEVEL:
        found = store.log_node_range(level, first, first + ref.width - 1)
        hashes = [found.get(i) for i in range(first, first + ref.width)]
        if any(h is None for h in hashes):
            raise NotFoundError(f"log nodes of {path} are missing", field="log")
        return b"".join(h for h in hashes if h is not None)
    return b"".join(store_nodes(store).get([NodeId(level, first + i) for i in range(ref.width)]))


__all__ = [
    "CheckpointPolicy",
    "LogAppender",
    "Verifier",
    "consistency",
    "current_checkpoint",
    "inclusion",
    "leaf",
    "log_origin",
    "log_signer",
    "log_verifier_key",
    "tile",
    "tree_root",
]
