"""Tests for battrace.ledger.errors: the ledger errors fit the one error shape."""

from __future__ import annotations

import pytest

from battrace.errors import BattraceError
from battrace.ledger.errors import ProofError, SignatureError


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ProofError("bad", field="proof", rule="root_mismatch"), "invalid_proof"),
        (SignatureError("bad", field="note", rule="invalid_signature"), "invalid_signature"),
    ],
)
def test_ledger_errors_use_the_platform_shape(error: BattraceError, code: str) -> None:
    assert isinstance(error, BattraceError)
    assert error.status == 422
    assert error.to_dict() == {
        "error": {"code": code, "message": "bad", "field": error.field, "rule": error.rule}
    }
