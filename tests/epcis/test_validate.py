"""The GS1 schema, read at run time, with formats checked: what passes and what fails."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from battrace.epcis.documents import epcis_document, query_document
from battrace.epcis.mapping import event_to_epcis
from battrace.epcis.shapes import SHAPES
from battrace.epcis.validate import (
    SCHEMA_ENV,
    SchemaUnavailable,
    schema_errors,
    schema_path,
    validate_document,
)
from battrace.errors import ValidationError
from battrace.services.demo import DemoFirm, demo_events
from tests.epcis.stories import every_type_story

CREATED = datetime(2024, 5, 1, tzinfo=UTC)


def _example_names() -> list[str]:
    folder = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "epcis" / "examples"
    return sorted(p.name for p in folder.glob("*.jsonld")) or ["(no examples found)"]


@pytest.fixture
def document(firms: dict[str, DemoFirm]) -> dict[str, Any]:
    events = every_type_story(firms)
    stored = [
        {**e, "id": i, "reported_at": "2024-05-01T01:00:00.000000Z"}
        for i, e in enumerate(events, start=1)
    ]
    return epcis_document([event_to_epcis(e) for e in stored], created=CREATED)


@pytest.mark.parametrize("name", _example_names())
def test_gs1_examples_validate(examples_folder: Path, name: str) -> None:
    data = json.loads((examples_folder / name).read_text(encoding="utf-8"))
    assert schema_errors(data) == []
    validate_document(data)


def test_every_exported_type_validates(schema_file: Path, document: dict[str, Any]) -> None:
    assert len(document["epcisBody"]["eventList"]) == 27
    assert schema_errors(document, schema=schema_file) == []


def test_demo_world_exports_validate(schema_file: Path) -> None:
    events = [event_to_epcis(e) for e in demo_events(6)]
    validate_document(epcis_document(events, created=CREATED))
    validate_document(query_document(events, created=CREATED, next_page_token="abc"))
    validate_document(query_document([], created=CREATED))


def test_a_single_event_validates_with_its_context(
    schema_file: Path, document: dict[str, Any]
) -> None:
    event = {"@context": document["@context"], **document["epcisBody"]["eventList"][0]}
    validate_document(event)
    del event["@context"]
    with pytest.raises(ValidationError) as info:
        validate_document(event)
    assert info.value.rule == "required"


def test_cbv_terms_battrace_uses_are_in_the_schema(schema_file: Path) -> None:
    definitions = json.loads(schema_file.read_text(encoding="utf-8"))["definitions"]
    steps = set(definitions["bizStep"]["anyOf"][1]["enum"])
    dispositions = set(definitions["disposition"]["anyOf"][1]["enum"])
    assert {s.biz_step for s in SHAPES.values() if s.biz_step} <= steps
    assert {s.disposition for s in SHAPES.values() if s.disposition} <= dispositions


@pytest.mark.parametrize(
    ("breakage", "field", "rule"),
    [
        (lambda e: e.pop("eventTime"), "$.epcisBody.eventList[4]", "required"),
        (lambda e: e.update(eventTime="yesterday"), "$.epcisBody.eventList[4].eventTime", "format"),
        (
            lambda e: e.update(epcList=["not a uri"]),
            "$.epcisBody.eventList[4].epcList[0]",
            "format",
        ),
        (lambda e: e.update(action="MOVE"), "$.epcisBody.eventList[4].action", "enum"),
        (lambda e: e.update(bizStep="not a bizstep!"), "$.epcisBody.eventList[4].bizStep", "anyOf"),
        (
            lambda e: e.update(bizStep="urn:epcglobal:cbv:bizstep:shipping"),
            "$.epcisBody.eventList[4].bizStep",
            "anyOf",
        ),
        (
            lambda e: e.update(eventTimeZoneOffset="8"),
            "$.epcisBody.eventList[4].eventTimeZoneOffset",
            "pattern",
        ),
    ],
)
def test_broken_documents_fail_naming_the_path(
    schema_file: Path, document: dict[str, Any], breakage: Any, field: str, rule: str
) -> None:
    broken = copy.deepcopy(document)
    assert broken["epcisBody"]["eventList"][4]["bizStep"] == "shipping"
    breakage(broken["epcisBody"]["eventList"][4])
    with pytest.raises(ValidationError) as info:
        validate_document(broken)
    assert info.value.field == field
    assert info.value.rule == rule
    assert info.value.message.startswith(field)
    assert f"[EPCIS schema rule {rule}]" in info.value.message


def test_the_document_header_is_checked(schema_file: Path, document: dict[str, Any]) -> None:
    broken = {k: v for k, v in document.items() if k != "creationDate"}
    with pytest.raises(ValidationError) as info:
        validate_document(broken)
    assert (info.value.field, info.value.rule) == ("$", "required")


def test_formats_are_really_checked(schema_file: Path) -> None:
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    assert checker.conforms("2024-04-01T09:00:00+08:00", "date-time")
    assert not checker.conforms("2024-04-01", "date-time")
    assert checker.conforms("urn:battrace:battery:N1D", "uri")
    assert not checker.conforms("not a uri", "uri")


def test_schema_path_override_and_absence(schema_file: Path, tmp_path: Path) -> None:
    assert schema_path({SCHEMA_ENV: str(schema_file)}) == schema_file
    assert schema_path({SCHEMA_ENV: str(schema_file.parents[1])}) == schema_file
    missing = tmp_path / "nowhere.json"
    with pytest.raises(SchemaUnavailable) as info:
        schema_path({SCHEMA_ENV: str(missing)})
    assert str(missing) in info.value.message
    assert SCHEMA_ENV in info.value.message
    with pytest.raises(SchemaUnavailable):
        validate_document({"type": "EPCISDocument"}, schema=missing)


def test_an_unusable_schema_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "EPCIS-JSON-Schema.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(SchemaUnavailable) as info:
        validate_document({}, schema=bad)
    assert str(bad) in info.value.message
