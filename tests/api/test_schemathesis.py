"""Schemathesis over the OpenAPI document, against the app in process: generated requests,
valid and invalid, never get a server error, and every answer matches the document (status
code, content type, headers, schema). Bounded: a few dozen examples per operation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis import checks as st_checks

from battrace.api import create_app
from tests.api.conftest import ApiWorld, build_world

EXAMPLES = 20
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_headers_conformance,
    st_checks.response_schema_conformance,
]
# write as the enterprise that may write; read as the national regulator, who sees everything
AS_MAKER = {
    ("POST", "/api/v1/events"),
    ("POST", "/api/v1/events/batch"),
    ("POST", "/api/v1/batteries"),
    ("POST", "/api/v1/batteries/batch"),
}


def _run(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> None:
    @seed(20240401)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
    def check(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    check()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with build_world(tmp_path_factory.mktemp("fuzz") / "fuzz.db") as built:
        yield built


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_requests_conform(world: ApiWorld, mode: GenerationMode) -> None:
    app = create_app(world.store.location, world.settings)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith("/epcis"):
            continue  # documented and tested with EPCIS (docs/epcis.md)
        who = "maker" if (operation.method.upper(), operation.path) in AS_MAKER else "national"
        try:
            _run(operation, mode, world.auth(who))
        except Unsatisfiable:
            # nothing to make invalid: an operation without parameters or body
            assert mode is GenerationMode.NEGATIVE
            continue
        ran += 1
    assert ran >= (29 if mode is GenerationMode.POSITIVE else 20)


def test_document_is_openapi_3(world: ApiWorld, tmp_path: Path) -> None:
    doc = world.client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
