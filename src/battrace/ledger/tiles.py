"""C2SP ``tlog-tiles`` layout: tile paths, which tiles a tree has, tile and bundle bytes.

A tile of tile-level ``L`` and index ``N`` holds up to 256 consecutive hashes of Merkle level
``8 * L``: hash ``i`` is the perfect subtree :class:`~battrace.ledger.tree.NodeId`
``(8 * L, N * 256 + i)``. A full tile is 256 hashes (8,192 bytes); the rightmost tile of a
level is *partial* (1 to 255 hashes) and its path ends in ``.p/<W>``. Entry bundles are the
level-0 tiles' entries, each a big-endian uint16 length then the entry bytes.
Paths encode ``N`` as 3-digit groups, all but the last prefixed with ``x``: 1234067 is
``x001/x234/067`` (c2sp.org/tlog-tiles).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from battrace.errors import ValidationError
from battrace.ledger.hasher import HASH_SIZE
from battrace.ledger.tree import GetNode

__all__ = [
    "MAX_ENTRY_SIZE",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileRef",
    "decode_entry_bundle",
    "encode_entry_bundle",
    "encode_tile_index",
    "entry_bundle_path",
    "new_tiles",
    "parse_tile_path",
    "split_tile",
    "tile_bytes",
    "tile_path",
    "tile_width",
    "tiles_for_size",
]

TILE_HEIGHT = 8
"""Merkle levels per tile level."""

TILE_WIDTH = 1 << TILE_HEIGHT
"""Hashes in a full tile (256)."""

MAX_TILE_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF
"""Largest entry an entry bundle can hold (uint16 length prefix)."""

_GROUP = re.compile(r"[0-9]{3}", re.ASCII)
_DECIMAL = re.compile(r"0|[1-9][0-9]*", re.ASCII)


def _invalid(field: str, message: str, rule: str) -> ValidationError:
    return ValidationError(message, field=field, rule=rule)


def _check_width(width: int) -> None:
    if not 1 <= width <= TILE_WIDTH:
        raise _invalid("width", f"tile width {width} is not in 1..{TILE_WIDTH}", "tile_width")


def encode_tile_index(index: int) -> str:
    """The ``<N>`` path part: 3-digit groups, all but the last prefixed with ``x``.

    Raises :class:`ValidationError` for a negative index.
    """
    if index < 0:
        raise _invalid("index", f"tile index {index} is negative", "negative")
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


def _suffix(width: int | None) -> str:
    if width is None or width == TILE_WIDTH:
        return ""
    _check_width(width)
    return f".p/{width}"


def tile_path(level: int, index: int, width: int | None = None) -> str:
    """The path of a Merkle tile: ``tile/<L>/<N>`` or ``tile/<L>/<N>.p/<W>`` when partial.

    Inputs: the tile level (0..63), the tile index, and the width (None or 256 for a full
    tile). Raises :class:`ValidationError` for a value out of range.
    """
    if not 0 <= level <= MAX_TILE_LEVEL:
        raise _invalid("level", f"tile level {level} is not in 0..63", "tile_level")
    return f"tile/{level}/{encode_tile_index(index)}{_suffix(width)}"


def entry_bundle_path(index: int, width: int | None = None) -> str:
    """The path of an entry bundle: ``tile/entries/<N>`` or ``tile/entries/<N>.p/<W>``.

    Raises :class:`ValidationError` for a negative index or a width outside 1..256.
    """
    return f"tile/entries/{encode_tile_index(index)}{_suffix(width)}"


@dataclass(frozen=True)
class TileRef:
    """One tile (``level`` >= 0) or entry bundle (``level`` is None) of a given width."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if self.level is not None and not 0 <= self.level <= MAX_TILE_LEVEL:
            raise _invalid("level", f"tile level {self.level} is not in 0..63", "tile_level")
        if self.index < 0:
            raise _invalid("index", f"tile index {self.index} is negative", "negative")
        _check_width(self.width)

    @property
    def is_partial(self) -> bool:
        """Whether the tile holds fewer than 256 hashes."""
        return self.width < TILE_WIDTH

    def path(self) -> str:
        """The tile's path (see :func:`tile_path` and :func:`entry_bundle_path`)."""
        if self.level is None:
            return entry_bundle_path(self.index, self.width)
        return tile_path(self.level, self.index, self.width)


