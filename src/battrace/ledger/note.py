"""C2SP ``signed-note`` with Ed25519, byte-compatible with golang.org/x/mod/sumdb/note.

A signed note is a text ending in a newline, a blank line, then signature lines::

    <text ...>\\n
    \\n
    — <key name> base64(4-byte key hash || 64-byte Ed25519 signature)\\n

The signature covers the text including its final newline, not the blank line. The key hash
is ``SHA-256(name || "\\n" || 0x01 || 32-byte public key)[:4]``. Keys travel as strings::

    verifier  <name>+<8 hex key hash>+base64(0x01 || public key)
    signer    PRIVATE+KEY+<name>+<8 hex key hash>+base64(0x01 || 32-byte private seed)

Opening a note ignores signatures by unknown keys, rejects the note if a known key's signature
fails, and requires at least one known key's signature to verify (c2sp.org/signed-note).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from battrace.errors import ValidationError
from battrace.ledger.errors import SignatureError

__all__ = [
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "NoteSignature",
    "ParsedNote",
    "Signer",
    "Verifier",
    "generate_signer",
    "is_valid_key_name",
    "key_hash",
    "open_note",
    "parse_note",
    "sign_note",
    "verifier_key",
]

ALG_ED25519 = 0x01
"""Signature type byte of Ed25519 in key hashes and key strings."""

MAX_SIGNATURES = 100
"""A note with more signature lines is rejected (as Go does; the spec requires >= 16)."""

_SIG_PREFIX = "— "  # em dash U+2014, then a space


def is_valid_key_name(name: str) -> bool:
    """Whether ``name`` may name a key: non-empty, no Unicode space, no ``+``."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def key_hash(name: str, public_key: bytes) -> int:
    """The 32-bit key hash (key ID): first 4 bytes, big-endian, of SHA-256(name \\n key).

    ``public_key`` is the encoded key with its type byte (``0x01 || 32 bytes`` for Ed25519).
    """
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _key_error(field: str, message: str, rule: str) -> ValidationError:
    return ValidationError(f"{field}: {message}", field=field, rule=rule)


def _parse_hash_and_key(field: str, name: str, hash16: str, key64: str) -> tuple[int, bytes]:
    if not is_valid_key_name(name):
        raise _key_error(field, f"bad key name {name!r}", "key_name")
    if len(hash16) != 8 or any(ch not in "0123456789abcdefABCDEF" for ch in hash16):
        raise _key_error(field, "key hash must be 8 hex digits", "key_format")
    try:
        key = base64.b64decode(key64, validate=True)
    except binascii.Error as exc:
        raise _key_error(field, "key is not standard base64", "key_format") from exc
    if not key:
        raise _key_error(field, "key is empty", "key_format")
    return int(hash16, 16), key


