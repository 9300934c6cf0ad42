"""Capture and query on a real SQLite store: the same events as a direct report, all or none."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from battrace.epcis.documents import epcis_document
from battrace.epcis.mapping import epcis_to_event, event_to_epcis, stored_event
from battrace.epcis.service import capture_document, next_page_token, query_events
from battrace.epcis.validate import validate_document
from battrace.errors import BatchError, PermissionDenied, ValidationError
from battrace.services.demo import DemoFirm, demo_events, register_demo_firms
from battrace.services.reporting import SourceItem, report_events
from battrace.store import Store, open_store
from tests.epcis.stories import every_type_story

CREATED = datetime(2024, 5, 1, tzinfo=UTC)
FIXED_NOW = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)


def _now() -> datetime:
    return FIXED_NOW


@pytest.fixture
def world(tmp_path: Path, schema_file: Path) -> Iterator[Store]:
    store = open_store(tmp_path / "x.db")
    register_demo_firms(store)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def reference(tmp_path: Path) -> Iterator[Store]:
    """A second store, for reporting the same events directly."""
    store = open_store(tmp_path / "reference.db")
    register_demo_firms(store)
    try:
        yield store
    finally:
        store.close()


def _document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return epcis_document([event_to_epcis(e) for e in events], created=CREATED)


def _all(store: Store, **params: str) -> list[dict[str, Any]]:
    document = query_events(store, params, limit=1000)
    validate_document(document)
    found = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return [epcis_to_event(e) for e in found]


def test_capture_then_query_gives_the_directly_reported_events(
    schema_file: Path, world: Store, reference: Store, firms: dict[str, DemoFirm]
) -> None:
    events = list(demo_events(3)) + every_type_story(firms)
    # the story's correction names event 9 of a fresh store: shift it past the demo events
    demo_count = len(events) - len(every_type_story(firms))
    events[-1]["body"]["corrects"] += demo_count
    result = capture_document(world, _document(events), trust_reported_at=True, now=_now, log=True)
    assert result["captured"] == len(events)
    assert result["eventIDs"] == [f"urn:battrace:event:{i}" for i in range(1, len(events) + 1)]
    report_events(reference, [SourceItem(e) for e in events], trust_reported_at=True, now=_now)
    expected = [stored_event(row) for row in reference.iter_events()]
    assert _all(world) == expected
    assert {e["type"] for e in expected} >= {"assembled", "swapped", "correction", "repurposed"}


def test_capture_without_trust_ignores_record_time(schema_file: Path, world: Store) -> None:
    events = list(demo_events(1))[:2]
    capture_document(world, _document(events), now=_now)
    got = _all(world)
    assert [e["reported_at"] for e in got] == ["2024-06-01T08:00:00.000000Z"] * 2
    assert [e["type"] for e in got] == ["produced", "shipped"]


def test_one_bad_event_writes_nothing(schema_file: Path, world: Store) -> None:
    events = list(demo_events(2))
    bad = copy.deepcopy(events)
    bad[5]["type"] = "collected"  # a collection of a battery that is in use
    bad[5]["body"] = {}
    with pytest.raises(BatchError) as info:
        capture_document(world, _document(bad), trust_reported_at=True)
    assert info.value.index == 5
    assert world.count("events") == 0
    assert world.count("batteries") == 0
    capture_document(world, _document(events), trust_reported_at=True)
    assert world.count("events") == len(events)


def test_an_unmappable_event_writes_nothing(schema_file: Path, world: Store) -> None:
    document = _document(list(demo_events(1)))
    document["epcisBody"]["eventList"][3]["bizStep"] = "storing"
    with pytest.raises(BatchError) as info:
        capture_document(world, document)
    assert info.value.index == 3
    assert info.value.cause.field == "$.epcisBody.eventList[3].bizStep"
    assert world.count("events") == 0


def test_a_document_the_schema_refuses_writes_nothing(schema_file: Path, world: Store) -> None:
    document = _document(list(demo_events(1)))
    del document["epcisBody"]["eventList"][2]["eventTime"]
    with pytest.raises(ValidationError) as info:
        capture_document(world, document)
    assert info.value.field == "$.epcisBody.eventList[2]"
    assert info.value.rule == "required"
    assert world.count("events") == 0


def test_capture_takes_documents_only(schema_file: Path, world: Store) -> None:
    event = event_to_epcis(next(demo_events(1)))
    query_doc = query_events(world, {})
    for document in (query_doc, {"@context": query_doc["@context"], **event}):
        with pytest.raises(ValidationError) as info:
            capture_document(world, document)
        assert info.value.rule == "document_type"


def test_the_caller_reports_only_its_own_events(
    schema_file: Path, world: Store, firms: dict[str, DemoFirm]
) -> None:
    maker = firms["battery_maker"]
    events = list(demo_events(1))[:2]
    with pytest.raises(PermissionDenied) as info:
        capture_document(world, _document(events), actor=firms["recycler"].credit_code)
    assert info.value.field == "$.epcisBody.eventList[0].battrace:actor"
    assert world.count("events") == 0
    # an event naming no reporter is the caller's
    plain = [{k: v for k, v in event_to_epcis(e).items() if k != "battrace:actor"} for e in events]
    document = epcis_document(plain, created=CREATED)
    assert capture_document(world, document, actor=maker.credit_code)["captured"] == 2
    assert {e["actor"] for e in _all(world)} == {maker.credit_code}


def test_a_retried_capture_is_refused(schema_file: Path, world: Store) -> None:
    events = [event_to_epcis(e) for e in list(demo_events(1))[:2]]
    for i, event in enumerate(events):
        event["eventID"] = f"urn:uuid:00000000-0000-4000-8000-00000000000{i}"
    document = epcis_document(events, created=CREATED)
    capture_document(world, document)
    assert [e["ref"] for e in _all(world)] == [events[0]["eventID"], events[1]["eventID"]]
    with pytest.raises(BatchError) as info:
        capture_document(world, document)
    assert info.value.rule == "ref_unique"
    assert world.count("events") == 2


def test_battrace_event_ids_are_not_captured(schema_file: Path, world: Store) -> None:
    events = list(demo_events(1))[:1]
    capture_document(world, _document(events))
    exported = query_events(world, {})
    document = epcis_document(
        exported["epcisBody"]["queryResults"]["resultsBody"]["eventList"], created=CREATED
    )
    with pytest.raises(BatchError) as info:
        capture_document(world, document)
    assert info.value.rule == "platform_set"


def test_an_empty_document_captures_nothing(schema_file: Path, world: Store) -> None:
    assert capture_document(world, _document([])) == {"captured": 0, "eventIDs": []}


def test_pages_follow_each_other(schema_file: Path, world: Store) -> None:
    events = list(demo_events(3))
    capture_document(world, _document(events), trust_reported_at=True)
    everything = _all(world)
    pages: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        params = {"perPage": "7", **({"nextPageToken": token} if token else {})}
        document = query_events(world, params)
        validate_document(document)
        found = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        assert len(found) <= 7
        pages.extend(epcis_to_event(e) for e in found)
        token = next_page_token(document)
        if token is None:
            break
    assert pages == everything
    assert len(everything) == len(events)


def test_the_default_page_size_is_the_limit(schema_file: Path, world: Store) -> None:
    capture_document(world, _document(list(demo_events(3))), trust_reported_at=True)
    document = query_events(world, {}, limit=5)
    assert len(document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 5
    assert next_page_token(document) is not None


def test_only_visible_events_are_answered(
    schema_file: Path, world: Store, firms: dict[str, DemoFirm]
) -> None:
    capture_document(world, _document(list(demo_events(3))), trust_reported_at=True)
    maker = firms["battery_maker"].credit_code
    mine = query_events(world, {"perPage": "3"}, visible=lambda row: row.actor == maker)
    found = mine["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert len(found) == 3
    assert {e["battrace:actor"] for e in found} == {f"urn:battrace:party:{maker}"}
    rest = query_events(
        world, {"nextPageToken": next_page_token(mine) or ""}, visible=lambda row: False
    )
    assert rest["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []
