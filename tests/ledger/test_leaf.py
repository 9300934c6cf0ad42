"""Leaf and event encoding v1: canonical, round-trips, hand-written fast paths match the encoder."""

from __future__ import annotations

import hashlib

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from battrace.errors import ValidationError
from battrace.ledger.leaf import (
    SALT_SIZE,
    Leaf,
    commitment,
    event_bytes,
    leaf_bytes,
    parse_leaf,
)

FIELDS = {
    "id": 7,
    "type": "shipped",
    "batteries": ["N1DPBA1TEST001E3F0000001"],
    "actor": "91350900000000019P",
    "counterparty": "91310000000000035E",
    "occurred_at": "2024-04-01T01:00:00.000000Z",
    "reported_at": "2024-04-02T01:00:00.000000Z",
    "place": "350900",
    "ref": None,
    "corrects": None,
    "body": {"z": "1", "a": {"y": "2", "b": "3"}},
}


def test_event_bytes_are_canonical() -> None:
    data = event_bytes(FIELDS)
    assert data.startswith(b'{"actor":')
    assert b" " not in data
    assert orjson.loads(data) == {**FIELDS, "v": 1}
    assert data.index(b'"a":{"b":"3","y":"2"}') > 0  # nested keys sorted too


def test_fragments_give_the_same_bytes() -> None:
    stored = {
        **FIELDS,
        "batteries": orjson.Fragment(orjson.dumps(FIELDS["batteries"])),
        "body": orjson.Fragment(orjson.dumps(FIELDS["body"], option=orjson.OPT_SORT_KEYS)),
    }
    assert event_bytes(stored) == event_bytes(FIELDS)
    assert event_bytes({**stored, "v": 1}) == event_bytes(FIELDS)


def test_commitment_hides_with_salt() -> None:
    salt = bytes(range(SALT_SIZE))
    data = event_bytes(FIELDS)
    assert commitment(salt, data) == hashlib.sha256(salt + data).digest()
    assert commitment(bytes(SALT_SIZE), data) != commitment(salt, data)
    with pytest.raises(ValidationError, match="salt"):
        commitment(b"short", data)


@given(
    st.binary(min_size=32, max_size=32),
    st.one_of(st.none(), st.tuples(st.text(min_size=1, max_size=20), st.binary(max_size=64))),
)
def test_leaf_round_trip_and_fast_path(digest: bytes, signed: tuple[str, bytes] | None) -> None:
    key, sig = signed if signed else (None, None)
    leaf = Leaf(digest, key, sig)
    assert leaf.to_bytes() == leaf.canonical_json()
    assert leaf_bytes(digest, key, sig) == leaf.to_bytes()
    assert parse_leaf(leaf.to_bytes()) == leaf


@pytest.mark.parametrize(
    "bad",
    [b"", b"{}", b'{"c":"00","v":1}', b'{"v":2,"c":"' + b"0" * 64 + b'"}', b'{"v": 1, "c": "x"}'],
)
def test_bad_leaves(bad: bytes) -> None:
    with pytest.raises(ValidationError) as info:
        parse_leaf(bad)
    assert info.value.field == "leaf"


def test_non_canonical_leaf_is_refused() -> None:
    good = leaf_bytes(bytes(32))
    spaced = good.replace(b",", b", ")
    with pytest.raises(ValidationError, match="canonical"):
        parse_leaf(spaced)
