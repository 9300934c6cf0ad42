from __future__ import annotations

import pytest

from battrace.errors import NotFoundError, ValidationError
from battrace.services.demo import load_demo
from battrace.services.queries import battery_view, list_batteries, pending_shipments
from battrace.services.reporting import report_event
from battrace.store import Store
from tests.builders import LFP_MODULE, code, event, produced


def test_battery_view_has_everything(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker, vm = firms["battery_maker"], firms["vehicle_maker"]
    module = code(level="module")
    report_event(sqlite_world, produced(maker, [module], LFP_MODULE))
    report_event(sqlite_world, produced(maker, [code()], children=[module]))
    report_event(sqlite_world, event("shipped", maker, [code()], counterparty=vm))
    view = battery_view(sqlite_world, code())
    assert view["state"] == "in_stock"
    assert view["holder"] == maker.credit_code
    assert view["pending_to"] == vm.credit_code
    assert view["children"] == [module]
    assert view["spec"]["composition"]["li"] == "4.1"
    assert [e["type"] for e in view["history"]] == ["produced", "shipped"]
    inner = battery_view(sqlite_world, module)
    assert inner["holder"] is None
    assert inner["effective_holder"] == maker.credit_code
    assert [e["type"] for e in inner["history"]] == ["produced", "produced"]
    assert pending_shipments(sqlite_world, vm.credit_code)[0]["battery"] == code()
    assert pending_shipments(sqlite_world, maker.credit_code) == []


def test_unknown_and_malformed_codes(sqlite_world: Store) -> None:
    with pytest.raises(NotFoundError):
        battery_view(sqlite_world, code(n=77))
    with pytest.raises(ValidationError):
        battery_view(sqlite_world, "XYZ")


def test_list_pages_and_filters(sqlite_store: Store) -> None:
    load_demo(sqlite_store, 60)
    recycled = list_batteries(sqlite_store, state="recycled", limit=5)
    assert len(recycled["items"]) == 5
    assert recycled["next"] is not None
    assert {b["state"] for b in recycled["items"]} == {"recycled"}
    second = list_batteries(sqlite_store, state="recycled", limit=5, after=recycled["next"])
    assert not {b["code"] for b in second["items"]} & {b["code"] for b in recycled["items"]}
    everything = list_batteries(sqlite_store, limit=10_000)
    assert everything["next"] is None
    by_province = list_batteries(sqlite_store, province="43", limit=10_000)["items"]
    assert by_province
    assert {b["province"] for b in by_province} == {"430000"}
    with pytest.raises(ValidationError, match="limit"):
        list_batteries(sqlite_store, limit=0)
    with pytest.raises(ValidationError, match="province"):
        list_batteries(sqlite_store, province="Hunan")


def test_second_life_links(sqlite_store: Store) -> None:
    load_demo(sqlite_store, 60)
    products = [b for b in list_batteries(sqlite_store, limit=10_000)["items"] if b["second_life"]]
    assert products
    original = products[0]["predecessors"][0]
    assert battery_view(sqlite_store, original)["successors"] == [products[0]["code"]]
