"""Batch endpoints: JSON arrays and NDJSON, all or nothing, per-item results, limits."""

from __future__ import annotations

from pathlib import Path

import orjson

from battrace.config import load_settings
from battrace.ledger.submission import generate_key
from battrace.services.keys import register_key, sign_events
from tests.api.conftest import ApiWorld, build_world, next_serial
from tests.builders import LFP_PACK, code


def _ndjson(items: list[object]) -> bytes:
    return b"\n".join(orjson.dumps(i) for i in items) + b"\n"


def test_all_or_nothing(api: ApiWorld) -> None:
    good = [api.new_battery_event() for _ in range(3)]
    bad = {**api.new_battery_event(), "occurred_at": "yesterday"}
    before = api.store.count("events")
    refused = api.client.post("/api/v1/events/batch", json=[*good, bad], headers=api.auth("maker"))
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert (error["code"], error["index"], error["field"]) == ("batch_rejected", 3, "occurred_at")
    assert error["cause"]["code"] == "invalid"
    assert api.store.count("events") == before
    accepted = api.client.post("/api/v1/events/batch", json=good, headers=api.auth("maker"))
    assert accepted.status_code == 201
    result = accepted.json()
    assert result["accepted"] == 3
    assert result["last_id"] - result["first_id"] == 2


def test_ndjson_names_the_line(api: ApiWorld) -> None:
    body = _ndjson([api.new_battery_event()]) + b"\n{not json\n"
    headers = {**api.auth("maker"), "Content-Type": "application/x-ndjson"}
    refused = api.client.post("/api/v1/events/batch", content=body, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["error"]["line"] == 3
    assert refused.json()["error"]["rule"] == "json"
    fine = api.client.post(
        "/api/v1/events/batch", content=_ndjson([api.new_battery_event()] * 1), headers=headers
    )
    assert fine.status_code == 201
    assert fine.json()["accepted"] == 1


def test_per_item_results(api: ApiWorld) -> None:
    items = [
        api.new_battery_event(),
        {**api.new_battery_event(), "type": "teleported"},
        {**api.new_battery_event(), "actor": api.ids["other"]},
        api.new_battery_event(),
    ]
    before = api.store.count("events")
    answer = api.client.post(
        "/api/v1/events/batch", params={"mode": "per_item"}, json=items, headers=api.auth("maker")
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert (data["accepted"], data["rejected"]) == (2, 2)
    assert [r["status"] for r in data["results"]] == [201, 422, 403, 201]
    assert data["results"][1]["error"]["field"] == "type"
    assert data["results"][2]["error"]["rule"] == "actor_is_caller"
    assert data["results"][3]["event"]["id"] == data["results"][0]["event"]["id"] + 1
    assert api.store.count("events") == before + 2


def test_wrong_actor_refuses_an_all_or_nothing_batch(api: ApiWorld) -> None:
    items = [api.new_battery_event(), {**api.new_battery_event(), "actor": api.ids["other"]}]
    answer = api.client.post("/api/v1/events/batch", json=items, headers=api.auth("maker"))
    assert answer.status_code == 403
    assert answer.json()["error"]["message"].startswith("item 1: actor:")


def test_battery_batch_per_item_and_ndjson(api: ApiWorld) -> None:
    maker = api.ids["maker"]
    records = [
        {"code": code(n=next_serial()), "maker": maker, **LFP_PACK},
        {"code": "BROKEN", "maker": maker, **LFP_PACK},
    ]
    answer = api.client.post(
        "/api/v1/batteries/batch",
        params={"mode": "per_item"},
        content=_ndjson(records),
        headers={**api.auth("maker"), "Content-Type": "application/x-ndjson"},
    )
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [(r["line"], r["status"]) for r in results] == [(1, 201), (2, 422)]


def test_signed_batch_is_all_or_nothing(api: ApiWorld) -> None:
    private, public = generate_key()
    key = register_key(api.store, api.ids["maker"], public)
    items = [api.new_battery_event(), api.new_battery_event()]
    signed = sign_events(private, key.key_id, items)
    header = ", ".join(f"{k}={v}" for k, v in signed.to_json().items())
    headers = {**api.auth("maker"), "Battrace-Signature": header}
    per_item = api.client.post(
        "/api/v1/events/batch", params={"mode": "per_item"}, json=items, headers=headers
    )
    assert per_item.status_code == 422
    assert per_item.json()["error"]["rule"] == "signed_all_or_nothing"
    whole = api.client.post("/api/v1/events/batch", json=items, headers=headers)
    assert whole.status_code == 201, whole.text
    assert whole.json()["accepted"] == 2


def test_item_and_size_limits(tmp_path: Path) -> None:
    settings = load_settings(
        {"BATTRACE_API_MAX_BATCH_ITEMS": "3", "BATTRACE_API_MAX_BATCH_BODY": "4000"}
    )
    with build_world(tmp_path / "limits.db", settings) as world:
        h = world.auth("maker")
        four = [world.new_battery_event() for _ in range(4)]
        too_many = world.client.post("/api/v1/events/batch", json=four, headers=h)
        assert too_many.status_code == 413
        assert too_many.json()["error"]["rule"] == "max_items"
        lines = world.client.post(
            "/api/v1/events/batch",
            content=_ndjson(four),
            headers={**h, "Content-Type": "application/x-ndjson"},
        )
        assert lines.status_code == 413
        big = [world.new_battery_event() for _ in range(3)]
        big[0]["body"]["composition"] = {"other": "1" + "0" * 5000 + ".5"}
        too_big = world.client.post("/api/v1/events/batch", json=big, headers=h)
        assert too_big.status_code == 413
        assert too_big.json()["error"]["rule"] == "max_body_bytes"
        assert "BATTRACE_API_MAX_BATCH_BODY" in too_big.json()["error"]["message"]


def test_not_an_array(api: ApiWorld) -> None:
    answer = api.client.post(
        "/api/v1/events/batch", json=api.new_battery_event(), headers=api.auth("maker")
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["rule"] == "array"
    unknown_mode = api.client.post(
        "/api/v1/events/batch", params={"mode": "some"}, json=[], headers=api.auth("maker")
    )
    assert unknown_mode.status_code == 422
    assert unknown_mode.json()["error"]["field"] == "mode"
