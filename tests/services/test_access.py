"""Applying the access rules to stored batteries, events and enterprises."""

from __future__ import annotations

import pytest

from battrace.domain.access import Caller
from battrace.errors import PermissionDenied, Unauthenticated
from battrace.services.access import (
    battery_facts,
    battery_scope,
    check_read_battery,
    check_read_event,
    check_writes_as_caller,
    enterprise_scope,
    may_read_event,
)
from battrace.services.reporting import report_event
from battrace.store import Store
from tests.builders import LFP_CELL, LFP_PACK, code, event, produced


def _caller(store: Store, credit: str) -> Caller:
    found = store.enterprise(credit)
    assert found is not None
    return Caller(found)


def test_custody_through_the_pack_reaches_its_cells(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker, vm = firms["battery_maker"], firms["vehicle_maker"]
    cell, pack = code(n=1, level="cell"), code(n=2)
    report_event(sqlite_world, produced(maker, [cell], LFP_CELL))
    report_event(sqlite_world, produced(maker, [pack], LFP_PACK, children=[cell]))
    report_event(sqlite_world, event("shipped", maker, [pack], counterparty=vm))
    report_event(sqlite_world, event("received", vm, [pack], counterparty=maker))
    state = sqlite_world.battery(cell)
    assert state is not None
    assert vm.credit_code in battery_facts(sqlite_world, state).parties
    assert check_read_battery(sqlite_world, _caller(sqlite_world, vm.credit_code), cell)
    stranger = _caller(sqlite_world, firms["recycler"].credit_code)
    with pytest.raises(PermissionDenied) as info:
        check_read_battery(sqlite_world, stranger, cell)
    assert info.value.rule == "own_batteries_only"
    with pytest.raises(Unauthenticated):
        check_read_battery(sqlite_world, Caller(), cell)
    shipped = sqlite_world.event(3)
    assert shipped is not None
    assert may_read_event(sqlite_world, _caller(sqlite_world, vm.credit_code), shipped)
    assert not may_read_event(sqlite_world, stranger, shipped)
    with pytest.raises(PermissionDenied):
        check_read_event(sqlite_world, stranger, 3)


def test_writing_as_another(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker = _caller(sqlite_world, firms["battery_maker"].credit_code)
    check_writes_as_caller(maker, None, {"actor": firms["battery_maker"].credit_code}, "actor")
    check_writes_as_caller(maker, None, {"actor": "not a code"}, "actor")  # left to the service
    # the own code written otherwise (lower case, spaces) is still the caller's: normalised
    own = f" {firms['battery_maker'].credit_code.lower()} "
    check_writes_as_caller(maker, None, {"actor": own}, "actor")
    with pytest.raises(PermissionDenied) as info:
        check_writes_as_caller(maker, 2, {"actor": firms["recycler"].credit_code}, "actor")
    assert info.value.message.startswith("item 2: actor:")


def test_list_scopes(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker = _caller(sqlite_world, firms["battery_maker"].credit_code)
    regulator = _caller(sqlite_world, firms["regulator"].credit_code)  # Beijing's
    assert enterprise_scope(maker, None) == (None, maker.id)
    assert enterprise_scope(regulator, None) == ("110000", None)
    assert battery_scope(regulator, "11") == ("110000", None)
    with pytest.raises(PermissionDenied):
        battery_scope(regulator, "310000")
    assert battery_scope(maker, "310000") == ("310000", maker.id)
