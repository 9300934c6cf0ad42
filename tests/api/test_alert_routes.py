"""``/api/v1/alerts``: lists scoped by caller, filters and pages, reads with history, the
regulators' actions, errors naming field and rule, idempotent retries."""

from __future__ import annotations

from typing import Any

import pytest

from battrace.supervision.alerts import get_alert, reconcile
from battrace.supervision.findings import Finding, Severity
from tests.api.conftest import ApiWorld
from tests.builders import code

A = "/api/v1/alerts"


def _findings(w: ApiWorld) -> list[Finding]:
    maker, other = w.ids["maker"], w.ids["other"]
    return [
        Finding("late_report", Severity.HIGH, w.battery, maker, "e1", (1,), "late", "350900", None),
        Finding("late_report", Severity.LOW, None, maker, "2024", (), "yearly", "350000", None),
        Finding("missing_recycling", Severity.MEDIUM, None, other, "x", (), "x", "440300", None),
        Finding("missing_recycling", Severity.MEDIUM, code(n=99), None, "y", (), "y", None, None),
    ]


@pytest.fixture
def alerts(api: ApiWorld) -> list[str]:
    found = _findings(api)
    reconcile(api.store, found, rules=["late_report", "missing_recycling"])
    return [f.id for f in found]


def _ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    return {a["id"] for a in response.json()["items"]}


def test_lists_are_scoped_by_caller(api: ApiWorld, alerts: list[str]) -> None:
    c = api.client
    assert _ids(c.get(A, headers=api.auth("national"))) == set(alerts)
    assert _ids(c.get(A, headers=api.auth("regulator"))) == {alerts[0], alerts[1]}
    assert _ids(c.get(A, headers=api.auth("other_regulator"))) == {alerts[2]}
    assert _ids(c.get(A, headers=api.auth("maker"))) == {alerts[0], alerts[1]}
    assert _ids(c.get(A, headers=api.auth("other"))) == {alerts[2]}
    assert _ids(c.get(A, headers=api.auth("receiver"))) == set()
    anonymous = c.get(A)
    assert anonymous.status_code == 401


