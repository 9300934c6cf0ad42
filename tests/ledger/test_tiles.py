"""Tests for battrace.ledger.tiles (c2sp.org/tlog-tiles paths, widths, tile and bundle bytes)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from battrace.errors import ValidationError
from battrace.ledger.tiles import (
    TILE_WIDTH,
    TileRef,
    decode_entry_bundle,
    encode_entry_bundle,
    encode_tile_index,
    entry_bundle_path,
    new_tiles,
    parse_tile_path,
    split_tile,
    tile_bytes,
    tile_path,
    tile_width,
    tiles_for_size,
)
from battrace.ledger.tree import node_hashes_for_leaves, root_from_leaf_hashes
from tests.ledger.trees import shared_log


# The spec's example (1234067), and cases from transparency-dev/tessera api/layout tests.
@pytest.mark.parametrize(
    ("index", "encoded"),
    [
        (0, "000"),
        (5, "005"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),
        (999999999999999999, "x999/x999/x999/x999/x999/999"),
    ],
)
def test_tile_index_encoding(index: int, encoded: str) -> None:
    assert encode_tile_index(index) == encoded


def test_paths() -> None:
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(0, 1234067, 256) == "tile/0/x001/x234/067"
    assert tile_path(1, 273, 17) == "tile/1/273.p/17"
    assert tile_path(2, 0, 1) == "tile/2/000.p/1"
    assert entry_bundle_path(1234067, 89) == "tile/entries/x001/x234/067.p/89"
    assert entry_bundle_path(1_000_000) == "tile/entries/x001/x000/000"


@pytest.mark.parametrize(
    ("level", "index", "width"),
    [(64, 0, None), (-1, 0, None), (0, -1, None), (0, 0, 0), (0, 0, 257)],
)
def test_bad_path_arguments(level: int, index: int, width: int | None) -> None:
    with pytest.raises(ValidationError):
        tile_path(level, index, width)


@given(st.one_of(st.none(), st.integers(0, 63)), st.integers(0, 10**20), st.integers(1, 256))
def test_path_round_trip(level: int | None, index: int, width: int) -> None:
    ref = TileRef(level, index, width)
    assert parse_tile_path(ref.path()) == ref
    assert ref.is_partial == (width < TILE_WIDTH)


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1234067",
        "tile/0/001/234/067",
        "tile/0/x001/x234/x067",
        "tile/0/x000/001",  # leading zero group
        "tile/0/67",
        "tile/00/000",
        "tile/64/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/08",
        "tile/0/000.p/",
        "tile/data/000",
        "tiles/0/000",
        "tile/0",
        "tile/entries/x001",
    ],
)
def test_parse_rejects_non_canonical_paths(path: str) -> None:
    with pytest.raises(ValidationError):
        parse_tile_path(path)


def test_spec_example_tree_of_70000() -> None:
    tiles = list(tiles_for_size(70_000))
    assert [t for t in tiles if t.is_partial] == [
        TileRef(0, 273, 112),
        TileRef(1, 1, 17),
        TileRef(2, 0, 1),
    ]
    assert sum(1 for t in tiles if t.level == 0 and not t.is_partial) == 273
    assert sum(1 for t in tiles if t.level == 1 and not t.is_partial) == 1
    assert list(tiles_for_size(256)) == [TileRef(0, 0), TileRef(1, 0, 1)]
    assert list(tiles_for_size(0)) == []
    assert tile_width(0, 273, 70_000) == 112
    assert tile_width(0, 274, 70_000) == 0
    assert tile_width(1, 0, 70_000) == 256


# golang.org/x/mod sumdb/tlog tile_test.go TestNewTilesForSize uses tile height 10; these are
# the same cases scaled to height 8 (1024 -> 256).
@pytest.mark.parametrize(
    ("old", "new", "count"),
    [(1, 1, 0), (100, 101, 1), (255, 257, 3), (256, 262, 1), (262, 500, 1), (262, 2560, 10)],
)
def test_new_tiles_counts(old: int, new: int, count: int) -> None:
    assert len(new_tiles(old, new)) == count


@given(st.integers(0, 200_000), st.integers(0, 200_000))
def test_new_tiles_are_the_changed_tiles(a: int, b: int) -> None:
    old, new = min(a, b), max(a, b)
    before = {(t.level, t.index): t.width for t in tiles_for_size(old)}
    after = {(t.level, t.index): t for t in tiles_for_size(new)}
    changed = [t for key, t in after.items() if before.get(key) != t.width]
    assert sorted(new_tiles(old, new), key=lambda t: (t.level, t.index)) == sorted(
        changed, key=lambda t: (t.level or 0, t.index)
    )


def test_new_tiles_rejects_shrinking() -> None:
    with pytest.raises(ValidationError):
        new_tiles(5, 4)


def test_tile_bytes_are_node_hashes_of_level_8l() -> None:
    leaves = [bytes([i % 256]) * 32 for i in range(256 * 3 + 5)]
    levels = node_hashes_for_leaves(leaves)

    def get_node(level: int, index: int) -> bytes:
        return levels[level][index]

    data = tile_bytes(0, 1, 256, get_node)
    assert split_tile(data) == leaves[256:512]
    partial = tile_bytes(0, 3, 5, get_node)
    assert split_tile(partial) == leaves[768:773]
    level1 = split_tile(tile_bytes(1, 0, 3, get_node))
    # Each level-1 tile hash is the root of one full level-0 tile.
    assert level1 == [root_from_leaf_hashes(leaves[i * 256 : (i + 1) * 256]) for i in range(3)]


def test_tile_bytes_from_the_shared_log() -> None:
    log = shared_log()
    assert split_tile(tile_bytes(0, 0, 256, log.get_node)) == log.leaf_hashes[:256]
    assert split_tile(tile_bytes(1, 0, 1, log.get_node)) == [log.roots[256]]


@pytest.mark.parametrize("data", [b"", b"x" * 31, b"x" * 33, b"x" * 32 * 257])
def test_split_tile_rejects_bad_sizes(data: bytes) -> None:
    with pytest.raises(ValidationError):
        split_tile(data)


def test_tile_bytes_rejects_bad_hash() -> None:
    with pytest.raises(ValidationError):
        tile_bytes(0, 0, 2, lambda level, index: b"short")


def test_entry_bundle_format() -> None:
    assert (
        encode_entry_bundle([b"", b"ab", b"\x00" * 3]) == b"\x00\x00\x00\x02ab\x00\x03\x00\x00\x00"
    )


@given(st.lists(st.binary(max_size=600), max_size=256))
def test_entry_bundle_round_trip(entries: list[bytes]) -> None:
    assert decode_entry_bundle(encode_entry_bundle(entries)) == entries


@pytest.mark.parametrize("data", [b"\x00", b"\x00\x05abc", b"\x00\x00" * 257])
def test_entry_bundle_decode_rejects(data: bytes) -> None:
    with pytest.raises(ValidationError):
        decode_entry_bundle(data)


def test_entry_bundle_encode_rejects() -> None:
    with pytest.raises(ValidationError):
        encode_entry_bundle([b"x" * 65536])
    with pytest.raises(ValidationError):
        encode_entry_bundle([b""] * 257)
