"""The tamper-evident ledger: pure Merkle log maths, checkpoints, signed notes and tiles.

Every accepted event becomes a leaf of an append-only RFC 9162 Merkle log so that an auditor
holding only the log's public key can check that an event is in the log and that the log was
never rewritten. Nothing here does I/O: a store answers ``get_node(level, index)`` for perfect
subtrees and these modules do the rest (see docs/ledger.md).

Modules: :mod:`~battrace.ledger.hasher` (leaf and node hashes), :mod:`~battrace.ledger.tree`
(roots, compact range, proof node ids), :mod:`~battrace.ledger.verify` (proof verifiers),
:mod:`~battrace.ledger.checkpoint` and :mod:`~battrace.ledger.note` (signed tree heads),
:mod:`~battrace.ledger.tiles` (c2sp.org/tlog-tiles layout), :mod:`~battrace.ledger.reference`
(slow literal RFC 6962, for tests only; not re-exported).
"""

from battrace.ledger.checkpoint import Checkpoint, parse_checkpoint
from battrace.ledger.errors import ProofError, SignatureError
from battrace.ledger.hasher import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash
from battrace.ledger.note import (
    NoteSignature,
    ParsedNote,
    Signer,
    Verifier,
    generate_signer,
    key_hash,
    open_note,
    parse_note,
    sign_note,
    verifier_key,
)
from battrace.ledger.tiles import (
    TILE_HEIGHT,
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
from battrace.ledger.tree import (
    CompactRange,
    GetNode,
    NodeId,
    ProofNodes,
    compact_range_nodes,
    consistency_proof,
    consistency_proof_nodes,
    inclusion_proof,
    inclusion_proof_nodes,
    node_hashes_for_leaves,
    parent_hashes,
    range_nodes,
    root_from_leaf_hashes,
    root_from_nodes,
)
from battrace.ledger.verify import (
    consistency_proof_length,
    inclusion_proof_length,
    root_from_consistency_proof,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "Checkpoint",
    "CompactRange",
    "GetNode",
    "NodeId",
    "NoteSignature",
    "ParsedNote",
    "ProofError",
    "ProofNodes",
    "SignatureError",
    "Signer",
    "TileRef",
    "Verifier",
    "compact_range_nodes",
    "consistency_proof",
    "consistency_proof_length",
    "consistency_proof_nodes",
    "decode_entry_bundle",
    "encode_entry_bundle",
    "encode_tile_index",
    "entry_bundle_path",
    "generate_signer",
    "inclusion_proof",
    "inclusion_proof_length",
    "inclusion_proof_nodes",
    "key_hash",
    "leaf_hash",
    "new_tiles",
    "node_hash",
    "node_hashes_for_leaves",
    "open_note",
    "parent_hashes",
    "parse_checkpoint",
    "parse_note",
    "parse_tile_path",
    "range_nodes",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "root_from_leaf_hashes",
    "root_from_nodes",
    "sign_note",
    "split_tile",
    "tile_bytes",
    "tile_path",
    "tile_width",
    "tiles_for_size",
    "verifier_key",
    "verify_consistency",
    "verify_inclusion",
]
