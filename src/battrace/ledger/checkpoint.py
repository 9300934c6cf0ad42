"""The C2SP ``tlog-checkpoint`` note body: origin, tree size and root hash.

::

    example.com/battrace
    20852163
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

One line each, every line ending in a newline, optionally followed by non-empty extension
lines. The text is what a :mod:`battrace.ledger.note` signature covers, byte for byte, as in
golang.org/x/mod/sumdb/note and transparency-dev tooling (c2sp.org/tlog-checkpoint).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from battrace.errors import ValidationError
from battrace.ledger.hasher import HASH_SIZE

__all__ = ["MAX_TREE_SIZE", "Checkpoint", "parse_checkpoint"]

MAX_TREE_SIZE = 2**64 - 1
"""Largest size Go and transparency-dev tooling can read (uint64)."""

_SIZE = re.compile(r"0|[1-9][0-9]*", re.ASCII)


def _fail(message: str, rule: str) -> ValidationError:
    return ValidationError(f"checkpoint: {message}", field="checkpoint", rule=rule)


def _check_line(what: str, line: str) -> None:
    if not line:
        raise _fail(f"the {what} line is empty", "empty_line")
    if any(ord(ch) < 0x20 for ch in line):
        raise _fail(f"the {what} line has a control character", "control_character")


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: who (``origin``), how many leaves (``size``) and their ``root_hash``.

    Raises :class:`ValidationError` (field ``checkpoint``) on construction when a field breaks
    the format: empty origin or extension line, a control character, a size outside
    ``0..2**64-1``, or a root hash that is not 32 bytes.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line("origin", self.origin)
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise _fail(f"tree size {self.size} is outside 0..2**64-1", "size")
        if len(self.root_hash) != HASH_SIZE:
            raise _fail(f"root hash has {len(self.root_hash)} bytes, want {HASH_SIZE}", "hash")
        for line in self.extensions:
            _check_line("extension", line)

    def to_text(self) -> str:
        """The note text: ``origin``, ``size``, base64 root and extension lines, each + ``\\n``."""
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root_hash).decode("ascii"),
            *self.extensions,
        ]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note text strictly (the text of an opened note, signatures removed).

    Inputs: the text, ending in a newline. Output: the :class:`Checkpoint`, whose
    :meth:`~Checkpoint.to_text` gives back exactly ``text``. Raises :class:`ValidationError`
    (field ``checkpoint``) for fewer than three lines, a missing final newline, an empty line,
    a control character, a size with a sign, leading zeros or beyond uint64, or a root that is
    not canonical standard base64 of 32 bytes.
    Security: parse only text whose signature :func:`battrace.ledger.note.open_note` verified.
    """
    if not text.endswith("\n"):
        raise _fail("text must end with a newline", "final_newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise _fail(f"need origin, size and root lines, got {len(lines)} line(s)", "line_count")
    origin, size_line, root_line, *extensions = lines
    _check_line("origin", origin)
    _check_line("size", size_line)
    _check_line("root hash", root_line)
    if not _SIZE.fullmatch(size_line):
        raise _fail(f"tree size {size_line!r} is not a decimal without leading zeros", "size")
    size = int(size_line)
    try:
        root = base64.b64decode(root_line, validate=True)
    except binascii.Error as exc:
        raise _fail(f"root hash {root_line!r} is not standard base64", "hash") from exc
    if base64.b64encode(root).decode("ascii") != root_line:
        raise _fail(f"root hash {root_line!r} is not canonical base64", "hash")
    return Checkpoint(origin, size, root, tuple(extensions))
