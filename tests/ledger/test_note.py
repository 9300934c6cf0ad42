"""Tests for battrace.ledger.note (c2sp.org/signed-note with Ed25519).

Known keys, signatures and malformed notes come from golang.org/x/mod sumdb/note/note_test.go
(TestNewVerifier, TestNewSigner, TestSign, TestOpen).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from battrace.errors import ValidationError
from battrace.ledger.checkpoint import Checkpoint, parse_checkpoint
from battrace.ledger.errors import SignatureError
from battrace.ledger.hasher import EMPTY_ROOT
from battrace.ledger.note import (
    NoteSignature,
    Signer,
    Verifier,
    generate_signer,
    key_hash,
    open_note,
    parse_note,
    sign_note,
    verifier_key,
)

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotp"
    "RZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox"
    "33WWd1RvMc+QQ=\n"
)

PETER = Verifier.from_key(PETER_VKEY)
ENOCH = Verifier.from_key(ENOCH_VKEY)


def test_known_keys_parse() -> None:
    assert (PETER.name, PETER.key_hash) == ("PeterNeumann", 0xC74F20A3)
    assert PETER.to_key() == PETER_VKEY
    signer = Signer.from_key(PETER_SKEY)
    assert (signer.name, signer.key_hash) == ("PeterNeumann", 0xC74F20A3)
    assert signer.verifier().to_key() == PETER_VKEY
    assert "AYEKF" not in repr(signer)


def test_sign_matches_go_byte_for_byte() -> None:
    assert sign_note(TEXT, Signer.from_key(PETER_SKEY)) == TEXT + "\n" + PETER_SIG


def test_open_known_notes() -> None:
    both = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(both, [PETER]) == TEXT
    assert open_note(both, [ENOCH]) == TEXT
    assert open_note(both.encode("utf-8"), [PETER, ENOCH]) == TEXT
    parsed = parse_note(both)
    assert parsed.text == TEXT
    assert [(s.name, s.key_hash) for s in parsed.signatures] == [
        ("PeterNeumann", 0xC74F20A3),
        ("EnochRoot", 0xAF0CFE78),
    ]
    assert "".join(s.to_line() for s in parsed.signatures) == PETER_SIG + ENOCH_SIG


def test_no_known_signature_is_rejected() -> None:
    with pytest.raises(SignatureError) as raised:
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])
    assert raised.value.rule == "no_known_signature"
    with pytest.raises(SignatureError):
        open_note(TEXT + "\n" + ENOCH_SIG, [PETER])


def test_ambiguous_known_key_is_rejected_only_when_it_signed() -> None:
    with pytest.raises(SignatureError) as raised:
        open_note(TEXT + "\n" + ENOCH_SIG, [ENOCH, PETER, ENOCH])
    assert raised.value.rule == "ambiguous_key"
    assert open_note(TEXT + "\n" + PETER_SIG, [ENOCH, PETER, ENOCH]) == TEXT


def test_bad_signature_by_known_key_rejects_the_note() -> None:
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(SignatureError, match=r"invalid signature for key PeterNeumann\+c74f20a3"):
        open_note(TEXT + "\n" + bad, [PETER])
    # A bad signature by an unknown key is ignored.
    bad_enoch = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    assert open_note(TEXT + "\n" + PETER_SIG + bad_enoch, [PETER]) == TEXT


def test_repeated_signatures_are_checked_once() -> None:
    note = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG
    assert open_note(note, [PETER]) == TEXT


def test_too_many_signatures_are_malformed() -> None:
    with pytest.raises(SignatureError) as raised:
        open_note(TEXT + "\n" + PETER_SIG * 101, [PETER])
    assert raised.value.rule == "malformed_note"
    assert open_note(TEXT + "\n" + PETER_SIG * 100, [PETER]) == TEXT


@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNX"
        "gKvqfqdngotpRZb6KE6RyyBwJnAM=",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG.replace("—", "-"),
        TEXT + "\n" + "— PeterNeumann\n",
        TEXT + "\n" + "— PeterNeumann AAAA\n",
        TEXT + "\n" + "— PeterNeumann not*base64\n",
        TEXT + "\n" + "— Peter+Neumann x08go/ZJ\n",
        TEXT + "\r\n" + PETER_SIG,
        "\ud800" + TEXT + "\n" + PETER_SIG,
    ],
)
def test_malformed_notes_are_rejected(note: str) -> None:
    with pytest.raises(SignatureError) as raised:
        open_note(note, [PETER])
    assert raised.value.rule == "malformed_note"


def test_invalid_utf8_bytes_are_malformed() -> None:
    with pytest.raises(SignatureError):
        open_note(b"\xff" + (TEXT + "\n" + PETER_SIG).encode("utf-8"), [PETER])


def test_verifier_key_manglings_are_rejected() -> None:
    # Every proper substring and every single-character change of the key must fail.
    for i in range(len(PETER_VKEY) + 1):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            if (i, j) != (0, len(PETER_VKEY)):
                with pytest.raises(ValidationError):
                    Verifier.from_key(PETER_VKEY[i:j])
    for i in range(len(PETER_VKEY)):
        mangled = PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        with pytest.raises(ValidationError):
            Verifier.from_key(mangled)


@pytest.mark.parametrize(
    ("vkey", "rule"),
    [
        # Wrong key length and unknown algorithm, each with a key hash adjusted to match.
        (
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
            "key_format",
        ),
        ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key_algorithm"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key_hash"),
    ],
)
def test_verifier_key_rules(vkey: str, rule: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Verifier.from_key(vkey)
    assert raised.value.rule == rule


def test_signer_key_manglings_are_rejected() -> None:
    for i in range(len(PETER_SKEY) + 1):
        for j in range(i + 1, len(PETER_SKEY) + 1):
            if (i, j) != (0, len(PETER_SKEY)):
                with pytest.raises(ValidationError):
                    Signer.from_key(PETER_SKEY[i:j])
    for i in range(len(PETER_SKEY)):
        mangled = PETER_SKEY[:i] + chr(ord(PETER_SKEY[i]) + 1) + PETER_SKEY[i + 1 :]
        with pytest.raises(ValidationError):
            Signer.from_key(mangled)


def test_generated_keys_work_together() -> None:
    skey, vkey = generate_signer("battrace.example/log")
    signer, verifier = Signer.from_key(skey), Verifier.from_key(vkey)
    assert verifier == signer.verifier()
    assert skey.startswith("PRIVATE+KEY+battrace.example/log+")
    public = bytes([1]) + verifier.public_key.public_bytes_raw()
    assert vkey.split("+")[1] == f"{key_hash(verifier.name, public):08x}"
    note = sign_note("hello\n", signer)
    assert open_note(note, [verifier]) == "hello\n"
    with pytest.raises(SignatureError):
        open_note(note, [PETER])


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u00a0b"])
def test_bad_key_names_are_rejected(name: str) -> None:
    with pytest.raises(ValidationError):
        generate_signer(name)
    with pytest.raises(ValidationError):
        verifier_key(name, bytes(32))


def test_verifier_key_of_raw_public_key() -> None:
    signer = Signer.from_key(PETER_SKEY)
    raw = signer.verifier().public_key.public_bytes_raw()
    assert verifier_key("PeterNeumann", raw) == PETER_VKEY
    with pytest.raises(ValidationError):
        verifier_key("PeterNeumann", raw[:-1])


def test_cosigned_note_opens_with_either_key() -> None:
    peter = Signer.from_key(PETER_SKEY)
    skey, vkey = generate_signer("witness.example")
    note = sign_note(TEXT, peter, Signer.from_key(skey))
    assert note.startswith(TEXT + "\n" + PETER_SIG)
    assert open_note(note, [Verifier.from_key(vkey)]) == TEXT
    assert open_note(note, [PETER]) == TEXT


@pytest.mark.parametrize("text", ["no newline", "tab\there\n", ""])
def test_sign_rejects_bad_text(text: str) -> None:
    with pytest.raises(SignatureError):
        sign_note(text, Signer.from_key(PETER_SKEY))


SIGNER = Signer.from_key(PETER_SKEY)
note_text = st.text(
    st.characters(blacklist_categories=("Cs",)).filter(lambda c: c == "\n" or ord(c) >= 0x20),
    max_size=80,
).map(lambda t: t + "\n")


@settings(max_examples=50)
@given(note_text, st.data())
def test_round_trip_and_tampering(text: str, data: st.DataObject) -> None:
    note = sign_note(text, SIGNER)
    assert open_note(note, [PETER]) == text
    assert parse_note(note).text == text
    # Change one character of the text: the note no longer verifies.
    position = data.draw(st.integers(0, len(text) - 1))
    replacement = "A" if text[position] != "A" else "B"
    tampered = note[:position] + replacement + note[position + 1 :]
    with pytest.raises(SignatureError):
        open_note(tampered, [PETER])


def test_signed_checkpoint_round_trip() -> None:
    checkpoint = Checkpoint("battrace.example/log", 0, EMPTY_ROOT)
    note = sign_note(checkpoint.to_text(), SIGNER)
    assert parse_checkpoint(open_note(note, [PETER])) == checkpoint


def test_signature_line_encoding() -> None:
    line = NoteSignature("n", 0x01020304, b"\xff" * 3).to_line()
    assert line == "— n AQIDBP///w==\n"
