"""Idempotency keys: a retry replays the first answer and writes nothing; a reused key with
another request is refused; a failed write records nothing."""

from __future__ import annotations

from tests.api.conftest import ApiWorld


def _count(api: ApiWorld) -> int:
    return api.store.count("events")


def test_retry_replays_the_first_answer(api: ApiWorld) -> None:
    headers = {**api.auth("maker"), "Idempotency-Key": "report-42"}
    sent = api.new_battery_event()
    first = api.client.post("/api/v1/events", json=sent, headers=headers)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    before = _count(api)
    again = api.client.post("/api/v1/events", json=sent, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert _count(api) == before


def test_same_key_other_body_is_refused(api: ApiWorld) -> None:
    headers = {**api.auth("maker"), "Idempotency-Key": "k1"}
    assert (
        api.client.post("/api/v1/events", json=api.new_battery_event(), headers=headers).status_code
        == 201
    )
    before = _count(api)
    other = api.client.post("/api/v1/events", json=api.new_battery_event(), headers=headers)
    assert other.status_code == 409
    assert other.json()["error"]["rule"] == "idempotency_key_reuse"
    assert other.json()["error"]["field"] == "Idempotency-Key"
    assert _count(api) == before


def test_keys_belong_to_their_enterprise(api: ApiWorld) -> None:
    """Two enterprises may use the same key text for their own requests."""
    regulator = {**api.auth("regulator"), "Idempotency-Key": "same"}
    maker = {**api.auth("maker"), "Idempotency-Key": "same"}
    assert (
        api.client.post("/api/v1/events", json=api.new_battery_event(), headers=maker).status_code
        == 201
    )
    made = api.client.post(
        f"/api/v1/enterprises/{api.ids['receiver']}/tokens", json={}, headers=regulator
    )
    assert made.status_code == 201


def test_failed_write_records_nothing(api: ApiWorld) -> None:
    headers = {**api.auth("maker"), "Idempotency-Key": "retry-me"}
    broken = {**api.new_battery_event(), "type": "teleported"}
    assert api.client.post("/api/v1/events", json=broken, headers=headers).status_code == 422
    fixed = api.new_battery_event()
    # the key was not used up by the refused request: a corrected request may take it
    assert api.client.post("/api/v1/events", json=fixed, headers=headers).status_code == 201


def test_batches_and_management_replay_too(api: ApiWorld) -> None:
    headers = {**api.auth("maker"), "Idempotency-Key": "batch-1"}
    batch = [api.new_battery_event(), api.new_battery_event()]
    first = api.client.post("/api/v1/events/batch", json=batch, headers=headers)
    assert first.status_code == 201
    before = _count(api)
    assert api.client.post("/api/v1/events/batch", json=batch, headers=headers).json() == (
        first.json()
    )
    assert _count(api) == before
    regulator = {**api.auth("regulator"), "Idempotency-Key": "token-1"}
    url = f"/api/v1/enterprises/{api.ids['receiver']}/tokens"
    one = api.client.post(url, json={"label": "x"}, headers=regulator).json()
    two = api.client.post(url, json={"label": "x"}, headers=regulator).json()
    assert one["token"] == two["token"]
    assert len(api.store.api_tokens(api.ids["receiver"])) == 2  # the world's token and this one


def test_malformed_key(api: ApiWorld) -> None:
    for key in (b"", b"x" * 256, b"with space", "ключ".encode()):
        answer = api.client.post(
            "/api/v1/events",
            json=api.new_battery_event(),
            headers=[*api.auth("maker").items(), ("Idempotency-Key", key)],
        )
        assert answer.status_code == 422, key
        assert answer.json()["error"]["field"] == "Idempotency-Key"
