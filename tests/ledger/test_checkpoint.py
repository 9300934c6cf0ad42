"""Tests for battrace.ledger.checkpoint (c2sp.org/tlog-checkpoint note text)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from battrace.errors import ValidationError
from battrace.ledger.checkpoint import MAX_TREE_SIZE, Checkpoint, parse_checkpoint

# The example of c2sp.org/tlog-checkpoint.
SPEC_TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def test_spec_example_parses_and_round_trips() -> None:
    checkpoint = parse_checkpoint(SPEC_TEXT)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.extensions == ()
    assert checkpoint.to_text() == SPEC_TEXT


def test_extension_lines_round_trip() -> None:
    text = SPEC_TEXT + "ext one\nTimestamp: 1700000000\n"
    checkpoint = parse_checkpoint(text)
    assert checkpoint.extensions == ("ext one", "Timestamp: 1700000000")
    assert checkpoint.to_text() == text


line = st.text(
    st.characters(min_codepoint=0x20, blacklist_categories=("Cs",)), min_size=1, max_size=30
)


@given(line, st.integers(0, MAX_TREE_SIZE), st.binary(min_size=32, max_size=32), st.lists(line))
def test_round_trip(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert parse_checkpoint(checkpoint.to_text()) == checkpoint


ROOT = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (SPEC_TEXT[:-1], "final_newline"),
        ("origin\n5\n", "line_count"),
        (f"\n5\n{ROOT}\n", "empty_line"),
        (f"origin\n\n{ROOT}\n", "empty_line"),
        (f"origin\n5\n{ROOT}\n\n", "empty_line"),
        (f"origin\n05\n{ROOT}\n", "size"),
        (f"origin\n+5\n{ROOT}\n", "size"),
        (f"origin\n-5\n{ROOT}\n", "size"),
        (f"origin\n 5\n{ROOT}\n", "size"),
        (f"origin\n٥\n{ROOT}\n", "size"),  # Arabic-Indic digit five
        (f"origin\n{2**64}\n{ROOT}\n", "size"),
        ("origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n", "hash"),
        ("origin\n5\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n", "hash"),
        ("origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n", "hash"),  # non-canonical
        ("origin\n5\nAAAA\n", "hash"),
        (f"ori\tgin\n5\n{ROOT}\n", "control_character"),
        (f"origin\r\n5\n{ROOT}\n", "control_character"),
    ],
)
def test_strict_parse_rejects(text: str, rule: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_checkpoint(text)
    assert raised.value.rule == rule
    assert raised.value.field == "checkpoint"


@pytest.mark.parametrize(
    "fields",
    [
        ("", 1, b"x" * 32, ()),
        ("o", -1, b"x" * 32, ()),
        ("o", 2**64, b"x" * 32, ()),
        ("o", 1, b"x" * 31, ()),
        ("o", 1, b"x" * 32, ("",)),
        ("o\nx", 1, b"x" * 32, ()),
    ],
)
def test_constructor_rejects_bad_fields(fields: tuple[str, int, bytes, tuple[str, ...]]) -> None:
    with pytest.raises(ValidationError):
        Checkpoint(*fields)
