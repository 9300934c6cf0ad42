"""The EPCIS routes inside the API app: capture as the caller, query what it may read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from battrace.api import create_app
from battrace.config import load_settings
from battrace.epcis.documents import epcis_document
from battrace.epcis.mapping import epcis_to_event, event_to_epcis
from battrace.epcis.validate import validate_document
from battrace.services.demo import DemoFirm, demo_events, demo_firms, register_demo_firms
from battrace.services.tokens import create_token
from battrace.store import Store, open_store

CREATED = datetime(2024, 5, 1, tzinfo=UTC)


@dataclass
class Api:
    client: TestClient
    store: Store
    firms: dict[str, DemoFirm]
    tokens: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def api(tmp_path: Path, schema_file: Path) -> Iterator[Api]:
    db = tmp_path / "api.db"
    store = open_store(db)
    register_demo_firms(store)
    firms: dict[str, DemoFirm] = {}
    for firm in demo_firms():
        firms.setdefault(firm.roles[0], firm)
    tokens = {role: create_token(store, firm.credit_code)[1] for role, firm in firms.items()}
    with TestClient(create_app(str(db), load_settings({}))) as client:
        yield Api(client, store, firms, tokens)
    store.close()


def _maker_document() -> dict[str, Any]:
    """The first demo pack made and shipped by the first battery maker, as EPCIS."""
    events = [{k: v for k, v in e.items() if k != "reported_at"} for e in demo_events(1)]
    return epcis_document([event_to_epcis(e) for e in events[:2]], created=CREATED)


def test_capture_then_query(api: Api) -> None:
    answer = api.client.post(
        "/epcis/capture",
        content=_json(_maker_document()),
        headers={**api.auth("battery_maker"), "Content-Type": "application/ld+json"},
    )
    assert answer.status_code == 202, answer.text
    assert answer.json() == {
        "captured": 2,
        "eventIDs": ["urn:battrace:event:1", "urn:battrace:event:2"],
    }
    found = api.client.get(
        "/epcis/events", params={"EQ_bizStep": "shipping"}, headers=api.auth("battery_maker")
    )
    assert found.status_code == 200
    assert found.headers["content-type"].startswith("application/ld+json")
    document = found.json()
    validate_document(document)
    events = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [epcis_to_event(e)["type"] for e in events] == ["shipped"]


def test_pages_are_linked(api: Api) -> None:
    headers = api.auth("battery_maker")
    api.client.post("/epcis/capture", content=_json(_maker_document()), headers=headers)
    first = api.client.get("/epcis/events", params={"perPage": "1"}, headers=headers)
    link = first.headers["link"]
    assert link.endswith('>; rel="next"')
    following = api.client.get(link[1 : link.index(">")], headers=headers)
    assert following.status_code == 200
    assert "link" not in following.headers
    ids = [
        page.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]["eventID"]
        for page in (first, following)
    ]
    assert ids == ["urn:battrace:event:1", "urn:battrace:event:2"]


def test_capture_needs_an_enterprise(api: Api) -> None:
    answer = api.client.post("/epcis/capture", content=_json(_maker_document()))
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"


def test_a_query_needs_an_enterprise(api: Api) -> None:
    answer = api.client.get("/epcis/events")
    assert answer.status_code == 401
    assert answer.json()["error"]["field"] == "Authorization"
    assert api.client.get("/epcis/events", headers=api.auth("recycler")).status_code == 200


def test_capture_is_refused_for_another_enterprise(api: Api) -> None:
    answer = api.client.post(
        "/epcis/capture", content=_json(_maker_document()), headers=api.auth("recycler")
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["rule"] == "own_events_only"
    assert api.store.count("events") == 0


def test_bad_documents_name_the_problem(api: Api) -> None:
    headers = api.auth("battery_maker")
    answer = api.client.post("/epcis/capture", content=b"{not json", headers=headers)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "body"
    document = _maker_document()
    del document["epcisBody"]["eventList"][1]["eventTime"]
    answer = api.client.post("/epcis/capture", content=_json(document), headers=headers)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "$.epcisBody.eventList[1]"
    assert answer.json()["error"]["rule"] == "required"


def test_unknown_query_parameters_are_400(api: Api) -> None:
    answer = api.client.get(
        "/epcis/events", params={"orderBy": "eventTime"}, headers=api.auth("battery_maker")
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == "orderBy"


def test_readers_see_only_what_they_may(api: Api) -> None:
    api.client.post(
        "/epcis/capture", content=_json(_maker_document()), headers=api.auth("battery_maker")
    )
    everyone = api.client.get("/epcis/events", headers=api.auth("battery_maker")).json()
    stranger = api.client.get("/epcis/events", headers=api.auth("swap_operator")).json()
    seen = stranger["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert len(everyone["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2
    assert len(seen) < 2


def _json(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document)
