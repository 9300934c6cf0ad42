"""Applying the authorisation rules of :mod:`battrace.domain.access` to stored data.

Each ``check_*`` function gathers what the rule needs from the store and raises
``Unauthenticated`` (no caller where one is needed) or ``PermissionDenied`` naming the rule;
it returns what it loaded so that the caller does not read it twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from battrace.codes import validate_credit_code
from battrace.domain.access import (
    BatteryFacts,
    Caller,
    governs,
    may_manage_enterprise,
    may_read_battery,
    may_read_enterprise,
    may_write_as,
    party_to_event,
)
from battrace.domain.entities import BatteryState, Enterprise
from battrace.errors import (
    BattraceError,
    NotFoundError,
    PermissionDenied,
    Unauthenticated,
)
from battrace.services.queries import effective_holder, find_battery
from battrace.store.base import Store
from battrace.store.rows import EventRow


def _province(place: str | None) -> str | None:
    return place[:2] + "0000" if place else None


def require_caller(caller: Caller) -> Enterprise:
    """The caller's enterprise; ``Unauthenticated`` for an anonymous caller."""
    if caller.enterprise is None:
        raise Unauthenticated(
            "Authorization: this needs an API token (Authorization: Bearer <token>)",
            field="Authorization",
            rule="token_required",
        )
    return caller.enterprise


def denied(message: str, rule: str, field: str | None = None) -> PermissionDenied:
    return PermissionDenied(f"{message} [rule {rule}]", field=field, rule=rule)


def battery_facts(
    store: Store, state: BatteryState, history: Iterable[EventRow] | None = None
) -> BatteryFacts:
    """The parties and provinces of a battery (``history`` read from the store if not given)."""
    events = store.history(state.code) if history is None else history
    parties = {state.maker}
    provinces = set()
    for name in (state.holder, state.pending_to, effective_holder(store, state)):
        if name is not None:
            parties.add(name)
    current = _province(state.place)
    if current is not None:
        provinces.add(current)
    for event in events:
        parties.add(event.actor)
        if event.counterparty is not None:
            parties.add(event.counterparty)
        where = _province(event.place)
        if where is not None:
            provinces.add(where)
    return BatteryFacts(frozenset(parties), frozenset(provinces))


def check_read_battery(store: Store, caller: Caller, code: str) -> BatteryState:
    """The battery, if ``caller`` may read its record and history (``NotFoundError`` first
    for an unknown code, then ``Unauthenticated`` or ``PermissionDenied``)."""
    require_caller(caller)
    state = find_battery(store, code)
    if not may_read_battery(caller, battery_facts(store, state)):
        raise denied(
            f"battery {state.code}: {caller.id} neither made, held nor reported on it, nor"
            " governs where it has been",
            "own_batteries_only",
            "code",
        )
    return state


def may_read_event(store: Store, caller: Caller, event: EventRow) -> bool:
    """Whether ``caller`` may read ``event``: a party to it, a regulator of its place, or a
    reader of one of its batteries."""
    if caller.enterprise is None:
        return False
    if party_to_event(caller, event.actor, event.counterparty):
        return True
    if governs(caller, _province(event.place)):
        return True
    for code in event.batteries:
        state = store.battery(code)
        if state is not None and may_read_battery(caller, battery_facts(store, state)):
            return True
    return False


def check_read_event(store: Store, caller: Caller, event_id: int) -> EventRow:
    """The event, if ``caller`` may read it."""
    require_caller(caller)
    event = store.event(event_id)
    if event is None:
        raise NotFoundError(f"event {event_id} does not exist", field="id", rule="registered")
    if not may_read_event(store, caller, event):
        raise denied(
            f"event {event_id}: {caller.id} is not party to it nor reads its batteries",
            "own_events_only",
            "id",
        )
    return event


