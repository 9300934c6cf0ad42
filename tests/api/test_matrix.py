"""Every route as every kind of caller, from the one matrix in ``battrace.api.matrix``.

The same table renders the matrix in docs/api.md (checked here too), so the document, the
OpenAPI descriptions and the behaviour cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from battrace.api.matrix import BY_NAME, ROUTES, Outcome, Who, render_matrix
from battrace.ledger.submission import generate_key
from battrace.services import log as log_service
from battrace.services.keys import register_key
from battrace.services.tokens import create_token
from battrace.supervision.alerts import reconcile, resolve
from battrace.supervision.findings import Finding, Severity
from tests.api.conftest import ApiWorld, next_serial
from tests.builders import LFP_PACK, code

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


@dataclass
class Req:
    method: str
    path: str
    json: Any = None
    concerned: str = "maker"  # the caller name of the column "the enterprise"
    concerned_token: str | None = None  # or a token of an enterprise made for this request
    params: dict[str, Any] = field(default_factory=dict)


def _record(w: ApiWorld) -> dict[str, Any]:
    return {"code": code(n=next_serial()), "maker": w.ids["maker"], **LFP_PACK}


def _fresh_with_token(w: ApiWorld) -> tuple[str, str]:
    firm = w.add_enterprise()
    return firm, w.token(firm)


def _add_key(w: ApiWorld) -> Req:
    firm, token = _fresh_with_token(w)
    return Req(
        "POST",
        f"/api/v1/enterprises/{firm}/keys",
        {"public_key": generate_key()[1]},
        concerned_token=token,
    )


def _revoke_key(w: ApiWorld) -> Req:
    firm, token = _fresh_with_token(w)
    key = register_key(w.store, firm, generate_key()[1])
    return Req(
        "POST", f"/api/v1/enterprises/{firm}/keys/{key.key_id}/revoke", concerned_token=token
    )


def _revoke_token(w: ApiWorld) -> Req:
    spare, _ = create_token(w.store, w.ids["maker"], label="spare")
    return Req("POST", f"/api/v1/enterprises/{w.ids['maker']}/tokens/{spare.token_id}/revoke")


def _tile(w: ApiWorld) -> Req:
    size = log_service.current_checkpoint(w.store).size
    return Req("GET", f"/tile/entries/000.p/{size}")


def _new_enterprise(w: ApiWorld) -> Req:
    from battrace.codes import generate_credit_code

    credit = generate_credit_code("350100", next_serial())
    body = {"credit_code": credit, "name": "New Firm", "roles": ["repairer"], "division": "350100"}
    return Req("POST", "/api/v1/enterprises", body)


def _alert(
    w: ApiWorld, status: str = "open", about: str = "maker", province: str = "350000"
) -> str:
    """A new alert about ``about`` in ``province`` (the maker's Fujian by default)."""
    rule = f"matrix_{next_serial()}"
    found = Finding(
        rule, Severity.MEDIUM, None, w.ids[about], "matrix", (1,), "for the matrix", province, None
    )
    reconcile(w.store, [found], rules=[rule])
    if status == "resolved":
        resolve(w.store, found.id, w.ids["national"], "made resolved")
    return found.id


def _alerts_here_and_there(w: ApiWorld) -> Req:
    _alert(w)
    _alert(w, about="other", province="440000")
    return Req("GET", "/api/v1/alerts", params={"limit": 1000})


A = "/api/v1/alerts/{alert_id}"
E = "/api/v1/enterprises/{maker}"
BUILDERS: dict[str, Callable[[ApiWorld], Req]] = {
    "health": lambda w: Req("GET", "/health"),
    "checkpoint_note": lambda w: Req("GET", "/checkpoint"),
    "tile": _tile,
    "log_checkpoint": lambda w: Req("GET", "/api/v1/log/checkpoint"),
    "log_key": lambda w: Req("GET", "/api/v1/log/key"),
    "log_leaf": lambda w: Req("GET", "/api/v1/log/leaves/0"),
    "log_inclusion": lambda w: Req("GET", "/api/v1/log/proofs/inclusion", params={"index": 0}),
    "log_consistency": lambda w: Req(
        "GET", "/api/v1/log/proofs/consistency", params={"old_size": 1, "new_size": 2}
    ),
    "list_enterprises": lambda w: Req("GET", "/api/v1/enterprises", params={"limit": 1000}),
    "register_enterprise": _new_enterprise,
    "read_enterprise": lambda w: Req("GET", E.format(maker=w.ids["maker"])),
    "change_whitelist": lambda w: Req(
        "POST",
        E.format(maker=w.ids["maker"]) + "/whitelist",
        {"listed": True, "effective_date": "2024-01-01"},
    ),
    "list_keys": lambda w: Req("GET", E.format(maker=w.ids["maker"]) + "/keys"),
    "add_key": _add_key,
    "revoke_key": _revoke_key,
    "pending_shipments": lambda w: Req(
        "GET", f"/api/v1/enterprises/{w.ids['receiver']}/pending", concerned="receiver"
    ),
    "list_tokens": lambda w: Req("GET", E.format(maker=w.ids["maker"]) + "/tokens"),
    "create_token": lambda w: Req("POST", E.format(maker=w.ids["maker"]) + "/tokens", {}),
    "revoke_token": _revoke_token,
    "register_battery": lambda w: Req("POST", "/api/v1/batteries", _record(w)),
    "register_batteries": lambda w: Req("POST", "/api/v1/batteries/batch", [_record(w)]),
    "list_batteries": lambda w: Req("GET", "/api/v1/batteries", params={"limit": 1000}),
    "read_battery": lambda w: Req("GET", f"/api/v1/batteries/{w.battery}"),
    "battery_passport": lambda w: Req("GET", f"/api/v1/batteries/{w.battery}/passport"),
    "battery_history": lambda w: Req("GET", f"/api/v1/batteries/{w.battery}/history"),
    "battery_state": lambda w: Req("GET", f"/api/v1/batteries/{w.battery}/state"),
    "report_event": lambda w: Req("POST", "/api/v1/events", w.new_battery_event()),
    "report_events": lambda w: Req("POST", "/api/v1/events/batch", [w.new_battery_event()]),
    "read_event": lambda w: Req("GET", "/api/v1/events/1"),
    "list_alerts": _alerts_here_and_there,
    "read_alert": lambda w: Req("GET", A.format(alert_id=_alert(w))),
    "acknowledge_alert": lambda w: Req("POST", A.format(alert_id=_alert(w)) + "/acknowledge"),
    "resolve_alert": lambda w: Req(
        "POST", A.format(alert_id=_alert(w)) + "/resolve", {"comment": "dealt with"}
    ),
    "reopen_alert": lambda w: Req(
        "POST", A.format(alert_id=_alert(w, "resolved")) + "/reopen", {"comment": "not yet"}
    ),
    "read_figures": lambda w: Req("GET", "/api/v1/figures/timeliness"),
}


def _headers(w: ApiWorld, who: Who, req: Req) -> dict[str, str]:
    if who is Who.ANONYMOUS:
        return {}
    if who is Who.ENTERPRISE:
        token = req.concerned_token or w.tokens[req.concerned]
        return {"Authorization": f"Bearer {token}"}
    name = {
        Who.OTHER_ENTERPRISE: "other",
        Who.REGULATOR: "regulator",
        Who.OTHER_REGULATOR: "other_regulator",
        Who.NATIONAL: "national",
    }[who]
    return w.auth(name)


def _check_scope(w: ApiWorld, name: str, who: Who, data: Any) -> None:
    """What an "own" (scoped) answer may hold."""
    items = data["items"]
    if name == "list_enterprises":
        ids = [e["id"] for e in items]
        if who is Who.ENTERPRISE:
            assert ids == [w.ids["maker"]]
        elif who is Who.OTHER_ENTERPRISE:
            assert ids == [w.ids["other"]]
        else:
            wanted = "350000" if who is Who.REGULATOR else "440000"
            assert ids
            assert {e["province"] for e in items} == {wanted}
    elif name == "list_batteries":
        codes = [b["code"] for b in items]
        assert (w.battery in codes) == (who in (Who.ENTERPRISE, Who.REGULATOR))
        if who is Who.REGULATOR:
            assert {b["province"] for b in items} == {"350000"}
    elif name == "list_alerts":
        about = {a["enterprise"] for a in items}
        provinces = {a["province"] for a in items}
        assert items
        if who is Who.ENTERPRISE:
            assert about == {w.ids["maker"]}
        elif who is Who.OTHER_ENTERPRISE:
            assert about == {w.ids["other"]}
        else:
            assert provinces == {"350000" if who is Who.REGULATOR else "440000"}
    elif name == "read_figures":
        firms = {r["enterprise"] for r in items}
        if who is Who.ENTERPRISE:
            assert firms == {w.ids["maker"]}
        elif who is Who.OTHER_ENTERPRISE:
            assert firms <= {w.ids["other"]}
        else:
            wanted = "350000" if who is Who.REGULATOR else "440000"
            assert {r["province"] for r in items} <= {wanted}
    else:  # pragma: no cover - a new scoped route needs its check here
        raise AssertionError(f"no scope check for {name}")


CELLS = [pytest.param(r.name, who, id=f"{r.name}-{who}") for r in ROUTES for who in Who]


@pytest.mark.parametrize(("name", "who"), CELLS)
def test_access_matrix(shared_api: ApiWorld, name: str, who: Who) -> None:
    route = BY_NAME[name]
    req = BUILDERS[name](shared_api)
    assert (req.method, req.path.split("/")[1]) == (route.method, route.path.split("/")[1])
    response = shared_api.client.request(
        req.method,
        req.path,
        json=req.json,
        params=req.params,
        headers=_headers(shared_api, who, req),
    )
    expected = route.outcome(who)
    if expected is Outcome.UNAUTHENTICATED:
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "unauthenticated"
        return
    if expected is Outcome.FORBIDDEN:
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"
        return
    assert response.status_code == route.status, response.text
    if name == "log_leaf":
        assert (response.json()["event"] is None) == (expected is Outcome.PUBLIC)
    if expected is Outcome.OWN:
        _check_scope(shared_api, name, who, response.json())


def test_matrix_covers_every_route(shared_api: ApiWorld) -> None:
    """The OpenAPI document (every route but the docs pages) and the matrix list the same
    routes; EPCIS routes have their own document (docs/epcis.md)."""
    doc = shared_api.client.get("/openapi.json").json()
    served = {
        (method.upper(), path)
        for path, operations in doc["paths"].items()
        if not path.startswith("/epcis")
        for method in operations
    }
    assert served == {(r.method, r.path) for r in ROUTES}
    assert set(BUILDERS) == set(BY_NAME)


def test_openapi_operations_carry_the_matrix(shared_api: ApiWorld) -> None:
    doc = shared_api.client.get("/openapi.json").json()
    for route in ROUTES:
        operation = doc["paths"][route.path][route.method.lower()]
        assert operation["operationId"] == route.name
        assert route.access_line() in operation["description"]


def test_docs_show_the_matrix() -> None:
    assert render_matrix() in DOC.read_text(encoding="utf-8")
