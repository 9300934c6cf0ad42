"""EPCIS query parameters on a real store: each one filters in, filters out, or is refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from battrace.epcis.documents import epcis_document
from battrace.epcis.mapping import event_to_epcis
from battrace.epcis.query import QueryParameterError, decode_page_token, encode_page_token
from battrace.epcis.service import capture_document, query_events
from battrace.services.demo import DemoFirm, demo_events, demo_firms, register_demo_firms
from battrace.store import Store, open_store
from tests.builders import code
from tests.epcis.stories import MODULE, PACK, SPARE, every_type_story

FIRMS: dict[str, DemoFirm] = {}
for _firm in demo_firms():
    FIRMS.setdefault(_firm.roles[0], _firm)
MAKER = FIRMS["battery_maker"]
VM = FIRMS["vehicle_maker"]
RECYCLER = FIRMS["recycler"]
REGULATOR = FIRMS["regulator"]
SECOND_LIFE = code("E7L", 1, second_life=True)
NOBODY = code(n=99)


def _party(firm: DemoFirm) -> str:
    return f"urn:battrace:party:{firm.credit_code}"


def _epc(battery: str) -> str:
    return f"urn:battrace:battery:{battery}"


def _division(division: str) -> str:
    return f"urn:battrace:division:{division}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, schema_file: Path) -> Iterator[Store]:
    """The every-type story (recorded 2024-06-01) then six demo lifecycles (own times)."""
    store = open_store(tmp_path_factory.mktemp("epcis") / "x.db")
    register_demo_firms(store)
    created = datetime(2024, 6, 1, tzinfo=UTC)

    def document(events: list[dict[str, Any]]) -> dict[str, Any]:
        return epcis_document([event_to_epcis(e) for e in events], created=created)

    capture_document(
        store,
        document(every_type_story(FIRMS)),
        now=lambda: datetime(2024, 6, 1, 8, tzinfo=UTC),
    )
    capture_document(store, document(list(demo_events(6))), trust_reported_at=True)
    try:
        yield store
    finally:
        store.close()


def _found(store: Store, params: dict[str, str | list[str]]) -> list[dict[str, Any]]:
    document = query_events(store, {**params, "perPage": "1000"})
    found: list[dict[str, Any]] = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return found


def _time(event: dict[str, Any], key: str) -> datetime:
    return datetime.fromisoformat(event[key])


def _epcs(event: dict[str, Any], *keys: str) -> set[str]:
    found: set[str] = set()
    for key in keys:
        value = event.get(key)
        found.update([value] if isinstance(value, str) else value or [])
    return found


Check = Callable[[dict[str, Any]], bool]
APRIL = datetime(2024, 4, 1, tzinfo=UTC)

FILTERS_IN: list[tuple[dict[str, str | list[str]], Check]] = [
    ({"eventType": "TransformationEvent"}, lambda e: e["type"] == "TransformationEvent"),
    (
        {"eventType": "AggregationEvent|TransformationEvent"},
        lambda e: e["type"] != "ObjectEvent",
    ),
    (
        {"GE_eventTime": "2024-04-01T00:00:00+00:00"},
        lambda e: _time(e, "eventTime") >= APRIL,
    ),
    (
        {"LT_eventTime": "2021-02-01T00:00:00+08:00"},
        lambda e: e["eventTime"] < "2021-02-01",
    ),
    (
        {"GE_recordTime": "2024-06-01T08:00:00Z"},
        lambda e: _time(e, "recordTime") >= datetime(2024, 6, 1, 8, tzinfo=UTC),
    ),
    ({"LT_recordTime": "2021-03-01T00:00:00Z"}, lambda e: e["recordTime"] < "2021-03-01"),
    ({"EQ_action": "ADD"}, lambda e: e.get("action") == "ADD"),
    ({"EQ_action": "DELETE"}, lambda e: e["battrace:type"] == "disposed"),
    ({"EQ_bizStep": "shipping|receiving"}, lambda e: e["bizStep"] in ("shipping", "receiving")),
    (
        {"EQ_bizStep": ["inspecting", "repairing"]},
        lambda e: e["bizStep"] in ("inspecting", "repairing"),
    ),
    ({"EQ_disposition": "in_transit"}, lambda e: e["battrace:type"] == "shipped"),
    (
        {"EQ_disposition": "https://ref.gs1.org/cbv/Disp-destroyed"},
        lambda e: e["battrace:type"] == "recycled",
    ),
    (
        {"EQ_readPoint": _division(MAKER.division)},
        lambda e: e["readPoint"]["id"] == _division(MAKER.division),
    ),
    (
        {"EQ_bizLocation": _division(MAKER.division)},
        lambda e: e["bizStep"] != "shipping" and e["readPoint"]["id"].endswith(MAKER.division),
    ),
    ({"WD_readPoint": _division("350000")}, lambda e: e["readPoint"]["id"].endswith("350900")),
    (
        {"WD_bizLocation": _division("350000")},
        lambda e: e["bizLocation"]["id"].startswith(_division("35")),
    ),
    (
        {"EQ_eventID": "urn:battrace:event:3|urn:battrace:event:5"},
        lambda e: e["eventID"] in ("urn:battrace:event:3", "urn:battrace:event:5"),
    ),
    ({"MATCH_epc": _epc(PACK)}, lambda e: _epc(PACK) in _epcs(e, "epcList", "childEPCs")),
    ({"MATCH_parentID": _epc(PACK)}, lambda e: e["battrace:type"] == "assembled"),
    ({"MATCH_inputEPC": _epc(PACK)}, lambda e: e["battrace:type"] == "recycled"),
    ({"MATCH_outputEPC": _epc(SECOND_LIFE)}, lambda e: e["battrace:type"] == "repurposed"),
    (
        {"MATCH_anyEPC": _epc(MODULE)},
        lambda e: e["battrace:type"] in ("produced", "assembled", "disposed"),
    ),
    (
        {"MATCH_outputEPCClass": "urn:battrace:material:li"},
        lambda e: e["battrace:type"] == "recycled",
    ),
    (
        {"MATCH_anyEPCClass": "urn:battrace:material:cu"},
        lambda e: e["battrace:type"] == "recycled",
    ),
    (
        {"EQ_source_possessing_party": _party(MAKER)},
        lambda e: _party(MAKER) in {s["source"] for s in e["sourceList"]},
    ),
    (
        {"EQ_destination_possessing_party": _party(VM)},
        lambda e: _party(VM) in {d["destination"] for d in e["destinationList"]},
    ),
    ({"EQ_battrace:type": "tested"}, lambda e: e["bizStep"] == "inspecting"),
    ({"EQ_battrace:actor": _party(RECYCLER)}, lambda e: e["battrace:actor"] == _party(RECYCLER)),
    (
        {"EQ_battrace:counterparty": _party(VM)},
        lambda e: e["battrace:counterparty"] == _party(VM),
    ),
    (  # parameters combine: all must hold
        {"MATCH_epc": _epc(PACK), "EQ_bizStep": "shipping"},
        lambda e: e["bizStep"] == "shipping" and _epc(PACK) in e["epcList"],
    ),
]

FILTERS_OUT: list[dict[str, str | list[str]]] = [
    {"eventType": "AssociationEvent"},
    {"GE_eventTime": "2030-01-01T00:00:00Z"},
    {"LT_eventTime": "2000-01-01T00:00:00Z"},
    {"GE_recordTime": "2030-01-01T00:00:00Z"},
    {"LT_recordTime": "2000-01-01T00:00:00+08:00"},
    {"EQ_action": "DELETE", "eventType": "AggregationEvent"},
    {"EQ_bizStep": "stocking"},
    {"EQ_bizStep": "urn:example:bizstep:welding"},
    {"EQ_disposition": "recalled"},
    {"EQ_readPoint": _division("650100")},
    {"EQ_bizLocation": _division("650100")},
    {"WD_readPoint": _division("650000")},
    {"WD_bizLocation": _division("650000")},
    {"EQ_eventID": "urn:battrace:event:99999|urn:uuid:8f0c6a2e-0000-4000-8000-000000000000"},
    {"MATCH_epc": _epc(NOBODY)},
    {"MATCH_epc": "urn:epc:id:sgtin:0614141.107346.2017"},
    {"MATCH_parentID": _epc(SPARE)},
    {"MATCH_inputEPC": _epc(MODULE)},
    {"MATCH_outputEPC": _epc(PACK)},
    {"MATCH_anyEPC": _epc(NOBODY)},
    {"MATCH_epcClass": "urn:battrace:material:li"},
    {"MATCH_inputEPCClass": "urn:battrace:material:li"},
    {"MATCH_outputEPCClass": "urn:battrace:material:unobtainium"},
    {"MATCH_anyEPCClass": "urn:battrace:material:unobtainium"},
    {"EQ_source_possessing_party": _party(REGULATOR)},
    {"EQ_source_owning_party": _party(MAKER)},
    {"EQ_destination_possessing_party": _party(REGULATOR)},
    {"EQ_battrace:type": "disposed", "MATCH_epc": _epc(PACK)},
    {"EQ_battrace:actor": _party(REGULATOR)},
    {"EQ_battrace:counterparty": _party(REGULATOR)},
]


@pytest.mark.parametrize(("params", "check"), FILTERS_IN, ids=[str(p) for p, _ in FILTERS_IN])
def test_parameter_filters_in(
    schema_file: Path, world: Store, params: dict[str, str | list[str]], check: Check
) -> None:
    everything = _found(world, {})
    found = _found(world, params)
    assert found, "the parameter matched nothing"
    assert all(check(e) for e in found)
    assert len(found) < len(everything)
    assert found == [e for e in everything if e in found]  # in order, and as exported


@pytest.mark.parametrize("params", FILTERS_OUT, ids=[str(p) for p in FILTERS_OUT])
def test_parameter_filters_out(
    schema_file: Path, world: Store, params: dict[str, str | list[str]]
) -> None:
    assert _found(world, params) == []


def test_match_and_event_id_look_up_instead_of_scanning(schema_file: Path, world: Store) -> None:
    class Counting:
        def __init__(self, inner: Store) -> None:
            self.inner = inner
            self.scans = 0

        def __getattr__(self, name: str) -> Any:
            if name == "iter_events":
                self.scans += 1
            return getattr(self.inner, name)

    counting = Counting(world)
    assert _found(counting, {"MATCH_anyEPC": _epc(MODULE)})  # type: ignore[arg-type]
    assert _found(counting, {"EQ_eventID": "urn:battrace:event:2"})  # type: ignore[arg-type]
    assert counting.scans == 0
    assert _found(counting, {"EQ_bizStep": "shipping"})  # type: ignore[arg-type]
    assert counting.scans == 1


@pytest.mark.parametrize(
    ("params", "name", "rule"),
    [
        ({"EQ_foo": "x"}, "EQ_foo", "unknown_parameter"),
        ({"orderBy": "eventTime"}, "orderBy", "unknown_parameter"),
        ({"EQ_source_owner": _party(MAKER)}, "EQ_source_owner", "unknown_parameter"),
        ({"perPage": "0"}, "perPage", "range"),
        ({"perPage": "abc"}, "perPage", "range"),
        ({"perPage": "1001"}, "perPage", "range"),
        ({"perPage": ["5", "6"]}, "perPage", "single_value"),
        ({"GE_eventTime": "yesterday"}, "GE_eventTime", "date_time"),
        ({"LT_eventTime": "2024-04-01"}, "LT_eventTime", "date_time"),
        ({"GE_recordTime": "2024-04-01T00:00:00"}, "GE_recordTime", "date_time"),
        ({"LT_recordTime": "2024-02-30T00:00:00Z"}, "LT_recordTime", "date_time"),
        ({"eventType": "Foo"}, "eventType", "enum"),
        ({"EQ_action": "MOVE"}, "EQ_action", "enum"),
        ({"EQ_bizStep": "Not A Term"}, "EQ_bizStep", "cbv_term"),
        ({"EQ_disposition": "in_transit||active"}, "EQ_disposition", "empty"),
        ({"MATCH_epc": "not a uri"}, "MATCH_epc", "uri"),
        ({"EQ_bizLocation": ""}, "EQ_bizLocation", "empty"),
        ({"EQ_battrace:type": "teleported"}, "EQ_battrace:type", "enum"),
        ({"nextPageToken": "garbage"}, "nextPageToken", "value"),
    ],
)
def test_bad_parameters_are_named(
    schema_file: Path, world: Store, params: dict[str, str | list[str]], name: str, rule: str
) -> None:
    with pytest.raises(QueryParameterError) as info:
        query_events(world, params)
    assert (info.value.field, info.value.rule) == (name, rule)
    assert info.value.message.startswith(f"{name}: ")
    assert info.value.status == 400
    assert info.value.to_dict()["error"]["code"] == "query_parameter"


def test_an_unknown_parameter_lists_the_known_ones(schema_file: Path, world: Store) -> None:
    with pytest.raises(QueryParameterError) as info:
        query_events(world, {"EQ_source": _party(MAKER)})
    assert "EQ_source_possessing_party" in info.value.message
    assert "QueryParameterException" in info.value.message


def test_a_plus_sent_unencoded_still_reads(schema_file: Path, world: Store) -> None:
    plain = _found(world, {"GE_eventTime": "2024-04-20T00:00:00+08:00"})
    assert plain == _found(world, {"GE_eventTime": "2024-04-20T00:00:00 08:00"})


def test_page_tokens_round_trip() -> None:
    assert decode_page_token(encode_page_token(12345)) == 12345