def test_list_filters_and_pages(api: ApiWorld, alerts: list[str]) -> None:
    c, h = api.client, api.auth("national")
    assert _ids(c.get(A, params={"rule": "missing_recycling"}, headers=h)) == set(alerts[2:])
    assert _ids(c.get(A, params={"severity": "high"}, headers=h)) == {alerts[0]}
    assert _ids(c.get(A, params={"battery": api.battery}, headers=h)) == {alerts[0]}
    assert _ids(c.get(A, params={"enterprise": api.ids["other"]}, headers=h)) == {alerts[2]}
    assert _ids(c.get(A, params={"province": "44"}, headers=h)) == {alerts[2]}
    assert _ids(c.get(A, params={"status": "resolved"}, headers=h)) == set()
    ordered = sorted(alerts)
    first = c.get(A, params={"limit": 3}, headers=h).json()
    assert [a["id"] for a in first["items"]] == ordered[:3]
    assert first["next"] == ordered[2]
    rest = c.get(A, params={"limit": 3, "after": first["next"]}, headers=h).json()
    assert [a["id"] for a in rest["items"]] == ordered[3:]
    assert rest["next"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "closed"}, "status"),
        ({"severity": "urgent"}, "severity"),
        ({"limit": 0}, "limit"),
        ({"after": "xyz"}, "after"),
        ({"rule": "a b"}, "rule"),
        ({"province": "3"}, "province"),
        ({"battery": "nope"}, "battery"),
        ({"enterprise": "nope"}, "enterprise"),
    ],
)
def test_bad_filters_are_422(shared_api: ApiWorld, params: dict[str, Any], field: str) -> None:
    response = shared_api.client.get(A, params=params, headers=shared_api.auth("national"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


def test_out_of_scope_filters_are_403(shared_api: ApiWorld) -> None:
    c = shared_api.client
    other_province = c.get(A, params={"province": "440000"}, headers=shared_api.auth("regulator"))
    assert other_province.status_code == 403
    assert other_province.json()["error"]["rule"] == "jurisdiction"
    other_firm = c.get(
        A, params={"enterprise": shared_api.ids["other"]}, headers=shared_api.auth("maker")
    )
    assert other_firm.status_code == 403
    assert other_firm.json()["error"]["rule"] == "own_alerts_only"


def test_read_with_history(api: ApiWorld, alerts: list[str]) -> None:
    c = api.client
    view = c.get(f"{A}/{alerts[0]}", headers=api.auth("maker")).json()
    assert view["id"] == alerts[0]
    assert (view["rule"], view["battery"], view["enterprise"]) == (
        "late_report",
        api.battery,
        api.ids["maker"],
    )
    assert view["province"] == "350000"
    assert [(h["status"], h["by"]) for h in view["history"]] == [("open", "system")]
    assert c.get(f"{A}/{alerts[0]}", headers=api.auth("regulator")).status_code == 200
    assert c.get(f"{A}/{alerts[0]}", headers=api.auth("other")).status_code == 403
    assert c.get(f"{A}/{alerts[0]}", headers=api.auth("other_regulator")).status_code == 403
    assert c.get(f"{A}/{alerts[3]}", headers=api.auth("regulator")).status_code == 403
    assert c.get(f"{A}/{alerts[3]}", headers=api.auth("national")).status_code == 200
    missing = c.get(f"{A}/0123456789abcdef", headers=api.auth("national"))
    assert missing.status_code == 404
    assert missing.json()["error"]["field"] == "alert_id"
    malformed = c.get(f"{A}/XYZ", headers=api.auth("national"))
    assert malformed.status_code == 422
    assert malformed.json()["error"]["field"] == "alert_id"


def test_regulator_lifecycle(api: ApiWorld, alerts: list[str]) -> None:
    c, h, me = api.client, api.auth("regulator"), api.ids["regulator"]
    alert = alerts[0]
    acked = c.post(f"{A}/{alert}/acknowledge", headers=h)
    assert acked.status_code == 200, acked.text
    assert (acked.json()["status"], acked.json()["acknowledged_by"]) == ("acknowledged", me)
    again = c.post(f"{A}/{alert}/acknowledge", json={"comment": "twice"}, headers=h)
    assert again.status_code == 409
    assert again.json()["error"]["rule"] == "alert_transition"
    done = c.post(f"{A}/{alert}/resolve", json={"comment": "fined"}, headers=h).json()
    assert (done["status"], done["resolved_by"], done["comment"]) == ("resolved", me, "fined")
    back = c.post(f"{A}/{alert}/reopen", json={"comment": "unpaid"}, headers=api.auth("national"))
    assert back.status_code == 200
    history = [(x["status"], x["by"], x["comment"]) for x in back.json()["history"]]
    assert history == [
        ("open", "system", None),
        ("acknowledged", me, None),
        ("resolved", me, "fined"),
        ("open", api.ids["national"], "unpaid"),
    ]


@pytest.mark.parametrize(
    ("action", "body", "field", "rule"),
    [
        ("resolve", None, "body", "required"),
        ("resolve", {}, "comment", "required"),
        ("reopen", {"comment": None}, "comment", "required"),
        ("resolve", {"comment": ""}, "comment", "length"),
        ("resolve", {"comment": "x" * 2001}, "comment", "length"),
        ("resolve", {"comment": 7}, "comment", "string_type"),
        ("acknowledge", {"comment": "ok", "by": "me"}, "by", "extra_forbidden"),
        ("acknowledge", [], "body", "model_type"),
    ],
)
def test_bad_bodies_are_422(
    api: ApiWorld, alerts: list[str], action: str, body: Any, field: str, rule: str
) -> None:
    response = api.client.post(f"{A}/{alerts[0]}/{action}", json=body, headers=api.auth("national"))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["field"], error["rule"]) == (field, rule)
    found = get_alert(api.store, alerts[0])
    assert found is not None
    assert found.status == "open"


def test_who_may_not_act(api: ApiWorld, alerts: list[str]) -> None:
    c = api.client
    for who in ("maker", "other"):
        denied = c.post(f"{A}/{alerts[0]}/resolve", json={"comment": "mine"}, headers=api.auth(who))
        assert denied.status_code == 403
        assert denied.json()["error"]["rule"] == "regulator_only"
    elsewhere = c.post(
        f"{A}/{alerts[0]}/acknowledge", headers=api.auth("other_regulator")
    )  # Fujian's alert, Guangdong's regulator
    assert elsewhere.status_code == 403
    assert elsewhere.json()["error"]["rule"] == "jurisdiction"
    assert c.post(f"{A}/{alerts[0]}/acknowledge").status_code == 401
    unknown = c.post(f"{A}/0123456789abcdef/acknowledge", headers=api.auth("national"))
    assert unknown.status_code == 404
    found = get_alert(api.store, alerts[0])
    assert found is not None
    assert found.status == "open"


def test_actions_are_idempotent(api: ApiWorld, alerts: list[str]) -> None:
    c = api.client
    h = {**api.auth("national"), "Idempotency-Key": "resolve-1"}
    first = c.post(f"{A}/{alerts[1]}/resolve", json={"comment": "done"}, headers=h)
    assert first.status_code == 200
    replay = c.post(f"{A}/{alerts[1]}/resolve", json={"comment": "done"}, headers=h)
    assert replay.status_code == 200
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    reused = c.post(f"{A}/{alerts[1]}/resolve", json={"comment": "other"}, headers=h)
    assert reused.status_code == 409
    assert reused.json()["error"]["rule"] == "idempotency_key_reuse"
    view = c.get(f"{A}/{alerts[1]}", headers=api.auth("national")).json()
    assert [x["status"] for x in view["history"]] == ["open", "resolved"]
