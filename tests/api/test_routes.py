"""What each route answers: shapes as the CLI's, contents, pages, tokens and signatures."""

from __future__ import annotations

import base64

from battrace.ledger.hasher import leaf_hash
from battrace.ledger.submission import generate_key
from battrace.ledger.verify import verify_consistency, verify_inclusion
from battrace.services import log as log_service
from battrace.services.keys import sign_events
from tests.api.conftest import ApiWorld, next_serial
from tests.builders import LFP_PACK, code, event


def test_log_routes_answer_as_the_cli(api: ApiWorld) -> None:
    c = api.client
    note = c.get("/checkpoint")
    assert note.headers["content-type"].startswith("text/plain")
    latest = log_service.current_checkpoint(api.store)
    assert note.text == latest.note
    assert c.get("/api/v1/log/checkpoint").json() == {
        "size": latest.size,
        "root": latest.root.hex(),
        "note": latest.note,
    }
    key = c.get("/api/v1/log/key").json()["verifier_key"]
    assert key == log_service.log_verifier_key(api.store)
    proof = c.get("/api/v1/log/proofs/inclusion", params={"index": 1}).json()
    assert proof == log_service.inclusion(api.store, 1)
    assert set(proof) == {"index", "tree_size", "leaf_hash", "hashes"}
    verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        1,
        proof["tree_size"],
        [bytes.fromhex(h) for h in proof["hashes"]],
        latest.root,
    )
    consistency = c.get(
        "/api/v1/log/proofs/consistency", params={"old_size": 1, "new_size": latest.size}
    ).json()
    assert consistency == log_service.consistency(api.store, 1, latest.size)
    first_root = log_service.tree_root(api.store, 1)
    verify_consistency(
        1, latest.size, first_root, latest.root, [bytes.fromhex(h) for h in consistency["hashes"]]
    )
    leaf = c.get("/api/v1/log/leaves/1", headers=api.auth("maker")).json()
    assert leaf == log_service.leaf(api.store, 1)
    assert bytes.fromhex(proof["leaf_hash"]) == leaf_hash(base64.b64decode(leaf["leaf"]))


def test_tiles_are_the_stored_tiles(api: ApiWorld) -> None:
    size = log_service.current_checkpoint(api.store).size
    bundle = api.client.get(f"/tile/entries/000.p/{size}")
    assert bundle.status_code == 200
    assert bundle.headers["content-type"] == "application/octet-stream"
    assert bundle.headers["cache-control"] == "no-cache"
    assert bundle.content == log_service.tile(api.store, f"tile/entries/000.p/{size}")
    assert api.client.get(f"/tile/0/000.p/{size}").content == log_service.tile(
        api.store, f"tile/0/000.p/{size}"
    )
    missing = api.client.get("/tile/entries/000")  # a full tile the tree does not have yet
    assert missing.status_code == 404
    assert missing.json()["error"]["rule"] == "exists"
    bad = api.client.get("/tile/entries/0x1")
    assert bad.status_code == 422


def test_health(api: ApiWorld) -> None:
    data = api.client.get("/health").json()
    assert data["status"] == "ok"
    assert data["dialect"] == "sqlite"
    assert data["log_size"] == 3


def test_battery_reads(api: ApiWorld) -> None:
    c, h = api.client, api.auth("maker")
    view = c.get(f"/api/v1/batteries/{api.battery}", headers=h).json()
    assert view["state"] == "in_stock"
    assert [e["type"] for e in view["history"]] == ["produced"]
    state = c.get(f"/api/v1/batteries/{api.battery}/state", headers=h).json()
    assert "history" not in state
    assert state["holder"] == api.ids["maker"]
    history = c.get(f"/api/v1/batteries/{api.shipped}/history", headers=h).json()
    assert [e["type"] for e in history] == ["produced", "shipped"]
    passport = c.get(f"/api/v1/batteries/{api.battery}/passport").json()
    assert passport == {
        "code": api.battery,
        "level": "pack",
        "battery_type": "B",
        "chemistry": "LFP",
        "maker": api.ids["maker"],
        "maker_name": "Ningde Demo Battery Co.",
        "state": "in_stock",
        "second_life": False,
    }
    unknown = c.get(f"/api/v1/batteries/{code(n=999)}/passport")
    assert unknown.status_code == 404
    malformed = c.get("/api/v1/batteries/NOTACODE/passport")
    assert malformed.status_code == 422
    assert malformed.json()["error"]["field"] == "code"


def test_receiver_reads_what_it_is_sent(api: ApiWorld) -> None:
    h = api.auth("receiver")
    inbox = api.client.get(f"/api/v1/enterprises/{api.ids['receiver']}/pending", headers=h)
    assert [(i["battery"], i["from"]) for i in inbox.json()] == [(api.shipped, api.ids["maker"])]
    assert api.client.get(f"/api/v1/batteries/{api.shipped}", headers=h).status_code == 200
    assert api.client.get(f"/api/v1/batteries/{api.battery}", headers=h).status_code == 403
    shipment = api.client.get("/api/v1/events/3", headers=h).json()
    assert shipment["type"] == "shipped"


