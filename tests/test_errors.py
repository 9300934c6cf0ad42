"""One JSON error shape for every error."""

from __future__ import annotations

import pickle

import pytest

from battrace import errors

ERRORS = [
    errors.ValidationError("x: bad", field="x", rule="r"),
    errors.CodeError("code position 3: bad", field="code", rule="charset", position=3),
    errors.NotFoundError("gone"),
    errors.ConflictError("twice", field="code", rule="registered_once"),
    errors.RuleViolation("no", field="batteries", rule="state_order"),
    errors.PermissionDenied("no"),
    errors.Unauthenticated("who?", field="Authorization", rule="token"),
    errors.MethodNotAllowed("no", field="method", rule="allowed_method"),
    errors.PayloadTooLarge("big", field="body", rule="max_body_bytes"),
    errors.UnsupportedMediaType("xml?", field="Content-Type", rule="media_type"),
    errors.StoreError("down"),
    errors.BatchError(3, errors.RuleViolation("no", rule="holder_only"), line=4),
]


@pytest.mark.parametrize("error", ERRORS)
def test_error_shape(error: errors.BattraceError) -> None:
    body = error.to_dict()
    assert set(body) == {"error"}
    assert body["error"]["code"] == error.code
    assert body["error"]["message"] == error.message
    assert 400 <= error.status < 600
    if error.rule is not None:
        assert body["error"]["rule"] == error.rule


def test_batch_error_carries_cause() -> None:
    error = errors.BatchError(0, errors.ValidationError("type: bad", field="type", rule="enum"))
    assert error.message == "item 0: type: bad"
    assert error.to_dict()["error"]["cause"]["rule"] == "enum"


@pytest.mark.parametrize("error", ERRORS)
def test_an_error_crosses_processes_whole(error: errors.BattraceError) -> None:
    # the API's report writer raises in another process (api/report_process.py)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert again.to_dict() == error.to_dict()
    assert str(again) == str(error)
    assert vars(again).keys() == vars(error).keys()


def test_plain_pickling_would_lose_field_and_rule() -> None:
    # why BattraceError pickles itself: Exception's own way calls __init__ with args alone
    error = errors.CodeError("bad", field="code", rule="charset", position=2)
    plain = Exception.__reduce__(error)
    rebuilt = plain[0](*plain[1])
    assert rebuilt.field is None
    assert rebuilt.position is None
    again = pickle.loads(pickle.dumps(error))
    assert (again.field, again.rule, again.position) == ("code", "charset", 2)