def _public_bytes(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def verifier_key(name: str, public_key: bytes) -> str:
    """The verifier key string of a 32-byte Ed25519 public key, for auditors to pin.

    Raises :class:`ValidationError` for a bad name or key length.
    """
    if not is_valid_key_name(name):
        raise _key_error("verifier_key", f"bad key name {name!r}", "key_name")
    if len(public_key) != 32:
        raise _key_error("verifier_key", "Ed25519 public key must be 32 bytes", "key_format")
    encoded = bytes([ALG_ED25519]) + public_key
    return f"{name}+{key_hash(name, encoded):08x}+{base64.b64encode(encoded).decode('ascii')}"


@dataclass(frozen=True)
class Verifier:
    """One trusted public key: its name, key hash and Ed25519 key."""

    name: str
    key_hash: int
    public_key: Ed25519PublicKey

    @classmethod
    def from_key(cls, vkey: str) -> Verifier:
        """Parse a verifier key string ``<name>+<hex hash>+<base64 key>``.

        Raises :class:`ValidationError` (field ``verifier_key``) for a malformed string, a key
        hash that does not match the name and key, an unknown algorithm or a wrong key length.
        Security: a verifier is only as trustworthy as where its string came from; pin it.
        """
        name, _, rest = vkey.partition("+")
        hash16, _, key64 = rest.partition("+")
        expected_hash, key = _parse_hash_and_key("verifier_key", name, hash16, key64)
        if key_hash(name, key) != expected_hash:
            raise _key_error("verifier_key", "key hash does not match the key", "key_hash")
        if key[0] != ALG_ED25519:
            raise _key_error("verifier_key", f"unknown algorithm {key[0]}", "key_algorithm")
        if len(key) != 33:
            raise _key_error("verifier_key", "Ed25519 public key must be 32 bytes", "key_format")
        return cls(name, expected_hash, Ed25519PublicKey.from_public_bytes(key[1:]))

    def to_key(self) -> str:
        """The verifier key string (inverse of :meth:`from_key`)."""
        return verifier_key(self.name, _public_bytes(self.public_key))

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """One private signing key: its name, key hash and Ed25519 private key.

    Security: holds a secret; never log it or put it in an error message.
    """

    name: str
    key_hash: int
    private_key: Ed25519PrivateKey

    def __repr__(self) -> str:
        return f"Signer(name={self.name!r}, key_hash={self.key_hash:08x})"

    @classmethod
    def from_key(cls, skey: str) -> Signer:
        """Parse a signer key string ``PRIVATE+KEY+<name>+<hex hash>+<base64 seed>``.

        Raises :class:`ValidationError` (field ``signer_key``) for a malformed string, an
        unknown algorithm, a wrong seed length, or a key hash that does not match the public
        key derived from the seed. The message never contains the key.
        """
        priv1, _, rest = skey.partition("+")
        priv2, _, rest = rest.partition("+")
        name, _, rest = rest.partition("+")
        hash16, _, key64 = rest.partition("+")
        if priv1 != "PRIVATE" or priv2 != "KEY":
            raise _key_error("signer_key", "must start with PRIVATE+KEY+", "key_format")
        expected_hash, key = _parse_hash_and_key("signer_key", name, hash16, key64)
        if key[0] != ALG_ED25519:
            raise _key_error("signer_key", f"unknown algorithm {key[0]}", "key_algorithm")
        if len(key) != 33:
            raise _key_error("signer_key", "Ed25519 seed must be 32 bytes", "key_format")
        private = Ed25519PrivateKey.from_private_bytes(key[1:])
        public = bytes([ALG_ED25519]) + _public_bytes(private.public_key())
        if key_hash(name, public) != expected_hash:
            raise _key_error("signer_key", "key hash does not match the key", "key_hash")
        return cls(name, expected_hash, private)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return self.private_key.sign(message)

    def verifier(self) -> Verifier:
        """The matching :class:`Verifier`."""
        return Verifier(self.name, self.key_hash, self.private_key.public_key())


def generate_signer(name: str) -> tuple[str, str]:
    """Make a new Ed25519 key pair named ``name``.

    Output: ``(signer_key, verifier_key)`` strings. The signer key is a secret; give the
    verifier key to auditors. Raises :class:`ValidationError` for a bad name.
    """
    if not is_valid_key_name(name):
        raise _key_error("name", f"bad key name {name!r}", "key_name")
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    vkey = verifier_key(name, _public_bytes(private.public_key()))
    hash16 = vkey.split("+")[1]
    encoded_seed = base64.b64encode(bytes([ALG_ED25519]) + seed).decode("ascii")
    return f"PRIVATE+KEY+{name}+{hash16}+{encoded_seed}", vkey


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key hash and the raw signature (hash prefix removed)."""

    name: str
    key_hash: int
    signature: bytes

    def to_line(self) -> str:
        """The signature line, ending in a newline."""
        blob = self.key_hash.to_bytes(4, "big") + self.signature
        return f"{_SIG_PREFIX}{self.name} {base64.b64encode(blob).decode('ascii')}\n"


@dataclass(frozen=True)
class ParsedNote:
    """A note split into its text and signature lines, nothing verified."""

    text: str
    signatures: tuple[NoteSignature, ...]


def _malformed(message: str) -> SignatureError:
    return SignatureError(f"malformed note: {message}", field="note", rule="malformed_note")


def _check_text(text: str) -> None:
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise _malformed("control character other than newline")


def parse_note(note: str | bytes) -> ParsedNote:
    """Split a signed note into its text and signature lines without verifying anything.

    Inputs: the note as ``str`` or UTF-8 ``bytes``. Output: :class:`ParsedNote`. Raises
    :class:`SignatureError` (rule ``malformed_note``) for invalid UTF-8, a control character
    other than newline, no blank line before the signatures, a missing final newline, a line
    that is not ``— <name> <base64>``, a signature shorter than 5 bytes or more than
    :data:`MAX_SIGNATURES` lines.
    Security: the text is untrusted until :func:`open_note` has verified a signature.
    """
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _malformed("not valid UTF-8") from exc
    else:
        try:
            note.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _malformed("not valid UTF-8") from exc
    _check_text(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise _malformed("no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise _malformed("signatures must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise _malformed(f"more than {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise _malformed("signature line must start with an em dash and a space")
        name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        if not is_valid_key_name(name) or not b64:
            raise _malformed("bad signature line")
        try:
            blob = base64.b64decode(b64, validate=True)
        except binascii.Error as exc:
            raise _malformed("signature is not standard base64") from exc
        if len(blob) < 5:
            raise _malformed("signature too short")
        signatures.append(NoteSignature(name, int.from_bytes(blob[:4], "big"), blob[4:]))
    return ParsedNote(text, tuple(signatures))


def sign_note(text: str, signer: Signer, *cosigners: Signer) -> str:
    """Sign ``text`` and return the signed note.

    Inputs: the text (non-empty, ending in a newline, no control character but newline) and
    one or more signers. Output: text, blank line, one signature line per signer in order.
    Raises :class:`SignatureError` (rule ``malformed_note``) for a text that breaks the format.
    Ed25519 is deterministic, so the same text and key always give the same note.
    """
    if not text.endswith("\n"):
        raise _malformed("text must end with a newline")
    _check_text(text)
    message = text.encode("utf-8")
    lines = [
        NoteSignature(s.name, s.key_hash, s.sign(message)).to_line() for s in (signer, *cosigners)
    ]
    return text + "\n" + "".join(lines)


def open_note(note: str | bytes, verifiers: Iterable[Verifier]) -> str:
    """Verify a signed note and return its text.

    Inputs: the note and the trusted verifiers. Output: the text (with its final newline) once
    at least one known key's signature verified. Signatures by keys not in ``verifiers``
    (name and key hash) are ignored; repeated signatures by one known key are checked once, as
    golang.org/x/mod/sumdb/note does.
    Raises :class:`SignatureError`: ``malformed_note`` (see :func:`parse_note`),
    ``ambiguous_key`` when two verifiers share a name and key hash and that key signed,
    ``invalid_signature`` when a known key's signature fails, ``no_known_signature`` when no
    known key signed.
    Security: trust comes only from ``verifiers``; a note signed only by unknown keys is
    rejected however many signatures it has.
    """
    parsed = parse_note(note)
    known: dict[tuple[str, int], list[Verifier]] = {}
    for v in verifiers:
        known.setdefault((v.name, v.key_hash), []).append(v)
    message = parsed.text.encode("utf-8")
    seen: set[tuple[str, int]] = set()
    for sig in parsed.signatures:
        key = (sig.name, sig.key_hash)
        candidates = known.get(key)
        if candidates is None:
            continue
        label = f"{sig.name}+{sig.key_hash:08x}"
        if len(candidates) > 1:
            raise SignatureError(f"ambiguous key {label}", field="note", rule="ambiguous_key")
        if key in seen:
            continue
        seen.add(key)
        if not candidates[0].verify(message, sig.signature):
            raise SignatureError(
                f"invalid signature for key {label}", field="note", rule="invalid_signature"
            )
    if not seen:
        names = ", ".join(sorted({f"{s.name}+{s.key_hash:08x}" for s in parsed.signatures}))
        raise SignatureError(
            f"note has no verifiable signatures (signed by: {names})",
            field="note",
            rule="no_known_signature",
        )
    return parsed.text
