"""``GET /api/v1/figures/{kind}``: answers as the service computes them, and who sees what.

The API world (tests/api/conftest.py) with the figures' story (tests/supervision/
test_figures.py) reported into it. The route is served by an app made here with the router
included (until ``create_app`` includes it, then the app's own).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode
from schemathesis import checks as st_checks

from battrace.api import create_app, figure_routes
from battrace.api.figure_routes import ROUTE, figure_scope
from battrace.api.matrix import Outcome, Who
from battrace.domain.access import Caller
from battrace.errors import PermissionDenied, Unauthenticated, ValidationError
from battrace.supervision.figures import FIGURE_KINDS, figures
from tests.api.conftest import ApiWorld, build_world
from tests.supervision.test_figures import REC2, VM2_ROW, VM_ROW, C, fill

PATH = "/api/v1/figures/{kind}"


@dataclass
class FigWorld:
    world: ApiWorld
    client: TestClient

    def get(
        self, kind: str, who: str | None = None, token: str | None = None, **params: Any
    ) -> Any:
        headers = {}
        if who is not None:
            headers = self.world.auth(who)
        if token is not None:
            headers = {"Authorization": f"Bearer {token}"}
        return self.client.get(f"/api/v1/figures/{kind}", params=params, headers=headers)


def _serves_figures(app: FastAPI) -> bool:
    return any(
        getattr(r, "path", None) == PATH
        or getattr(r, "original_router", None) is figure_routes.router
        for r in app.routes
    )


def figures_app(world: ApiWorld) -> FastAPI:
    app = create_app(world.store.location, world.settings)
    if not _serves_figures(app):
        app.include_router(figure_routes.router)
    return app


@pytest.fixture(scope="module")
def fw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FigWorld]:
    with build_world(tmp_path_factory.mktemp("figapi") / "api.db") as world:
        fill(world.store)
        app = figures_app(world)
        with TestClient(app) as client:
            yield FigWorld(world, client)


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    return error


# -- answers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", FIGURE_KINDS)
def test_national_regulator_sees_the_service_figures(fw: FigWorld, kind: str) -> None:
    response = fw.get(kind, "national")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == kind
    assert body["items"] == figures(fw.world.store, kind)
    assert body["filters"] == dict.fromkeys(
        ("as_of", "year", "year_to", "province", "chemistry", "enterprise", "level")
    )


def test_filters_pass_through(fw: FigWorld) -> None:
    body = fw.get("collection", "national", year=2025, province="34").json()
    assert body["items"] == [VM2_ROW]
    assert body["filters"]["province"] == "340000"
    assert body["filters"]["year"] == 2025
    body = fw.get("recovery", "national", enterprise=REC2, as_of="2024-12-31").json()
    assert [r["recycler"] for r in body["items"]] == [REC2]
    assert body["filters"]["as_of"] == "2024-12-31"
    body = fw.get("flows", "national", chemistry="NCM", year=2024, year_to=2024).json()
    assert {(r["source"], r["target"]): r["count"] for r in body["items"]}[
        "recycler", "recycled"
    ] == 1
    body = fw.get("provinces", "national", level="module").json()
    assert [r["province"] for r in body["items"]] == ["total"]
    expected = figures(fw.world.store, "trend", as_of=date(2024, 6, 30))
    assert fw.get("trend", "national", as_of="2024-06-30").json()["items"] == expected


@pytest.mark.parametrize(
    ("kind", "params", "field", "rule"),
    [
        ("nope", {}, "kind", None),
        ("provinces", {"year": 2024}, "year", "not_applicable"),
        ("trend", {"chemistry": "LFP"}, "chemistry", "not_applicable"),
        ("trend", {"year": 1999}, "year", None),
        ("trend", {"province": "4"}, "province", None),
        ("trend", {"province": "990000"}, "province", None),
        ("trend", {"as_of": "2024-13-01"}, "as_of", None),
        ("collection", {"enterprise": "not-a-code"}, "enterprise", None),
        ("collection", {"chemistry": "lfp"}, "chemistry", None),
        ("flows", {"year": 2024, "year_to": 2020}, "year_to", "range"),
    ],
)
def test_bad_kind_or_filter_is_422(
    fw: FigWorld, kind: str, params: dict[str, Any], field: str, rule: str | None
) -> None:
    response = fw.get(kind, "national", **params)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field
    if rule is not None:
        assert error["rule"] == rule


# -- who sees what ------------------------------------------------------------------------------
def test_anonymous_is_401(fw: FigWorld) -> None:
    response = fw.get("trend")
    _error(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    _error(fw.get("trend", token="btk_not-a-token"), 401, "unauthenticated")


def test_provincial_regulator_sees_its_province(fw: FigWorld) -> None:
    fujian = fw.get("provinces", "regulator").json()
    assert [r["province"] for r in fujian["items"]] == ["350000", "total"]
    assert fujian["filters"]["province"] == "350000"
    assert fw.get("provinces", "regulator", province="35").json() == fujian
    assert fw.get("provinces", "regulator", province="350000").json() == fujian
    error = _error(fw.get("provinces", "regulator", province="44"), 403, "forbidden")
    assert (error["field"], error["rule"]) == ("province", "jurisdiction")
    timeliness = fw.get("timeliness", "regulator").json()["items"]
    assert timeliness
    assert {r["province"] for r in timeliness} == {"350000"}
    # an enterprise elsewhere: nothing to see in Fujian
    assert fw.get("recovery", "regulator", enterprise=REC2).json()["items"] == []
    guangdong = fw.get("trend", "other_regulator").json()
    assert guangdong["filters"]["province"] == "440000"
    assert guangdong["items"] == figures(fw.world.store, "trend", province="44")


def test_enterprise_sees_itself(fw: FigWorld) -> None:
    vm = fw.world.token(C.vm.credit_code)
    body = fw.get("collection", token=vm).json()
    assert body["items"] == [VM_ROW]
    assert body["filters"]["enterprise"] == C.vm.credit_code
    assert fw.get("collection", token=vm, enterprise=C.vm.credit_code).json() == body
    mine = fw.get("timeliness", "maker").json()["items"]
    assert [r["enterprise"] for r in mine] == [fw.world.ids["maker"]]
    rec2 = fw.world.token(REC2)
    assert [r["recycler"] for r in fw.get("recovery", token=rec2).json()["items"]] == [REC2]
    error = _error(fw.get("collection", token=vm, enterprise=C.vm2.credit_code), 403, "forbidden")
    assert (error["field"], error["rule"]) == ("enterprise", "own_figures_only")
    for kind in ("provinces", "trend", "flows"):
        error = _error(fw.get(kind, token=vm), 403, "forbidden")
        assert (error["field"], error["rule"]) == ("kind", "regulators_only")


CALLERS = {
    Who.ANONYMOUS: None,
    Who.ENTERPRISE: "maker",
    Who.OTHER_ENTERPRISE: "other",
    Who.REGULATOR: "regulator",
    Who.OTHER_REGULATOR: "other_regulator",
    Who.NATIONAL: "national",
}


@pytest.mark.parametrize("who", list(Who))
def test_access_as_the_matrix_row_says(fw: FigWorld, who: Who) -> None:
    """What tests/api/test_matrix.py checks once the row is in the matrix (its builder:
    ``GET /api/v1/figures/timeliness``)."""
    response = fw.get("timeliness", CALLERS[who])
    expected = ROUTE.outcome(who)
    if expected is Outcome.UNAUTHENTICATED:
        _error(response, 401, "unauthenticated")
        return
    assert response.status_code == ROUTE.status, response.text
    items = response.json()["items"]
    ids = fw.world.ids
    if who is Who.ENTERPRISE:
        assert {r["enterprise"] for r in items} == {ids["maker"]}
    elif who is Who.OTHER_ENTERPRISE:
        assert {r["enterprise"] for r in items} <= {ids["other"]}
    elif who is Who.REGULATOR:
        assert items
        assert {r["province"] for r in items} == {"350000"}
    elif who is Who.OTHER_REGULATOR:
        assert {r["province"] for r in items} <= {"440000"}
    else:
        assert expected is Outcome.YES
        assert len({r["province"] for r in items}) > 2


def test_figure_scope_rules(fw: FigWorld) -> None:
    store = fw.world.store

    def caller(name: str) -> Caller:
        return Caller(store.enterprise(fw.world.ids[name]))

    with pytest.raises(Unauthenticated):
        figure_scope(Caller(), "trend", None, None)
    assert figure_scope(caller("national"), "flows", "44", None) == ("44", None)
    assert figure_scope(caller("national"), "trend", None, None) == (None, None)
    assert figure_scope(caller("regulator"), "flows", None, None) == ("35", None)
    assert figure_scope(caller("regulator"), "timeliness", "350100", REC2) == ("35", REC2)
    with pytest.raises(PermissionDenied):
        figure_scope(caller("other_regulator"), "trend", "35", None)
    maker = fw.world.ids["maker"]
    assert figure_scope(caller("maker"), "timeliness", None, None) == (None, maker)
    assert figure_scope(caller("maker"), "recovery", "44", maker) == ("44", maker)
    with pytest.raises(PermissionDenied):
        figure_scope(caller("maker"), "trend", None, None)
    with pytest.raises(PermissionDenied):
        figure_scope(caller("maker"), "timeliness", None, fw.world.ids["other"])
    with pytest.raises(ValidationError):
        figure_scope(caller("maker"), "timeliness", "99", None)


# -- the document -------------------------------------------------------------------------------
def test_openapi_documents_the_route(fw: FigWorld) -> None:
    doc = fw.client.get("/openapi.json").json()
    operation = doc["paths"][PATH]["get"]
    assert operation["operationId"] == ROUTE.name
    assert ROUTE.access_line() in operation["description"]
    kind = next(p for p in operation["parameters"] if p["name"] == "kind")
    schema = kind["schema"]
    enum = schema.get("enum") or doc["components"]["schemas"][schema["$ref"].split("/")[-1]]["enum"]
    assert tuple(enum) == FIGURE_KINDS


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_requests_conform(fw: FigWorld, mode: GenerationMode) -> None:
    """As tests/api/test_schemathesis.py does for every route: no server error, answers as
    documented."""
    # a new app: the run starts and stops its lifespan, which closes its stores
    schema = schemathesis.openapi.from_asgi("/openapi.json", figures_app(fw.world))
    checks = [
        st_checks.not_a_server_error,
        st_checks.status_code_conformance,
        st_checks.content_type_conformance,
        st_checks.response_schema_conformance,
    ]
    operation = next(r.ok() for r in schema.get_all_operations() if r.ok().path == PATH)

    @seed(20240401)
    @settings(
        max_examples=15,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, headers=fw.world.auth("national")))
    def check(case: Any) -> None:
        case.call_and_validate(checks=checks)

    check()
