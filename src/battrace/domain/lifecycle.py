"""The battery state machine and custody rules: which event may follow which, and who may report it.

:func:`apply_event` folds one validated event into the states of the batteries it touches and
returns the new states; it reads through a :class:`Context` (batteries and enterprises known so
far, including earlier events of the same batch) and never writes anywhere. Every refusal is a
:class:`battrace.errors.RuleViolation` (or ``NotFoundError``/``ConflictError``) whose message names
the battery, the rule and the battery's state.

Custody: a battery has exactly one holder and it changes only by a handover. Only the holder may
ship; a receipt needs a shipment addressed to the receiver; a battery in transit takes no other
event until it is received.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from battrace.codes import BatteryCode, parse_battery_code
from battrace.domain.entities import TERMINAL_STATES, BatteryState, Enterprise, State
from battrace.domain.events import (
    CHEMISTRIES_BY_TYPE_LETTER,
    AssembledBody,
    DismantledBody,
    EventIn,
    EventType,
    ExchangeBody,
    InstalledBody,
    ProducedBody,
    RemovedBody,
    RepairedBody,
    RepurposedBody,
    TestedBody,
    UnitSpec,
    VehicleScrappedBody,
    VehicleSoldBody,
)
from battrace.domain.quantities import decimal_text
from battrace.domain.roles import Role
from battrace.errors import ConflictError, NotFoundError, RuleViolation

E = EventType
S = State
# bound once: in Python 3.11 every Enum.MEMBER lookup is a descriptor call, on the hot path
_PRODUCED, _ASSEMBLED, _CORRECTION = E.PRODUCED, E.ASSEMBLED, E.CORRECTION
_WHILE_IN_TRANSIT = frozenset({E.RECEIVED, E.COLLECTED, E.CORRECTION})
_ALL_REPORTERS = frozenset(Role) - {Role.REGULATOR}

ALLOWED_ROLES: dict[EventType, frozenset[Role]] = {
    E.PRODUCED: frozenset({Role.BATTERY_MAKER}),
    E.ASSEMBLED: frozenset({Role.BATTERY_MAKER, Role.ECHELON_FIRM}),
    E.SHIPPED: _ALL_REPORTERS,
    E.RECEIVED: _ALL_REPORTERS,
    E.INSTALLED: frozenset({Role.VEHICLE_MAKER, Role.IMPORTER}),
    E.VEHICLE_SOLD: frozenset({Role.VEHICLE_MAKER, Role.IMPORTER, Role.DEALER}),
    E.REPAIRED: frozenset({Role.REPAIRER, Role.VEHICLE_MAKER, Role.DEALER, Role.SWAP_OPERATOR}),
    E.REPLACED: frozenset({Role.REPAIRER, Role.VEHICLE_MAKER, Role.DEALER}),
    E.SWAPPED: frozenset({Role.SWAP_OPERATOR}),
    E.VEHICLE_SCRAPPED: frozenset({Role.DISMANTLER}),
    E.REMOVED: frozenset({Role.DISMANTLER, Role.REPAIRER, Role.VEHICLE_MAKER, Role.DEALER}),
    E.COLLECTED: frozenset(
        {Role.COLLECTION_OUTLET, Role.ECHELON_FIRM, Role.RECYCLER, Role.VEHICLE_MAKER}
    ),
    E.TESTED: frozenset(
        {
            Role.ECHELON_FIRM,
            Role.RECYCLER,
            Role.COLLECTION_OUTLET,
            Role.BATTERY_MAKER,
            Role.REPAIRER,
        }
    ),
    E.REPURPOSED: frozenset({Role.ECHELON_FIRM}),
    E.DISMANTLED: frozenset({Role.ECHELON_FIRM, Role.RECYCLER}),
    E.RECYCLED: frozenset({Role.RECYCLER}),
    E.DISPOSED: frozenset({Role.RECYCLER}),
    E.CORRECTION: _ALL_REPORTERS,
}

# States each event type may follow (for the batteries the event lists).
ALLOWED_FROM: dict[EventType, frozenset[State]] = {
    E.ASSEMBLED: frozenset({S.IN_STOCK}),
    E.SHIPPED: frozenset({S.IN_STOCK, S.RETIRED, S.COLLECTED, S.DISMANTLED}),
    E.RECEIVED: frozenset({S.IN_STOCK, S.RETIRED, S.COLLECTED, S.DISMANTLED}),
    E.INSTALLED: frozenset({S.IN_STOCK}),
    E.VEHICLE_SOLD: frozenset({S.INSTALLED}),
    E.REPAIRED: frozenset({S.INSTALLED, S.IN_USE}),
    E.REPLACED: frozenset({S.INSTALLED, S.IN_USE}),
    E.SWAPPED: frozenset({S.IN_USE}),
    E.VEHICLE_SCRAPPED: frozenset({S.INSTALLED, S.IN_USE}),
    E.REMOVED: frozenset({S.IN_SCRAPPED_VEHICLE, S.INSTALLED, S.IN_USE}),
    E.COLLECTED: frozenset({S.RETIRED}),
    E.TESTED: frozenset({S.IN_STOCK, S.RETIRED, S.COLLECTED}),
    E.REPURPOSED: frozenset({S.RETIRED, S.COLLECTED}),
    E.DISMANTLED: frozenset({S.RETIRED, S.COLLECTED}),
    E.RECYCLED: frozenset({S.RETIRED, S.COLLECTED, S.DISMANTLED}),
    E.DISPOSED: frozenset({S.RETIRED, S.COLLECTED, S.DISMANTLED}),
    E.CORRECTION: frozenset(State),
}

# Types only the battery's holder may report (a battery in a sold vehicle has no holder).
HOLDER_ONLY = frozenset(
    {
        E.ASSEMBLED,
        E.SHIPPED,
        E.INSTALLED,
        E.TESTED,
        E.REPURPOSED,
        E.DISMANTLED,
        E.RECYCLED,
        E.DISPOSED,
    }
)

_LEVEL_RANK = {"cell": 0, "module": 1, "pack": 2}
_SPEC_FIELDS = set(UnitSpec.model_fields)


class Context(Protocol):
    """What the state machine may read: batteries and enterprises as of this event."""

    def battery(self, code: str) -> BatteryState | None: ...

    def enterprise(self, enterprise_id: str) -> Enterprise | None: ...


def _refuse(battery: BatteryState, rule: str, why: str) -> RuleViolation:
    return RuleViolation(
        f"battery {battery.code} (state {battery.state.value}): {why} [rule {rule}]",
        field="batteries",
        rule=rule,
    )


def _need_enterprise(ctx: Context, enterprise_id: str, field: str) -> Enterprise:
    found = ctx.enterprise(enterprise_id)
    if found is None:
        raise NotFoundError(
            f"{field}: enterprise {enterprise_id} is not registered", field=field, rule="registered"
        )
    return found


def _need_battery(ctx: Context, code: str, field: str = "batteries") -> BatteryState:
    found = ctx.battery(code)
    if found is None:
        raise NotFoundError(
            f"{field}: battery {code} is not registered", field=field, rule="registered"
        )
    return found


def _check_common(event: EventIn, battery: BatteryState) -> None:
    kind = event.type
    if battery.state in TERMINAL_STATES and kind is not _CORRECTION:
        raise _refuse(battery, "after_end_of_life", f"no {kind} event may follow")
    if battery.pending_to is not None and kind not in _WHILE_IN_TRANSIT:
        raise _refuse(
            battery,
            "in_transit",
            f"shipped to {battery.pending_to} and not yet received; no {kind} until then",
        )
    allowed = ALLOWED_FROM[kind]
    if battery.state not in allowed:
        names = ", ".join(sorted(s.value for s in allowed))
        raise _refuse(battery, "state_order", f"{kind} may only follow states {names}")
    if kind in HOLDER_ONLY and battery.holder != event.actor:
        raise _refuse(
            battery,
            "holder_only",
            f"only its holder ({battery.holder or 'none'}) may report {kind}",
        )


def _check_spec(parsed: BatteryCode, spec: UnitSpec, field: str) -> None:
    allowed = CHEMISTRIES_BY_TYPE_LETTER.get(parsed.battery_type, frozenset())
    if spec.chemistry not in allowed:
        raise RuleViolation(
            f"{field}: battery {parsed.text} has type letter {parsed.battery_type!r}, which does"
            f" not allow chemistry {spec.chemistry.value} [rule chemistry_matches_code]",
            field=field,
            rule="chemistry_matches_code",
        )


def _spec_data(event: EventIn, spec: UnitSpec) -> dict[str, Any]:
    """The spec as JSON-ready data; from the event's own body data when the spec is its body
    (a produced event: dumped once for the event and all its units)."""
    if spec is event.body:
        return {k: v for k, v in event.body_dict().items() if k in _SPEC_FIELDS}
    data: dict[str, Any] = spec.model_dump(mode="json", exclude_none=True, include=_SPEC_FIELDS)
    return data


def _new_unit(
    ctx: Context, event: EventIn, event_id: int, code: str, spec: UnitSpec, actor: Enterprise
) -> BatteryState:
    if ctx.battery(code) is not None:
        raise ConflictError(
            f"battery {code} is already registered; a code is registered once, ever"
            " [rule registered_once]",
            field="batteries",
            rule="registered_once",
        )
    parsed = parse_battery_code(code)
    if parsed.manufacturer != actor.manufacturer_code:
        raise RuleViolation(
            f"battery {code}: manufacturer field {parsed.manufacturer!r} is not the reporting"
            f" maker's code {actor.manufacturer_code!r} [rule manufacturer_matches]",
            field="batteries",
            rule="manufacturer_matches",
        )
    _check_spec(parsed, spec, "body")
    return BatteryState(
        code=code,
        level=parsed.product_type,
        battery_type=parsed.battery_type,
        maker=actor.id,
        spec=_spec_data(event, spec),
        state=S.IN_STOCK,
        holder=actor.id,
        place=event.place or actor.division,
        produced_event=event_id,
        last_event=event_id,
        second_life=parsed.second_life,
    )


def _attach_children(
    ctx: Context, event: EventIn, parent: BatteryState, children: list[str]
) -> list[BatteryState]:
    out = []
    for i, code in enumerate(children):
        child = _copy(_need_battery(ctx, code, f"body.children[{i}]"))
        if child.code == parent.code:
            raise _refuse(child, "not_own_child", "a unit cannot contain itself")
        _check_common_child(event, child, parent)
        child.state = S.ASSEMBLED
        child.parent = parent.code
        child.holder = None
        out.append(child)
    return out


def _check_common_child(event: EventIn, child: BatteryState, parent: BatteryState) -> None:
    if child.state is not S.IN_STOCK or child.parent is not None or child.pending_to:
        raise _refuse(child, "child_in_stock", "only a unit in stock can be assembled into another")
    if child.holder != event.actor:
        raise _refuse(child, "holder_only", f"held by {child.holder}, not by {event.actor}")
    if _LEVEL_RANK[child.level] >= _LEVEL_RANK[parent.level]:
        raise _refuse(child, "level_order", f"a {child.level} cannot go into a {parent.level}")


def apply_event(ctx: Context, event: EventIn, event_id: int) -> list[BatteryState]:
    """Check one event against the state machine and return the batteries it changes.

    ``event_id`` is the id the event will get when accepted. The returned states are copies;
    the caller makes them visible to later events of the same batch and stores them in the
    same transaction as the event. Raises ``RuleViolation``, ``NotFoundError`` or
    ``ConflictError`` naming the battery, rule and state; states in ``ctx`` are never changed.
    """
    kind = event.type
    actor = _need_enterprise(ctx, event.actor, "actor")
    allowed_roles = ALLOWED_ROLES[kind]
    if not (actor.roles & allowed_roles):
        roles = ", ".join(sorted(r.value for r in allowed_roles))
        raise RuleViolation(
            f"actor {actor.id} ({', '.join(sorted(r.value for r in actor.roles))}) may not report"
            f" {kind}; roles allowed: {roles} [rule role_may_report]",
            field="actor",
            rule="role_may_report",
        )
    if event.counterparty is not None:
        _need_enterprise(ctx, event.counterparty, "counterparty")
    if kind is _PRODUCED:
        return _produced(ctx, event, event_id, actor)
    if kind is _ASSEMBLED and len(event.batteries) != 1:
        raise RuleViolation(
            "batteries: an assembled event names exactly one parent unit",
            field="batteries",
            rule="one_parent",
        )
    changed: dict[str, BatteryState] = {}
    transition = _TRANSITIONS.get(kind)
    place = event.place or actor.division
    moves_place = kind is not _CORRECTION
    for code in event.batteries:
        current = _need_battery(ctx, code)
        _check_common(event, current)
        battery = _copy(current)
        changed[code] = battery
        if transition is not None:
            transition(_Step(ctx, event, event_id, actor, changed), battery)
        battery.last_event = event_id
        if moves_place:
            battery.place = place
    after = _AFTER.get(kind)
    if after is not None:
        after(_Step(ctx, event, event_id, actor, changed))
    return list(changed.values())


@dataclass(slots=True)
class _Step:
    """What a transition handler needs besides the battery it moves."""

    ctx: Context
    event: EventIn
    event_id: int
    actor: Enterprise
    changed: dict[str, BatteryState]


def _after_assembled(step: _Step) -> None:
    body = step.event.body
    assert isinstance(body, AssembledBody)
    (parent,) = step.changed.values()
    for child in _attach_children(step.ctx, step.event, parent, list(body.children)):
        child.last_event = step.event_id
        step.changed[child.code] = child


def _after_repurposed(step: _Step) -> None:
    body = step.event.body
    assert isinstance(body, RepurposedBody)
    product = _new_unit(step.ctx, step.event, step.event_id, body.product, body.spec, step.actor)
    if not product.second_life:
        raise RuleViolation(
            f"body.product: {body.product} is not a second-life code; a repurposed product"
            " is re-coded [rule second_life_code]",
            field="body.product",
            rule="second_life_code",
        )
    product.predecessors = step.event.batteries
    step.changed[product.code] = product


def _copy(b: BatteryState) -> BatteryState:
    return BatteryState(
        code=b.code,
        level=b.level,
        battery_type=b.battery_type,
        maker=b.maker,
        spec=b.spec,
        state=b.state,
        holder=b.holder,
        place=b.place,
        produced_event=b.produced_event,
        last_event=b.last_event,
        second_life=b.second_life,
        predecessors=b.predecessors,
        parent=b.parent,
        vin=b.vin,
        pending_to=b.pending_to,
        pending_event=b.pending_event,
        soh_percent=b.soh_percent,
        stored=b.stored,
    )


def _produced(ctx: Context, event: EventIn, event_id: int, actor: Enterprise) -> list[BatteryState]:
    body = event.body
    assert isinstance(body, ProducedBody)
    if body.children and len(event.batteries) != 1:
        raise RuleViolation(
            "body.children: children can be given only when one unit is produced",
            field="body.children",
            rule="one_parent",
        )
    out = []
    for code in event.batteries:
        unit = _new_unit(ctx, event, event_id, code, body, actor)
        if unit.second_life:
            raise RuleViolation(
                f"battery {code} is a second-life code; second-life products are registered by a"
                " repurposed event [rule second_life_via_repurposed]",
                field="batteries",
                rule="second_life_via_repurposed",
            )
        out.append(unit)
    if body.children:
        for child in _attach_children(ctx, event, out[0], list(body.children)):
            child.last_event = event_id
            out.append(child)
    return out


def _vin_matches(battery: BatteryState, vin: str | None) -> None:
    if vin is not None and battery.vin != vin:
        raise _refuse(battery, "vin_matches", f"bound to VIN {battery.vin}, not {vin}")


def _shipped(step: _Step, battery: BatteryState) -> None:
    assert step.event.counterparty is not None
    battery.pending_to = step.event.counterparty
    battery.pending_event = step.event_id


def _received(step: _Step, battery: BatteryState) -> None:
    actor, counterparty = step.actor.id, step.event.counterparty
    if battery.pending_to != actor:
        raise _refuse(
            battery,
            "receipt_needs_shipment",
            f"no shipment to {actor} is pending (pending to: {battery.pending_to or 'none'})",
        )
    if counterparty is not None and counterparty != battery.holder:
        raise _refuse(
            battery,
            "receipt_from_sender",
            f"was shipped by {battery.holder}, not by {counterparty}",
        )
    battery.holder = actor
    battery.pending_to = None
    battery.pending_event = None


def _installed(step: _Step, battery: BatteryState) -> None:
    body = step.event.body
    assert isinstance(body, InstalledBody)
    if battery.level != "pack":
        raise _refuse(battery, "pack_only", f"a {battery.level} is not installed in a vehicle")
    battery.state = S.INSTALLED
    battery.vin = body.vin


def _vehicle_sold(step: _Step, battery: BatteryState) -> None:
    body = step.event.body
    assert isinstance(body, VehicleSoldBody)
    _vin_matches(battery, body.vin)
    battery.state = S.IN_USE
    battery.holder = None


def _repaired(step: _Step, battery: BatteryState) -> None:
    body = step.event.body
    assert isinstance(body, RepairedBody)
    _vin_matches(battery, body.vin)


def _vehicle_scrapped(step: _Step, battery: BatteryState) -> None:
    body = step.event.body
    assert isinstance(body, VehicleScrappedBody)
    _vin_matches(battery, body.vin)
    battery.state = S.IN_SCRAPPED_VEHICLE
    battery.holder = step.actor.id


def _removed(step: _Step, battery: BatteryState) -> None:
    body = step.event.body
    assert isinstance(body, RemovedBody)
    _vin_matches(battery, body.vin)
    if battery.state is S.IN_SCRAPPED_VEHICLE and battery.holder != step.actor.id:
        raise _refuse(battery, "holder_only", f"only its holder ({battery.holder}) may remove it")
    battery.state = S.RETIRED
    battery.holder = step.actor.id
    battery.vin = None


def _collected(step: _Step, battery: BatteryState) -> None:
    if battery.pending_to is not None:
        _received(step, battery)  # collecting a shipment addressed to the collector
    elif battery.holder != step.actor.id:
        raise _refuse(
            battery,
            "handover_needed",
            f"held by {battery.holder}; it must be shipped to {step.actor.id} before collection",
        )
    battery.state = S.COLLECTED


def _tested(step: _Step, battery: BatteryState) -> None:
    body = step.event.body
    assert isinstance(body, TestedBody)
    battery.soh_percent = decimal_text(body.soh_percent)


def _dismantled(step: _Step, battery: BatteryState) -> None:
    body = step.event.body
    assert isinstance(body, DismantledBody)
    battery.state = S.DISMANTLED
    _release_parts(step, battery, body)


def _to_state(state: State) -> Callable[[_Step, BatteryState], None]:
    def move(step: _Step, battery: BatteryState) -> None:
        battery.state = state

    return move


def _exchanged(step: _Step, battery: BatteryState) -> None:
    body = step.event.body
    assert isinstance(body, ExchangeBody)
    _exchange(step, battery, body)


def _exchange(step: _Step, old: BatteryState, body: ExchangeBody) -> None:
    ctx, event, event_id, actor, changed = (
        step.ctx,
        step.event,
        step.event_id,
        step.actor,
        step.changed,
    )
    _vin_matches(old, body.vin)
    if body.new in changed:
        raise _refuse(old, "distinct_new", "the new pack must differ from the one taken out")
    new = _copy(_need_battery(ctx, body.new, "body.new"))
    if new.state is not S.IN_STOCK or new.pending_to is not None:
        raise _refuse(new, "new_in_stock", "the pack put in must be in stock")
    if new.holder != actor.id:
        raise _refuse(new, "holder_only", f"held by {new.holder}, not by {actor.id}")
    if new.level != "pack":
        raise _refuse(new, "pack_only", f"a {new.level} is not installed in a vehicle")
    new.state, new.vin, new.holder = old.state, old.vin, old.holder
    new.last_event = event_id
    new.place = event.place or actor.division
    changed[new.code] = new
    old.vin = None
    old.holder = actor.id
    # A swapped-out pack goes back to the station's stock; a replaced one is waste.
    old.state = S.IN_STOCK if event.type is E.SWAPPED else S.RETIRED


def _release_parts(step: _Step, battery: BatteryState, body: DismantledBody) -> None:
    ctx, event, event_id, actor, changed = (
        step.ctx,
        step.event,
        step.event_id,
        step.actor,
        step.changed,
    )
    for i, code in enumerate(body.parts):
        part = _copy(_need_battery(ctx, code, f"body.parts[{i}]"))
        if part.parent != battery.code:
            raise _refuse(part, "part_of", f"is not a part of {battery.code}")
        part.parent = None
        part.state = S.RETIRED
        part.holder = actor.id
        part.last_event = event_id
        part.place = event.place or actor.division
        changed[part.code] = part


_TRANSITIONS: dict[EventType, Callable[[_Step, BatteryState], None]] = {
    E.SHIPPED: _shipped,
    E.RECEIVED: _received,
    E.INSTALLED: _installed,
    E.VEHICLE_SOLD: _vehicle_sold,
    E.REPAIRED: _repaired,
    E.REPLACED: _exchanged,
    E.SWAPPED: _exchanged,
    E.VEHICLE_SCRAPPED: _vehicle_scrapped,
    E.REMOVED: _removed,
    E.COLLECTED: _collected,
    E.TESTED: _tested,
    E.REPURPOSED: _to_state(S.REPURPOSED),
    E.DISMANTLED: _dismantled,
    E.RECYCLED: _to_state(S.RECYCLED),
    E.DISPOSED: _to_state(S.DISPOSED),
}
_AFTER: dict[EventType, Callable[[_Step], None]] = {
    E.ASSEMBLED: _after_assembled,
    E.REPURPOSED: _after_repurposed,
}
