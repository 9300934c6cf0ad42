"""Auditing a log from outside, through its C2SP ``tlog-tiles`` (``battrace verify --remote``).

Needs only the log's verifier key and HTTP access to ``<base>/checkpoint``, ``<base>/tile/...``
and ``<base>/tile/entries/...``. It checks the checkpoint's signature, fetches every entry
bundle, rebuilds the tree from the leaves, checks every hash tile the checkpointed tree has
against it, and checks checkpoints saved earlier (``--checkpoint``) are earlier states of the
same tree. Events themselves stay private: leaves hold only commitments.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Iterable

from battrace.errors import BattraceError, NotFoundError, StoreError
from battrace.ledger.checkpoint import parse_checkpoint
from battrace.ledger.hasher import leaf_hash
from battrace.ledger.note import Verifier, open_note
from battrace.ledger.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileRef,
    decode_entry_bundle,
    split_tile,
    tiles_for_size,
)
from battrace.ledger.tree import node_hashes_for_leaves, root_from_nodes
from battrace.services.audit import AuditReport

Fetch = Callable[[str], bytes]


def http_fetcher(base_url: str, timeout: float = 30.0) -> Fetch:
    """A fetch function for ``base_url`` (``http://host:port/prefix``) using the stdlib.

    Raises ``NotFoundError`` for a 404 and ``StoreError`` when the server cannot be reached.
    """
    base = base_url.rstrip("/") + "/"

    def fetch(path: str) -> bytes:
        try:
            with urllib.request.urlopen(base + path, timeout=timeout) as response:
                data: bytes = response.read()
                return data
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise NotFoundError(f"{base + path}: not found", field="path") from None
            raise StoreError(f"{base + path}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise StoreError(f"cannot reach {base + path}: {exc}") from None

    return fetch


def verify_remote(
    fetch: Fetch, verifier_key: str, *, extra_checkpoints: Iterable[str] = ()
) -> AuditReport:
    """Audit a remote log through its tiles, trusting only ``verifier_key``."""
    report = AuditReport()
    verifier = Verifier.from_key(verifier_key)
    try:
        head = parse_checkpoint(open_note(fetch("checkpoint"), [verifier]))
    except BattraceError as exc:
        report.problems.append(f"checkpoint: {exc.message}")
        return report
    leaves: list[bytes] = []
    try:
        for ref in tiles_for_size(head.size):
            if ref.level == 0:
                bundle = decode_entry_bundle(fetch(TileRef(None, ref.index, ref.width).path()))
                if len(bundle) != ref.width:
                    report.problems.append(f"{ref.path()}: entry bundle has {len(bundle)} entries")
                    return report
                leaves.extend(leaf_hash(entry) for entry in bundle)
    except BattraceError as exc:
        report.problems.append(exc.message)
        return report
    report.leaves = len(leaves)
    levels = node_hashes_for_leaves(leaves)
    root = root_from_nodes(head.size, lambda level, index: levels[level][index])
    if root != head.root_hash:
        report.problems.append("checkpoint: root does not match the leaves the tiles serve")
        return report
    report.checkpoints = 1
    for ref in tiles_for_size(head.size):
        if ref.level is None:
            continue
        problem = _check_tile(fetch, ref, levels)
        if problem is not None:
            report.problems.append(problem)
            return report
    for i, note in enumerate(extra_checkpoints):
        label = f"given checkpoint {i + 1}"
        try:
            older = parse_checkpoint(open_note(note, [verifier]))
        except BattraceError as exc:
            report.problems.append(f"{label}: {exc.message}")
            continue
        if older.size > head.size:
            report.problems.append(f"{label}: size {older.size} is beyond the log ({head.size})")
        elif root_from_nodes(older.size, lambda lv, ix: levels[lv][ix]) != older.root_hash:
            report.problems.append(f"{label}: root does not match: the log was rewritten")
        else:
            report.checkpoints += 1
    return report


def _check_tile(fetch: Fetch, ref: TileRef, levels: list[list[bytes]]) -> str | None:
    assert ref.level is not None
    level = ref.level * TILE_HEIGHT
    first = ref.index * TILE_WIDTH
    expected = levels[level][first : first + ref.width] if level < len(levels) else []
    try:
        served = split_tile(fetch(ref.path()))
    except BattraceError as exc:
        return f"{ref.path()}: {exc.message}"
    if served != expected:
        return f"{ref.path()}: hashes do not match the leaves"
    return None