def test_battery_pages_follow_the_cursor(api: ApiWorld) -> None:
    c, h = api.client, api.auth("maker")
    records = [
        {"code": code(n=next_serial()), "maker": api.ids["maker"], **LFP_PACK} for _ in range(5)
    ]
    assert c.post("/api/v1/batteries/batch", json=records, headers=h).status_code == 201
    seen: list[str] = []
    after = None
    while True:
        params = {"limit": 3, **({"after": after} if after else {})}
        page = c.get("/api/v1/batteries", params=params, headers=api.auth("national")).json()
        seen += [b["code"] for b in page["items"]]
        after = page["next"]
        if after is None:
            break
    assert seen == sorted(seen)
    assert len(seen) == 7
    in_stock = c.get("/api/v1/batteries", params={"state": "in_stock"}, headers=h).json()
    assert len(in_stock["items"]) == 7  # a shipped battery is in stock until received
    assert c.get("/api/v1/batteries", params={"state": "lost"}, headers=h).status_code == 422
    other = c.get("/api/v1/batteries", params={"province": "44"}, headers=api.auth("regulator"))
    assert other.status_code == 403
    assert other.json()["error"]["rule"] == "jurisdiction"


def test_register_battery_answers_its_state(api: ApiWorld) -> None:
    record = {"code": code(n=next_serial()), "maker": api.ids["maker"], **LFP_PACK}
    answer = api.client.post("/api/v1/batteries", json=record, headers=api.auth("maker"))
    assert answer.status_code == 201, answer.text
    assert answer.headers["location"] == f"/api/v1/batteries/{record['code']}"
    assert answer.json()["state"] == "in_stock"
    unknown = {**record, "code": code(n=next_serial()), "colour": "red"}
    refused = api.client.post("/api/v1/batteries", json=unknown, headers=api.auth("maker"))
    assert refused.status_code == 422
    assert refused.json()["error"] == {
        "code": "invalid",
        "message": "colour: is not a battery record field",
        "field": "colour",
        "rule": "extra_forbidden",
    }


def test_event_report_and_read_back(api: ApiWorld) -> None:
    c, h = api.client, api.auth("maker")
    sent = {**api.new_battery_event(), "ref": "po-1"}
    answer = c.post("/api/v1/events", json=sent, headers=h)
    assert answer.status_code == 201
    stored = answer.json()
    assert answer.headers["location"] == f"/api/v1/events/{stored['id']}"
    assert c.get(f"/api/v1/events/{stored['id']}", headers=h).json() == stored
    again = c.post("/api/v1/events", json=sent, headers=h)
    assert again.status_code == 409
    assert again.json()["error"]["rule"] == "ref_unique"
    fix = {
        "type": "correction",
        "actor": api.ids["maker"],
        "occurred_at": "2024-04-02",
        "body": {"corrects": stored["id"], "reason": "typo", "changes": {"place": "350100"}},
    }
    assert c.post("/api/v1/events", json=fix, headers=h).status_code == 201
    corrected = c.get(f"/api/v1/events/{stored['id']}", headers=h).json()
    assert corrected["effective"]["place"] == "350100"
    assert c.get("/api/v1/events/999", headers=h).status_code == 404


def test_enterprise_management(api: ApiWorld) -> None:
    c, reg = api.client, api.auth("regulator")
    from battrace.codes import generate_credit_code

    credit = generate_credit_code("350200", next_serial())
    body = {
        "credit_code": credit,
        "name": "Xiamen Repair",
        "roles": ["repairer"],
        "division": "350200",
        "whitelisted_since": "2024-01-01",
    }
    created = c.post("/api/v1/enterprises", json=body, headers=reg)
    assert created.status_code == 201, created.text
    assert created.json()["whitelisted"] is True
    twice = c.post("/api/v1/enterprises", json=body, headers=reg)
    assert twice.status_code == 409
    elsewhere = {**body, "credit_code": generate_credit_code("440300", 5), "division": "440300"}
    refused = c.post("/api/v1/enterprises", json=elsewhere, headers=reg)
    assert refused.status_code == 403
    assert refused.json()["error"]["rule"] == "jurisdiction"
    change = c.post(
        f"/api/v1/enterprises/{credit}/whitelist",
        json={"listed": False, "effective_date": "2024-06-01", "note": "audit"},
        headers=reg,
    )
    assert change.status_code == 201
    view = c.get(f"/api/v1/enterprises/{credit}", headers=reg).json()
    assert [h["listed"] for h in view["whitelist_history"]] == [True, False]
    wrong_type = c.post("/api/v1/enterprises", json={**body, "roles": "repairer"}, headers=reg)
    assert wrong_type.status_code == 422
    assert wrong_type.json()["error"]["field"] == "roles"


