"""What the log holds for each event: canonical event bytes, a salted commitment, the leaf.

The log is public; events are not. So a leaf carries only a *commitment* to its event,
``SHA-256(salt || event_bytes)`` with a secret 32-byte salt per event, plus (when the report was
signed) the reporting key's id and signature. Anyone can audit the tree; whoever may read an
event (and its salt) can recompute its leaf and prove it is in the log.

Encoding v1 (docs/log-format.md):

- ``event_bytes``: UTF-8 JSON, keys sorted, no spaces, of the stored event with ``"v": 1``:
  ``id, type, batteries, actor, counterparty, occurred_at, reported_at, place, ref, corrects,
  body``. Values are strings, integers, null, lists and objects: never floats (quantities are
  decimal strings, times fixed-width UTC text).
- ``leaf``: UTF-8 JSON, keys sorted, no spaces: ``{"c": "<hex commitment>", "v": 1}`` and,
  for a signed report, ``"k": "<key id>"`` and ``"s": "<base64 signature>"``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from battrace.errors import ValidationError

LEAF_VERSION = 1
SALT_SIZE = 32
EVENT_FIELDS = (
    "id",
    "type",
    "batteries",
    "actor",
    "counterparty",
    "occurred_at",
    "reported_at",
    "place",
    "ref",
    "corrects",
    "body",
)


def event_bytes(fields: Mapping[str, Any]) -> bytes:
    """The canonical bytes of one stored event (encoding v1).

    ``fields`` holds exactly :data:`EVENT_FIELDS`; ``batteries`` and ``body`` may be given as
    ``orjson.Fragment`` of their canonical JSON text (what the store keeps), which gives the
    same bytes as the decoded values. Floats are the caller's to keep out (they have no single
    canonical text): the platform stores quantities as decimal strings, which
    ``tests/services/test_log.py`` checks on every stored event. Raises ``TypeError`` for a
    value JSON cannot encode.
    """
    if fields.get("v") == LEAF_VERSION:  # the caller already added it (the bulk path does)
        return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    data = dict(fields)
    data["v"] = LEAF_VERSION
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def commitment(salt: bytes, encoded_event: bytes) -> bytes:
    """``SHA-256(salt || event_bytes)``: hides the event, binds the log to it.

    Security: hiding rests on the salt being secret and random (32 bytes from the OS).
    """
    if len(salt) != SALT_SIZE:
        raise ValidationError(f"salt must be {SALT_SIZE} bytes", field="salt", rule="salt_size")
    return hashlib.sha256(salt + encoded_event).digest()


@dataclass(frozen=True, slots=True)
class Leaf:
    """A decoded leaf: the commitment and, for a signed report, key id and signature."""

    commitment: bytes
    key_id: str | None = None
    signature: bytes | None = None

    def to_bytes(self) -> bytes:
        # written out by hand (keys in sorted order) because the auditor rebuilds every leaf;
        # test_leaf checks it equals the canonical JSON encoding
        head = b'{"c":"' + self.commitment.hex().encode() + b'"'
        if self.key_id is not None and self.signature is not None:
            head += b',"k":' + orjson.dumps(self.key_id)
            head += b',"s":"' + base64.b64encode(self.signature) + b'"'
        return head + b',"v":1}'

    def canonical_json(self) -> bytes:
        """The same bytes as :meth:`to_bytes`, through the JSON encoder (for tests)."""
        data: dict[str, Any] = {"c": self.commitment.hex(), "v": LEAF_VERSION}
        if self.key_id is not None and self.signature is not None:
            data["k"] = self.key_id
            data["s"] = base64.b64encode(self.signature).decode()
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def leaf_bytes(commit: bytes, key_id: str | None = None, signature: bytes | None = None) -> bytes:
    """The exact leaf bytes whose RFC 9162 leaf hash goes into the tree."""
    if key_id is None:
        return b'{"c":"' + commit.hex().encode() + b'","v":1}'  # = Leaf(commit).to_bytes()
    return Leaf(commit, key_id, signature).to_bytes()


def parse_leaf(data: bytes) -> Leaf:
    """Decode leaf bytes; raises ``ValidationError`` (field ``leaf``) if they are not a v1 leaf
    in canonical form."""
    try:
        obj = orjson.loads(data)
        if not isinstance(obj, dict) or obj.get("v") != LEAF_VERSION:
            raise ValueError("not a version 1 leaf")
        leaf = Leaf(
            bytes.fromhex(obj["c"]),
            obj.get("k"),
            base64.b64decode(obj["s"], validate=True) if "s" in obj else None,
        )
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
        raise ValidationError(f"leaf: {exc}", field="leaf", rule="leaf_format") from None
    if len(leaf.commitment) != 32 or leaf.to_bytes() != data:
        raise ValidationError("leaf: not in canonical form", field="leaf", rule="leaf_format")
    return leaf
