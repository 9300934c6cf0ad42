"""The log in the event path: leaves, nodes, checkpoints and proofs (on both engines)."""

from __future__ import annotations

import base64

import pytest

from battrace.errors import ValidationError
from battrace.ledger.checkpoint import parse_checkpoint
from battrace.ledger.hasher import leaf_hash
from battrace.ledger.leaf import parse_leaf
from battrace.ledger.note import Verifier, open_note
from battrace.ledger.verify import verify_consistency, verify_inclusion
from battrace.services import log
from battrace.services.demo import load_demo
from battrace.services.reporting import report_event
from battrace.store import Store
from tests.builders import code, produced


@pytest.fixture
def logged(store: Store) -> Store:
    load_demo(store, 40, log_policy=log.CheckpointPolicy(every_leaves=100, every_seconds=3600))
    return store


def _checkpoint_root(store: Store, size: int) -> bytes:
    verifier = Verifier.from_key(log.log_verifier_key(store))
    note = next(c.note for c in store.checkpoints() if c.size == size)
    return parse_checkpoint(open_note(note, [verifier])).root_hash


def test_every_event_is_a_leaf(logged: Store) -> None:
    events = logged.count("events")
    assert logged.log_size() == events
    sizes = [c.size for c in logged.checkpoints()]
    assert sizes == list(range(100, events + 1, 100))  # one every 100 leaves


def test_leaf_reveals_no_business(logged: Store) -> None:
    data = log.leaf(logged, 0)
    raw = base64.b64decode(data["leaf"])
    parsed = parse_leaf(raw)
    assert len(parsed.commitment) == 32
    event = data["event"]
    for secret in (event["actor"], *event["batteries"], event["type"]):
        assert secret.encode() not in raw
    assert "salt" not in event


def test_inclusion_proofs_verify_against_signed_root(logged: Store) -> None:
    size = logged.checkpoints()[-1].size
    root = _checkpoint_root(logged, size)
    for index in (0, 1, size // 2, size - 1):
        proof = log.inclusion(logged, index, size)
        assert proof["tree_size"] == size
        leaf = logged.event(index + 1)
        assert leaf is not None
        assert leaf.leaf is not None
        assert proof["leaf_hash"] == leaf_hash(leaf.leaf).hex()
        hashes = [bytes.fromhex(h) for h in proof["hashes"]]
        verify_inclusion(leaf_hash(leaf.leaf), index, size, hashes, root)
    # the default size is the latest published checkpoint
    assert log.inclusion(logged, 0)["tree_size"] == size


def test_consistency_proofs_verify(logged: Store) -> None:
    sizes = [c.size for c in logged.checkpoints()]
    old, new = sizes[0], sizes[-1]
    proof = log.consistency(logged, old, new)
    assert (proof["old_size"], proof["new_size"]) == (old, new)
    verify_consistency(
        old,
        new,
        _checkpoint_root(logged, old),
        _checkpoint_root(logged, new),
        [bytes.fromhex(h) for h in proof["hashes"]],
    )


def test_proof_errors_name_the_field(logged: Store) -> None:
    size = logged.log_size()
    with pytest.raises(ValidationError) as info:
        log.inclusion(logged, size + 5, size)
    assert info.value.field == "index"
    with pytest.raises(ValidationError) as info:
        log.inclusion(logged, 0, size + 1)
    assert info.value.field == "size"
    with pytest.raises(ValidationError) as info:
        log.consistency(logged, 10, 5)
    assert info.value.rule == "size_order"


def test_current_checkpoint_catches_up(logged: Store, firms) -> None:  # type: ignore[no-untyped-def]
    report_event(logged, produced(firms["battery_maker"], [code(n=9_000_000)]))
    checkpoint = log.current_checkpoint(logged)
    assert checkpoint.size == logged.log_size()
    verifier = Verifier.from_key(log.log_verifier_key(logged))
    body = parse_checkpoint(open_note(checkpoint.note, [verifier]))
    assert body.root_hash == log.tree_root(logged, checkpoint.size)
    assert body.origin == log.log_origin(logged)
    assert log.current_checkpoint(logged) == checkpoint  # nothing new, nothing published


def test_signer_key_from_file(tmp_path, sqlite_store: Store) -> None:  # type: ignore[no-untyped-def]
    from battrace.ledger.note import generate_signer

    signer, verifier = generate_signer("example.org-log")
    key_file = tmp_path / "log.key"
    key_file.write_text(signer)
    assert log.log_verifier_key(sqlite_store, str(key_file)) == verifier
    with pytest.raises(ValidationError, match="BATTRACE_LOG_KEY_FILE"):
        log.log_signer(sqlite_store, str(tmp_path / "missing.key"))


def test_tiles_agree_with_the_tree(logged: Store) -> None:
    from battrace.ledger.tiles import (
        TileRef,
        decode_entry_bundle,
        split_tile,
        tiles_for_size,
    )
    from battrace.ledger.tree import root_from_leaf_hashes

    size = logged.checkpoints()[-1].size
    refs = list(tiles_for_size(size))
    leaves: list[bytes] = []
    for ref in refs:
        if ref.level == 0:  # each level-0 tile has the entry bundle of the same leaves
            bundle = TileRef(None, ref.index, ref.width).path()
            leaves += decode_entry_bundle(log.tile(logged, bundle))
    assert len(leaves) == size
    assert root_from_leaf_hashes([leaf_hash(x) for x in leaves]) == _checkpoint_root(logged, size)
    level0 = [h for r in refs if r.level == 0 for h in split_tile(log.tile(logged, r.path()))]
    assert level0 == [leaf_hash(x) for x in leaves]
    level1 = [h for r in refs if r.level == 1 for h in split_tile(log.tile(logged, r.path()))]
    stored = logged.log_node_range(8, 0, size // 256)
    assert level1 == [stored[i] for i in sorted(stored)]


def test_tile_errors(logged: Store) -> None:
    from battrace.errors import NotFoundError

    with pytest.raises(ValidationError):
        log.tile(logged, "tile/0/1234")
    with pytest.raises(NotFoundError):
        log.tile(logged, "tile/0/x001/000")


def test_stored_events_hold_no_floats(logged: Store) -> None:
    def floats(value: object) -> bool:
        if isinstance(value, float):
            return True
        if isinstance(value, dict):
            return any(floats(v) for v in value.values())
        if isinstance(value, list):
            return any(floats(v) for v in value)
        return False

    events = list(logged.iter_events())
    assert any(e.type == "recycled" for e in events)  # quantities are present ...
    assert not any(floats(e.to_dict()) for e in events)  # ... as decimal strings