def find_enterprise(store: Store, enterprise_id: str, field: str = "enterprise_id") -> Enterprise:
    """The enterprise named by ``enterprise_id`` (a credit code, validated first)."""
    normal = validate_credit_code(enterprise_id, field=field)
    found = store.enterprise(normal)
    if found is None:
        raise NotFoundError(
            f"enterprise {normal} is not registered", field=field, rule="registered"
        )
    return found


def check_read_enterprise(store: Store, caller: Caller, enterprise_id: str) -> Enterprise:
    """The enterprise, if ``caller`` is it or a regulator governing its province."""
    require_caller(caller)
    found = find_enterprise(store, enterprise_id)
    if not may_read_enterprise(caller, found):
        raise denied(
            f"enterprise {found.id}: {caller.id} reads only itself, or as a regulator its"
            " jurisdiction",
            "jurisdiction",
            "enterprise_id",
        )
    return found


def check_manage(caller: Caller, province: str, what: str) -> None:
    """``caller`` must be a regulator governing ``province`` to manage ``what``."""
    require_caller(caller)
    if not caller.is_regulator:
        raise denied(f"{what}: only regulators manage enterprises and keys", "regulator_only")
    if not may_manage_enterprise(caller, province):
        raise denied(
            f"{what}: province {province} is outside the jurisdiction of {caller.id}",
            "jurisdiction",
        )


def check_manage_enterprise(store: Store, caller: Caller, enterprise_id: str) -> Enterprise:
    """The enterprise, if ``caller`` is a regulator governing its province."""
    require_caller(caller)
    found = find_enterprise(store, enterprise_id)
    check_manage(caller, found.province, f"enterprise {found.id}")
    return found


def check_writes_as_caller(caller: Caller, index: int | None, data: Any, field: str) -> None:
    """``data[field]`` (an event's actor, a record's maker) must be the caller's own code.

    Malformed or missing values are left to the service, which names them; ``index`` is the
    item number in a batch (None for a single item).
    """
    require_caller(caller)
    if not isinstance(data, dict):
        return
    value = data.get(field)
    if not isinstance(value, str) or value == caller.id:
        return  # the caller's own code, exactly: nothing to normalise (the common case)
    try:
        normal = validate_credit_code(value, field=field)
    except BattraceError:
        return
    if not may_write_as(caller, normal):
        where = "" if index is None else f"item {index}: "
        raise denied(
            f"{where}{field}: {caller.id} may write only as itself, not as {normal}",
            "actor_is_caller",
            field,
        )


def enterprise_scope(caller: Caller, province: str | None) -> tuple[str | None, str | None]:
    """(province, only_id) limits for listing enterprises as ``caller``.

    National regulators list any province; a provincial regulator only its own (asking for
    another is ``PermissionDenied``); an enterprise only itself.
    """
    require_caller(caller)
    if caller.is_national:
        return province, None
    if caller.is_regulator:
        if province is not None and province != caller.province:
            raise denied(
                f"province: {province} is outside the jurisdiction of {caller.id}",
                "jurisdiction",
                "province",
            )
        return caller.province, None
    return province, caller.id


def battery_scope(caller: Caller, province: str | None) -> tuple[str | None, str | None]:
    """(province, party) limits for listing batteries as ``caller``, as for enterprises: an
    enterprise sees the batteries it is party to."""
    require_caller(caller)
    if caller.is_national:
        return province, None
    if caller.is_regulator:
        wanted = province + "0000" if province is not None and len(province) == 2 else province
        if wanted is not None and wanted != caller.province:
            raise denied(
                f"province: {province} is outside the jurisdiction of {caller.id}",
                "jurisdiction",
                "province",
            )
        return caller.province, None
    return province, caller.id


__all__ = [
    "battery_facts",
    "battery_scope",
    "check_manage",
    "check_manage_enterprise",
    "check_read_battery",
    "check_read_enterprise",
    "check_read_event",
    "check_writes_as_caller",
    "denied",
    "enterprise_scope",
    "find_enterprise",
    "may_read_event",
    "require_caller",
]
