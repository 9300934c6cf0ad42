"""battrace events <-> EPCIS events: exact round trips, derived views, refusals."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from battrace.domain.events import EventType
from battrace.epcis.mapping import epcis_to_event, event_to_epcis
from battrace.epcis.shapes import SHAPES
from battrace.errors import ValidationError
from battrace.services.demo import DemoFirm, demo_events
from tests.epcis.stories import MODULE, PACK, SPARE, every_type_story


@pytest.fixture
def story(firms: dict[str, DemoFirm]) -> list[dict[str, Any]]:
    return every_type_story(firms)


def _one(story: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(e for e in story if e["type"] == kind)


def test_the_story_has_every_type(story: list[dict[str, Any]]) -> None:
    assert {e["type"] for e in story} == {t.value for t in EventType}
    assert set(SHAPES) == set(EventType)


@pytest.mark.parametrize("kind", [t.value for t in EventType])
def test_every_type_round_trips(story: list[dict[str, Any]], kind: str) -> None:
    for event in (e for e in story if e["type"] == kind):
        assert epcis_to_event(event_to_epcis(event)) == event
        stored = {**event, "id": 41, "reported_at": "2024-05-01T01:00:00.000000Z"}
        assert epcis_to_event(event_to_epcis(stored)) == stored


def test_demo_lifecycles_round_trip() -> None:
    events = list(demo_events(12))
    assert [epcis_to_event(event_to_epcis(e)) for e in events] == events


def test_a_bare_date_becomes_midnight_china_time(story: list[dict[str, Any]]) -> None:
    event = {**_one(story, "tested"), "occurred_at": "2024-04-14"}
    epcis = event_to_epcis(event)
    assert epcis["eventTime"] == "2024-04-14T00:00:00+08:00"
    assert epcis_to_event(epcis)["occurred_at"] == "2024-04-14T00:00:00+08:00"


def test_classes_steps_and_dispositions(story: list[dict[str, Any]]) -> None:
    shipped = event_to_epcis(_one(story, "shipped"))
    assert (shipped["type"], shipped["action"], shipped["bizStep"]) == (
        "ObjectEvent",
        "OBSERVE",
        "shipping",
    )
    assert shipped["disposition"] == "in_transit"
    assert shipped["sourceList"][0]["type"] == "possessing_party"
    assert shipped["destinationList"][0]["destination"].startswith("urn:battrace:party:")
    assert "bizLocation" not in shipped
    assert shipped["readPoint"]["id"].startswith("urn:battrace:division:")
    assembled = event_to_epcis(_one(story, "assembled"))
    assert assembled["type"] == "AggregationEvent"
    assert assembled["action"] == "ADD"
    assert assembled["childEPCs"] == [f"urn:battrace:battery:{MODULE}"]
    assert assembled["parentID"] == f"urn:battrace:battery:{PACK}"
    produced = event_to_epcis(_one(story, "produced"))
    assert produced["action"] == "ADD"
    assert produced["bizStep"] == "commissioning"
    assert produced["ilmd"]["battrace:body"]["chemistry"] == "LFP"
    recycled = event_to_epcis(_one(story, "recycled"))
    assert recycled["type"] == "TransformationEvent"
    assert {"epcClass": "urn:battrace:material:cu", "quantity": 20.25, "uom": "KGM"} in recycled[
        "outputQuantityList"
    ]
    assert recycled["battrace:body"]["outputs"]["cu"] == "20.25"  # exact text kept
    repurposed = event_to_epcis(_one(story, "repurposed"))
    assert repurposed["outputEPCList"] == [
        f"urn:battrace:battery:{repurposed['ilmd']['battrace:body']['product']}"
    ]
    disposed = event_to_epcis(_one(story, "disposed"))
    assert (disposed["action"], disposed["disposition"]) == ("DELETE", "disposed")


def test_recycling_without_outputs_names_its_transformation(story: list[dict[str, Any]]) -> None:
    event = copy.deepcopy(_one(story, "recycled"))
    event["body"]["outputs"] = {}
    epcis = event_to_epcis(event)
    assert "outputQuantityList" not in epcis
    assert epcis["transformationID"] == f"urn:battrace:transformation:{PACK}"
    assert epcis_to_event(epcis) == event


# -- reading plain GS1 events: derived views fill in what is missing ----------------------------


def _plain(epcis: dict[str, Any], *drop: str) -> dict[str, Any]:
    return {k: v for k, v in epcis.items() if k not in drop}


def test_a_plain_gs1_shipment_needs_no_extension(story: list[dict[str, Any]]) -> None:
    event = _one(story, "shipped")
    plain = _plain(
        event_to_epcis(event), "battrace:type", "battrace:actor", "battrace:counterparty"
    )
    assert epcis_to_event(plain) == event


def test_receipt_parties_come_from_the_lists(story: list[dict[str, Any]]) -> None:
    event = next(e for e in story if e["type"] == "received" and "counterparty" in e)
    plain = _plain(
        event_to_epcis(event), "battrace:type", "battrace:actor", "battrace:counterparty"
    )
    assert epcis_to_event(plain) == event


def test_assembly_children_come_from_child_epcs(story: list[dict[str, Any]]) -> None:
    event = _one(story, "assembled")
    assert epcis_to_event(_plain(event_to_epcis(event), "battrace:body", "battrace:type")) == event


def test_the_caller_is_the_actor_when_none_is_named(story: list[dict[str, Any]]) -> None:
    event = _one(story, "tested")
    plain = _plain(event_to_epcis(event), "battrace:actor")
    assert epcis_to_event(plain, actor=event["actor"]) == event
    with pytest.raises(ValidationError) as info:
        epcis_to_event(plain)
    assert info.value.field == "$.battrace:actor"


def test_replacing_needs_the_type_or_the_disposition(story: list[dict[str, Any]]) -> None:
    swap = event_to_epcis(_one(story, "swapped"))
    assert epcis_to_event(_plain(swap, "battrace:type"))["type"] == "swapped"
    with pytest.raises(ValidationError) as info:
        epcis_to_event(_plain(swap, "battrace:type", "disposition"))
    assert info.value.field == "$.battrace:type"
    assert "replaced or swapped" in info.value.message


def test_a_foreign_event_id_becomes_the_ref(story: list[dict[str, Any]]) -> None:
    event = {k: v for k, v in _one(story, "tested").items() if k != "ref"}
    epcis = {**event_to_epcis(event), "eventID": "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8"}
    assert epcis_to_event(epcis)["ref"] == "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8"
    stored = event_to_epcis({**event, "id": 7})
    assert stored["eventID"] == "urn:battrace:event:7"
    assert epcis_to_event(stored)["id"] == 7


def test_a_long_foreign_event_id_is_refused(story: list[dict[str, Any]]) -> None:
    epcis = {**event_to_epcis(_one(story, "tested")), "eventID": "urn:x:" + "9" * 200}
    del epcis["battrace:ref"]
    _refused(epcis, ".eventID", "string_length")


def test_cbv_web_uris_read_as_bare_terms(story: list[dict[str, Any]]) -> None:
    event = _one(story, "shipped")
    epcis = event_to_epcis(event)
    epcis["bizStep"] = "https://ref.gs1.org/cbv/BizStep-shipping"
    epcis["disposition"] = "https://ref.gs1.org/cbv/Disp-in_transit"
    assert epcis_to_event(epcis) == event


# -- refusals: each names the field and the rule ------------------------------------------------


def _refused(epcis: dict[str, Any], field: str, rule: str) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        epcis_to_event(epcis, field="$.epcisBody.eventList[0]")
    assert info.value.field == f"$.epcisBody.eventList[0]{field}"
    assert info.value.rule == rule
    return info.value


def test_a_view_that_disagrees_is_refused(story: list[dict[str, Any]]) -> None:
    epcis = {**event_to_epcis(_one(story, "shipped")), "bizStep": "storing"}
    error = _refused(epcis, ".bizStep", "epcis_mapping")
    assert '"shipping"' in error.message
    assert '"storing"' in error.message
    epcis = {**event_to_epcis(_one(story, "tested")), "disposition": "recalled"}
    _refused(epcis, ".disposition", "epcis_mapping")
    epcis = event_to_epcis(_one(story, "shipped"))
    epcis["destinationList"][0]["destination"] = "urn:battrace:party:91110000000000000X"
    _refused(epcis, ".destinationList", "epcis_mapping")
    epcis = event_to_epcis(_one(story, "assembled"))
    epcis["childEPCs"] = [f"urn:battrace:battery:{SPARE}"]
    _refused(epcis, ".childEPCs", "epcis_mapping")


def test_the_class_must_fit_the_type(story: list[dict[str, Any]]) -> None:
    epcis = {**event_to_epcis(_one(story, "tested")), "type": "AggregationEvent"}
    epcis["parentID"] = epcis.pop("epcList")[0]
    _refused(epcis, ".type", "epcis_mapping")


def test_fields_battrace_cannot_keep_are_refused(story: list[dict[str, Any]]) -> None:
    epcis = event_to_epcis(_one(story, "shipped"))
    epcis["bizTransactionList"] = [{"type": "po", "bizTransaction": "urn:x:po:1"}]
    _refused(epcis, ".bizTransactionList", "unmapped_field")
    epcis = {**event_to_epcis(_one(story, "tested")), "example:myField": "x"}
    _refused(epcis, ".example:myField", "unmapped_field")
    epcis = event_to_epcis(_one(story, "produced"))
    epcis["ilmd"]["example:lot"] = "L1"
    _refused(epcis, ".ilmd.example:lot", "unmapped_field")


def test_other_identifiers_are_refused(story: list[dict[str, Any]]) -> None:
    epcis = {
        **event_to_epcis(_one(story, "tested")),
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
    }
    error = _refused(epcis, ".epcList[0]", "uri_form")
    assert "urn:battrace:battery:" in error.message
    elsewhere = {"id": "urn:epc:id:sgln:0614141.07346.1234"}
    epcis = {**event_to_epcis(_one(story, "tested")), "readPoint": elsewhere}
    del epcis["bizLocation"]
    _refused(epcis, ".readPoint.id", "uri_form")
    epcis = {**event_to_epcis(_one(story, "tested")), "battrace:actor": "91350900000000019P"}
    _refused(epcis, ".battrace:actor", "uri_form")


def test_unmapped_event_classes_are_refused(story: list[dict[str, Any]]) -> None:
    epcis = {**event_to_epcis(_one(story, "tested")), "type": "AssociationEvent"}
    _refused(epcis, ".type", "event_class")


def test_one_place_per_event(story: list[dict[str, Any]]) -> None:
    epcis = {
        **event_to_epcis(_one(story, "tested")),
        "bizLocation": {"id": "urn:battrace:division:110000"},
    }
    _refused(epcis, ".bizLocation", "one_place")


def test_a_commissioning_body_lives_in_ilmd(story: list[dict[str, Any]]) -> None:
    epcis = event_to_epcis(_one(story, "produced"))
    epcis["battrace:body"] = epcis.pop("ilmd")["battrace:body"]
    _refused(epcis, ".battrace:body", "body_in_ilmd")


def test_bad_times_and_quantities_name_their_field(story: list[dict[str, Any]]) -> None:
    epcis = {**event_to_epcis(_one(story, "tested")), "eventTime": "2024-04-14"}
    _refused(epcis, ".eventTime", "format")
    epcis = event_to_epcis(_one(story, "recycled"))
    epcis["battrace:body"]["outputs"]["li"] = "lots"
    epcis.pop("outputQuantityList")
    _refused(epcis, ".battrace:body.outputs.li", "value")
    with pytest.raises(ValidationError) as info:
        event_to_epcis({**_one(story, "tested"), "occurred_at": "2024-04-14T09:00:00"})
    assert info.value.field == "occurred_at"
    with pytest.raises(ValidationError) as info:
        event_to_epcis({**_one(story, "tested"), "type": "teleported"})
    assert info.value.field == "type"
