"""The authorisation rules, each firing and not firing."""

from __future__ import annotations

from datetime import UTC, datetime

from battrace.domain.access import (
    BatteryFacts,
    Caller,
    governs,
    is_national_regulator,
    may_manage_enterprise,
    may_read_battery,
    may_read_enterprise,
    may_write_as,
    party_to_event,
)
from battrace.domain.entities import Enterprise
from battrace.domain.roles import Role

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def firm(credit: str, division: str, *roles: Role) -> Enterprise:
    return Enterprise(credit, "x", frozenset(roles or {Role.RECYCLER}), division, None, False, NOW)


MAKER = firm("91350900000000019P", "350900", Role.BATTERY_MAKER)
OTHER = firm("91440300000000028H", "440300", Role.BATTERY_MAKER)
FUJIAN = firm("11350100000009011X", "350100", Role.REGULATOR)
NATION = firm("11100000000009033Y", "110000", Role.REGULATOR)
BEIJING = firm("11110000000009044Z", "110000", Role.REGULATOR)
FACTS = BatteryFacts(frozenset({MAKER.id}), frozenset({"350000"}))


def test_national_regulator_is_told_by_its_credit_code() -> None:
    assert is_national_regulator(NATION)
    assert not is_national_regulator(BEIJING)
    assert not is_national_regulator(firm("91100000000000011A", "110000", Role.RECYCLER))
    assert Caller().kind == "anonymous"
    assert Caller(MAKER).kind == "enterprise"
    assert Caller(FUJIAN).kind == "provincial_regulator"
    assert Caller(NATION).kind == "national_regulator"


def test_jurisdiction() -> None:
    assert governs(Caller(FUJIAN), "350000")
    assert not governs(Caller(FUJIAN), "440000")
    assert governs(Caller(NATION), "440000")
    assert not governs(Caller(MAKER), "350000")
    assert not governs(Caller(), "350000")
    assert may_manage_enterprise(Caller(FUJIAN), "350000")
    assert not may_manage_enterprise(Caller(BEIJING), "350000")


def test_battery_reading() -> None:
    assert may_read_battery(Caller(MAKER), FACTS)
    assert not may_read_battery(Caller(OTHER), FACTS)
    assert may_read_battery(Caller(FUJIAN), FACTS)
    assert not may_read_battery(Caller(BEIJING), FACTS)
    assert may_read_battery(Caller(NATION), FACTS)
    assert not may_read_battery(Caller(), FACTS)


def test_enterprises_events_and_writing() -> None:
    assert may_read_enterprise(Caller(MAKER), MAKER)
    assert not may_read_enterprise(Caller(OTHER), MAKER)
    assert may_read_enterprise(Caller(FUJIAN), MAKER)
    assert not may_read_enterprise(Caller(BEIJING), MAKER)
    assert party_to_event(Caller(OTHER), MAKER.id, OTHER.id)
    assert not party_to_event(Caller(), MAKER.id, None)
    assert may_write_as(Caller(MAKER), MAKER.id)
    assert not may_write_as(Caller(NATION), MAKER.id)
    assert not may_write_as(Caller(), MAKER.id)
