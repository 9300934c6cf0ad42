"""JSON bodies the platform cannot hold are refused; the fast check of a decoded text refuses
exactly what the full walk refuses."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from battrace.api.bodies import MAX_DEPTH, batch_items, check_json_text, check_json_value
from battrace.errors import BattraceError, ValidationError


def _nested(depth: int) -> Any:
    """``depth`` containers, one in the other."""
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def _rule(check: Any, *args: Any) -> str | None:
    try:
        check(*args)
    except ValidationError as exc:
        return exc.rule
    return None


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ({"ref": "a\x00b"}, "text"),
        ({"a\x00": 1}, "text"),
        ({"n": 2**63}, "integer_range"),
        ({"n": -(2**63)}, "integer_range"),
        ([{"n": 18446744073709551615}], "integer_range"),
        (_nested(MAX_DEPTH + 1), "max_depth"),
        # what looks suspicious in the text but is fine
        ({"ref": "\\u0000"}, None),  # a backslash, then u0000: no NUL
        ({"ref": "1234567890123456789012"}, None),  # digits in a string
        ({"n": 2**63 - 1, "m": -(2**63) + 1}, None),
        ({"x": 1.5e300}, None),
        (_nested(MAX_DEPTH), None),
        ([], None),
        ("text", None),
    ],
)
def test_both_checks_refuse_the_same_bodies(value: Any, rule: str | None) -> None:
    raw = orjson.dumps(value)
    assert _rule(check_json_value, orjson.loads(raw), "body") == rule
    assert _rule(check_json_text, raw, orjson.loads(raw), "body") == rule


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)  # what orjson writes
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from("ab\x00\\u0 9")),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.text(alphabet=st.sampled_from("ab\x00"), max_size=2), children, max_size=3
        )
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_the_fast_check_agrees_with_the_full_walk(value: Any) -> None:
    raw = orjson.dumps(value)
    decoded = orjson.loads(raw)
    assert _rule(check_json_text, raw, decoded, "body") == _rule(check_json_value, decoded, "body")


def test_a_batch_item_too_deep_is_refused_with_its_line() -> None:
    good, deep = orjson.dumps({"a": 1}), orjson.dumps(_nested(MAX_DEPTH + 1))
    items = batch_items(good + b"\n" + deep + b"\n", "application/x-ndjson", 10)
    assert items[0].data == {"a": 1}
    error = items[1].data
    assert isinstance(error, BattraceError)
    assert (error.rule, items[1].line) == ("max_depth", 2)
