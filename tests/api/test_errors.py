"""Bad input never answers 500, and every error has the one JSON shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from battrace.api import create_app
from tests.api.conftest import ApiWorld

ERROR_KEYS = {"code", "message", "field", "rule", "position", "index", "line", "cause"}


def assert_error_shape(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert set(data) == {"error"}
    error = data["error"]
    assert {"code", "message"} <= set(error) <= ERROR_KEYS
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
    assert 400 <= response.status_code < 500, response.text
    if status is not None:
        assert response.status_code == status, response.text
    return dict(error)


BAD_BODIES: list[bytes] = [
    b"",
    b"{",
    b"[]",
    b"null",
    b'"text"',
    b"\xff\xfe{}",
    b'{"type": "produced", "actor": "\\ud800"}',
    b'{"type": "produced\\u0000"}',
    b'{"type": NaN}',
    b"1e999",
    b'{"a": ' * 40 + b"1" + b"}" * 40,
    b"[" * 5000 + b"]" * 5000,
    b'{"type": "correction", "actor": "x", "occurred_at": "2024-01-01", "body": {"corrects":'
    b" 99999999999999999999999}}",
    b'{"type": "correction", "actor": "x", "occurred_at": "2024-01-01", "body": {"corrects":'
    b" 9223372036854775807}}",
    b'{"type": "produced", "batteries": "N1D", "actor": 5, "occurred_at": []}',
    b'{"type": "produced", "unknown": 1}',
    b'{"type": "shipped", "batteries": [1, 2], "actor": "x", "occurred_at": "2024"}',
    b'{"type": "produced", "batteries": ["N1DPBA1TEST001E3F0000009"], "actor":'
    b' "91350900000000019P", "occurred_at": "0001-01-01T00:00:00+14:00", "body": {}}',
    b'{"type": "produced", "batteries": ["N1DPBA1TEST001E3F0000009"], "actor":'
    b' "91350900000000019P", "occurred_at": "2024-01-01", "body": {"chemistry": "LFP",'
    b' "rated_capacity_ah": 1e308, "nominal_voltage_v": "-1", "energy_kwh": true,'
    b' "mass_kg": "1e-99", "composition": {"li": "x"}}}',
]
WRITE_PATHS = [
    "/api/v1/events",
    "/api/v1/events/batch",
    "/api/v1/batteries",
    "/api/v1/batteries/batch",
    "/api/v1/enterprises",
    "/api/v1/enterprises/{maker}/keys",
    "/api/v1/enterprises/{maker}/tokens",
    "/api/v1/enterprises/{maker}/whitelist",
]


@pytest.mark.parametrize("path", WRITE_PATHS)
@pytest.mark.parametrize("body", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_bodies(shared_api: ApiWorld, path: str, body: bytes) -> None:
    who = "national" if "enterprises" in path else "maker"
    url = path.format(maker=shared_api.ids["maker"])
    headers = {**shared_api.auth(who), "Content-Type": "application/json"}
    response = shared_api.client.post(url, content=body, headers=headers)
    if response.status_code in (200, 201):
        # the only good ones: an empty token request, an empty batch
        assert (path.endswith("/tokens") and body in (b"", b"null")) or (
            path.endswith("/batch") and body == b"[]"
        )
        return
    assert_error_shape(response)


BAD_QUERIES = [
    ("/api/v1/batteries", {"limit": "0"}),
    ("/api/v1/batteries", {"limit": "99999999999999999999999"}),
    ("/api/v1/batteries", {"state": "\x00"}),
    ("/api/v1/batteries", {"after": "\x00"}),
    ("/api/v1/batteries", {"holder": "' OR 1=1 --"}),
    ("/api/v1/batteries", {"province": "99"}),
    ("/api/v1/batteries", {"province": "990000"}),
    ("/api/v1/enterprises", {"province": "abc"}),
    ("/api/v1/enterprises", {"role": "\x00"}),
    ("/api/v1/log/proofs/inclusion", {}),
    ("/api/v1/log/proofs/inclusion", {"index": "-1"}),
    ("/api/v1/log/proofs/inclusion", {"index": "0", "size": "99999999999999999999"}),
    ("/api/v1/log/proofs/inclusion", {"index": "5", "size": "2"}),
    ("/api/v1/log/proofs/consistency", {"old_size": "3", "new_size": "1"}),
    ("/api/v1/log/proofs/consistency", {"old_size": "1", "new_size": "4000000"}),
    ("/api/v1/log/leaves/99999999999999999999", {}),
    ("/api/v1/log/leaves/4611686018427387904", {}),
    ("/api/v1/events/0", {}),
    ("/api/v1/events/9223372036854775807", {}),
    ("/api/v1/events/abc", {}),
    ("/api/v1/batteries/%00", {}),
    ("/api/v1/batteries/%F0%9F%94%8B/passport", {}),
    ("/api/v1/enterprises/%00", {}),
    ("/api/v1/enterprises/91350900000000019Q", {}),
    ("/tile/entries/%00", {}),
    ("/tile/99/000", {}),
    ("/tile/0/x999/x999/x999/x999/x999/x999/x999/999", {}),
    ("/no/such/route", {}),
]


@pytest.mark.parametrize(("path", "params"), BAD_QUERIES)
def test_bad_parameters(shared_api: ApiWorld, path: str, params: dict[str, str]) -> None:
    response = shared_api.client.get(path, params=params, headers=shared_api.auth("national"))
    assert_error_shape(response)


def test_parameter_errors_name_the_parameter(shared_api: ApiWorld) -> None:
    response = shared_api.client.get(
        "/api/v1/batteries", params={"limit": "lots"}, headers=shared_api.auth("national")
    )
    error = assert_error_shape(response, 422)
    assert (error["field"], error["rule"]) == ("limit", "int_parsing")


def test_wrong_method_and_media_type(shared_api: ApiWorld) -> None:
    assert_error_shape(shared_api.client.delete("/api/v1/events"), 405)
    response = shared_api.client.post(
        "/api/v1/events",
        content=b"type=produced",
        headers={**shared_api.auth("maker"), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert assert_error_shape(response, 415)["field"] == "Content-Type"


def test_body_over_the_limit(shared_api: ApiWorld) -> None:
    limit = shared_api.settings.api_max_body
    declared = shared_api.client.post(
        "/api/v1/events", content=b" " * (limit + 1), headers=shared_api.auth("maker")
    )
    assert assert_error_shape(declared, 413)["rule"] == "max_body_bytes"

    def chunks() -> Iterator[bytes]:
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    streamed = shared_api.client.post(
        "/api/v1/events", content=chunks(), headers=shared_api.auth("maker")
    )
    assert assert_error_shape(streamed, 413)["field"] == "body"


def test_unexpected_errors_keep_the_shape(api: ApiWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("battrace.services.queries.public_passport", explode)
    app = create_app(api.store.location, api.settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(f"/api/v1/batteries/{api.battery}/passport")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal", "message": "internal error; the server log has the details"}
    }
