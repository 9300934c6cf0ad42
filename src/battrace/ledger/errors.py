"""Errors of the ledger: a proof or a signature that does not check out.

Both extend :class:`battrace.errors.BattraceError`, so the CLI and the API turn them into the
one JSON error shape like every other error::

    BattraceError
     +-- ProofError        422 invalid_proof      an inclusion or consistency proof fails
     +-- SignatureError    422 invalid_signature  a signed note or checkpoint fails to verify

Malformed *inputs* that are not proofs or signatures (a checkpoint body, a key string, a tile
path, an index beyond the tree) raise :class:`battrace.errors.ValidationError` with ``field``
and ``rule`` set.
"""

from __future__ import annotations

from battrace.errors import BattraceError

__all__ = ["ProofError", "SignatureError"]


class ProofError(BattraceError):
    """Raised when a Merkle proof does not verify.

    ``rule`` says which check failed: ``hash_size``, ``index_out_of_range``, ``size_order``,
    ``proof_length``, ``root_mismatch``, ``old_root_mismatch``, ``new_root_mismatch``.
    """

    status = 422
    code = "invalid_proof"


class SignatureError(BattraceError):
    """Raised when a signed note is malformed, unsigned by any known key, or badly signed.

    ``rule`` says which: ``malformed_note``, ``no_known_signature``, ``invalid_signature``,
    ``ambiguous_key``.
    """

    status = 422
    code = "invalid_signature"