def test_tokens_create_use_revoke(api: ApiWorld) -> None:
    c = api.client
    firm = api.ids["receiver"]
    made = c.post(
        f"/api/v1/enterprises/{firm}/tokens",
        json={"label": "ERP", "days": 30},
        headers=api.auth("regulator"),
    )
    assert made.status_code == 201
    token, token_id = made.json()["token"], made.json()["token_id"]
    mine = {"Authorization": f"Bearer {token}"}
    assert c.get(f"/api/v1/enterprises/{firm}", headers=mine).status_code == 200
    listed = c.get(f"/api/v1/enterprises/{firm}/tokens", headers=mine).json()
    assert token_id in [t["token_id"] for t in listed]
    assert all("token" not in t for t in listed)
    revoked = c.post(f"/api/v1/enterprises/{firm}/tokens/{token_id}/revoke", headers=mine)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    after = c.get(f"/api/v1/enterprises/{firm}", headers=mine)
    assert after.status_code == 401
    assert after.json()["error"]["rule"] == "token"
    assert c.get("/health", headers=mine).status_code == 401  # never taken for anonymous
    for bad in ("Bearer nonsense", "Basic dXNlcjpwdw==", "Bearer"):
        assert c.get("/health", headers={"Authorization": bad}).status_code == 401


def test_keys_then_reports_must_be_signed(api: ApiWorld) -> None:
    c, reg = api.client, api.auth("regulator")
    firm = api.ids["maker"]
    private, public = generate_key()
    added = c.post(f"/api/v1/enterprises/{firm}/keys", json={"public_key": public}, headers=reg)
    assert added.status_code == 201
    key_id = added.json()["key_id"]
    listed = c.get(f"/api/v1/enterprises/{firm}/keys", headers=api.auth("maker")).json()
    assert [k["key_id"] for k in listed] == [key_id]
    sent = api.new_battery_event()
    unsigned = c.post("/api/v1/events", json=sent, headers=api.auth("maker"))
    assert unsigned.status_code == 422
    assert unsigned.json()["error"]["rule"] == "signature_required"
    signed = sign_events(private, key_id, [sent])
    header = ", ".join(f"{k}={v}" for k, v in signed.to_json().items())
    headers = {**api.auth("maker"), "Battrace-Signature": header}
    accepted = c.post("/api/v1/events", json=sent, headers=headers)
    assert accepted.status_code == 201, accepted.text
    replay = c.post("/api/v1/events", json=api.new_battery_event(), headers=headers)
    assert replay.status_code == 422
    assert replay.json()["error"]["rule"] in ("replayed", "signature_invalid")
    garbled = c.post(
        "/api/v1/events", json=sent, headers={**api.auth("maker"), "Battrace-Signature": "x"}
    )
    assert garbled.status_code == 422
    assert garbled.json()["error"]["field"] == "Battrace-Signature"
    revoked = c.post(f"/api/v1/enterprises/{firm}/keys/{key_id}/revoke", headers=reg)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    stranger = c.post(
        f"/api/v1/enterprises/{api.ids['other']}/keys/{key_id}/revoke", headers=api.auth("national")
    )
    assert stranger.status_code == 404


def test_enterprise_lists(api: ApiWorld) -> None:
    national = api.client.get(
        "/api/v1/enterprises", params={"limit": 2}, headers=api.auth("national")
    ).json()
    assert len(national["items"]) == 2
    assert national["next"] == national["items"][-1]["id"]
    makers = api.client.get(
        "/api/v1/enterprises", params={"role": "battery_maker"}, headers=api.auth("national")
    ).json()
    assert {e["manufacturer_code"] for e in makers["items"]} == {"N1D", "S2C"}
    unknown_role = api.client.get(
        "/api/v1/enterprises", params={"role": "pirate"}, headers=api.auth("national")
    )
    assert unknown_role.status_code == 422


def test_shipment_received_through_the_api(api: ApiWorld) -> None:
    receiver_firm = api.firms["battery_maker"].__class__(
        api.ids["receiver"], "Fuzhou Demo Motors", ("vehicle_maker",), "350100"
    )
    receipt = event("received", receiver_firm, [api.shipped], when="2024-04-03")
    answer = api.client.post("/api/v1/events", json=receipt, headers=api.auth("receiver"))
    assert answer.status_code == 201, answer.text
    state = api.client.get(
        f"/api/v1/batteries/{api.shipped}/state", headers=api.auth("receiver")
    ).json()
    assert state["holder"] == api.ids["receiver"]
    assert (
        api.client.get(
            f"/api/v1/enterprises/{api.ids['receiver']}/pending", headers=api.auth("receiver")
        ).json()
        == []
    )


def test_docs_work_offline(api: ApiWorld) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200
    assert "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert api.client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    redoc = api.client.get("/redoc")
    assert "/docs-assets/redoc.standalone.js" in redoc.text
    assert "fonts.googleapis" not in redoc.text
    assert api.client.get("/docs-assets/redoc.standalone.js").status_code == 200