def parse_tile_path(path: str) -> TileRef:
    """Parse a tile or entry bundle path strictly (inverse of :meth:`TileRef.path`).

    Raises :class:`ValidationError` (field ``path``) for anything :meth:`TileRef.path` would
    not write: leading zeros in level or width, a width of 256 written out, missing ``x``
    prefixes, groups that are not 3 digits, or an index with a leading zero group.
    """
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise _invalid("path", f"not a tile path: {path!r}", "tile_path")
    level: int | None
    if parts[1] == "entries":
        level = None
    elif _DECIMAL.fullmatch(parts[1]) and int(parts[1]) <= MAX_TILE_LEVEL:
        level = int(parts[1])
    else:
        raise _invalid("path", f"bad tile level in {path!r}", "tile_path")
    groups = parts[2:]
    width = TILE_WIDTH
    if len(groups) >= 2 and groups[-2].endswith(".p"):
        width_text = groups[-1]
        if not _DECIMAL.fullmatch(width_text) or not 1 <= int(width_text) < TILE_WIDTH:
            raise _invalid("path", f"bad partial width in {path!r}", "tile_path")
        width = int(width_text)
        groups = [*groups[:-2], groups[-2][: -len(".p")]]
    index = 0
    for position, group in enumerate(groups):
        last = position == len(groups) - 1
        digits = group if last else group.removeprefix("x")
        if (not last and not group.startswith("x")) or not _GROUP.fullmatch(digits):
            raise _invalid("path", f"bad tile index in {path!r}", "tile_path")
        index = index * 1000 + int(digits)
    ref = TileRef(level, index, width)
    if ref.path() != path:
        raise _invalid("path", f"non-canonical tile path {path!r}", "tile_path")
    return ref


def tile_width(level: int, index: int, size: int) -> int:
    """How many hashes tile ``(level, index)`` holds in a tree of ``size`` leaves (0..256).

    Also the number of entries of entry bundle ``index`` when ``level`` is 0.
    """
    count = size >> (TILE_HEIGHT * level)
    return max(0, min(TILE_WIDTH, count - index * TILE_WIDTH))


def tiles_for_size(size: int) -> Iterator[TileRef]:
    """Every tile of a tree of ``size`` leaves, level 0 first, left to right.

    Yields the full tiles and, per level, the partial tile when there is one. A tree of 70,000
    leaves has 273 full and one 112-wide tile at level 0, one full and one 17-wide at level 1,
    and one 1-wide at level 2. Entry bundles match the level-0 tiles one to one.
    """
    if size < 0:
        raise _invalid("size", f"tree size {size} is negative", "negative")
    level = 0
    while (count := size >> (TILE_HEIGHT * level)) > 0:
        full, rest = divmod(count, TILE_WIDTH)
        for index in range(full):
            yield TileRef(level, index)
        if rest:
            yield TileRef(level, full, rest)
        level += 1


def new_tiles(old_size: int, new_size: int) -> list[TileRef]:
    """The tiles that appear or grow when the tree grows from ``old_size`` to ``new_size``.

    These are the tiles a log must (re)publish after the append, with their new widths; the
    entry bundles to publish are the level-0 ones. Raises :class:`ValidationError` when
    ``old_size > new_size``.
    """
    if not 0 <= old_size <= new_size:
        raise _invalid("old_size", f"tree cannot go from {old_size} to {new_size}", "size_order")
    tiles: list[TileRef] = []
    level = 0
    while (new_size >> (TILE_HEIGHT * level)) > 0:
        new_count = new_size >> (TILE_HEIGHT * level)
        old_count = old_size >> (TILE_HEIGHT * level)
        for index in range(old_count // TILE_WIDTH, -(-new_count // TILE_WIDTH)):
            width = tile_width(level, index, new_size)
            if width != tile_width(level, index, old_size):
                tiles.append(TileRef(level, index, width))
        level += 1
    return tiles


def tile_bytes(level: int, index: int, width: int, get_node: GetNode) -> bytes:
    """The content of tile ``(level, index)`` of ``width`` hashes: the hashes concatenated.

    Hash ``i`` is ``get_node(8 * level, index * 256 + i)``. Raises :class:`ValidationError`
    for a width outside 1..256 or a hash that is not 32 bytes.
    """
    _check_width(width)
    merkle_level = TILE_HEIGHT * level
    first = index * TILE_WIDTH
    hashes = [get_node(merkle_level, first + i) for i in range(width)]
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise _invalid("tile", f"hash of {len(h)} bytes, want {HASH_SIZE}", "hash_size")
    return b"".join(hashes)


def split_tile(data: bytes) -> list[bytes]:
    """The hashes of a tile's bytes. Raises :class:`ValidationError` unless 1..256 hashes."""
    count, rest = divmod(len(data), HASH_SIZE)
    if rest or not 1 <= count <= TILE_WIDTH:
        raise _invalid("tile", f"tile of {len(data)} bytes is not 1..256 hashes", "tile_size")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length then its bytes.

    Raises :class:`ValidationError` for more than 256 entries or an entry over 65,535 bytes.
    """
    if len(entries) > TILE_WIDTH:
        raise _invalid("entries", f"{len(entries)} entries exceed a bundle", "bundle_size")
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise _invalid("entries", f"entry of {len(entry)} bytes is too long", "entry_size")
        out += len(entry).to_bytes(2, "big")
        out += entry
    return bytes(out)


def decode_entry_bundle(data: bytes) -> list[bytes]:
    """The entries of an entry bundle (inverse of :func:`encode_entry_bundle`).

    Raises :class:`ValidationError` for a truncated length or entry, or more than 256 entries.
    """
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise _invalid("bundle", "truncated entry length", "bundle_format")
        length = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if pos + length > len(data):
            raise _invalid("bundle", "truncated entry", "bundle_format")
        entries.append(data[pos : pos + length])
        pos += length
        if len(entries) > TILE_WIDTH:
            raise _invalid("bundle", "more than 256 entries", "bundle_size")
    return entries
