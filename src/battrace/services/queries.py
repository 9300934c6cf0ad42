"""Reading batteries: one battery's full picture, lists with filters, a receiver's inbox."""

from __future__ import annotations

from typing import Any

from battrace.codes import parse_battery_code, validate_division_code
from battrace.domain.corrections import apply_corrections
from battrace.domain.entities import BatteryState
from battrace.errors import NotFoundError, ValidationError
from battrace.store.base import BatteryFilter, Store
from battrace.store.rows import EventRow

# the passport fields anyone may read (docs/api.md); everything else needs a reader's right
PUBLIC_PASSPORT_FIELDS = (
    "code",
    "level",
    "battery_type",
    "chemistry",
    "maker",
    "maker_name",
    "state",
    "second_life",
)


def _effective(event: EventRow, corrections: list[EventRow]) -> dict[str, Any]:
    """The event as reported, plus the view after its corrections (latest wins)."""
    data = event.to_dict()
    if corrections:
        fixed = apply_corrections(
            event.occurred_at, event.place, event.body, (c.body for c in corrections)
        )
        data["corrected_by"] = [c.id for c in corrections]
        data["effective"] = {
            "occurred_at": fixed.occurred_at,
            "place": fixed.place,
            "body": fixed.body,
        }
    return data


def event_view(store: Store, event: EventRow) -> dict[str, Any]:
    """One event as readers see it, with its corrections shown on it."""
    return _effective(event, store.corrections_of([event.id]))


def battery_history(store: Store, code: str) -> list[dict[str, Any]]:
    """Every event touching ``code`` in acceptance order, corrections shown on what they fix."""
    events = store.history(code)
    fixes: dict[int, list[EventRow]] = {}
    for fix in store.corrections_of([e.id for e in events]):
        if fix.corrects is not None:
            fixes.setdefault(fix.corrects, []).append(fix)
    return [_effective(e, fixes.get(e.id, [])) for e in events]


def find_battery(store: Store, code: str, field: str = "code") -> BatteryState:
    """The stored state of ``code``.

    Raises ``ValidationError`` for a malformed code and ``NotFoundError`` for an unknown one.
    """
    normal = parse_battery_code(code, field=field).text
    state = store.battery(normal)
    if state is None:
        raise NotFoundError(f"battery {normal} is not registered", field=field, rule="registered")
    return state


def effective_holder(store: Store, state: BatteryState) -> str | None:
    """The holder of a battery, or of the unit it is assembled into (custody follows it)."""
    holder = state.holder
    parent = state.parent
    seen = {state.code}
    while holder is None and parent is not None and parent not in seen:
        seen.add(parent)
        outer = store.battery(parent)
        if outer is None:
            break
        holder, parent = outer.holder, outer.parent
    return holder


def battery_state(store: Store, code: str) -> dict[str, Any]:
    """A battery's current state, holder, place, composition and links, without history."""
    state = find_battery(store, code)
    data = state.to_dict()
    data["effective_holder"] = effective_holder(store, state)
    data["children"] = store.children(state.code)
    data["successors"] = store.successors(state.code)
    return data


def battery_view(store: Store, code: str) -> dict[str, Any]:
    """A battery's current state, holder, place, composition, links and full history.

    Raises ``ValidationError`` for a malformed code and ``NotFoundError`` for an unknown one.
    """
    data = battery_state(store, code)
    data["history"] = battery_history(store, data["code"])
    return data


def public_passport(store: Store, code: str) -> dict[str, Any]:
    """The fields of a battery's passport anyone may read (:data:`PUBLIC_PASSPORT_FIELDS`):
    code, level, GB/T 34014 type letter, chemistry, maker (credit code and name), state and
    whether it is a second-life product."""
    state = find_battery(store, code)
    maker = store.enterprise(state.maker)
    chemistry = state.spec.get("chemistry")
    return {
        "code": state.code,
        "level": state.level,
        "battery_type": state.battery_type,
        "chemistry": chemistry if isinstance(chemistry, str) else None,
        "maker": state.maker,
        "maker_name": maker.name if maker is not None else None,
        "state": state.state.value,
        "second_life": state.second_life,
    }


def list_batteries(
    store: Store,
    *,
    holder: str | None = None,
    state: str | None = None,
    maker: str | None = None,
    province: str | None = None,
    party: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """A page of batteries matching every filter given, ordered by code.

    ``after`` is the cursor returned as ``next`` by the previous page; ``party`` keeps the
    batteries an enterprise made, holds, is sent, or was party to an event of. Raises
    ``ValidationError`` for a limit outside 1..10,000 or a malformed province.
    """
    if not 1 <= limit <= 10_000:
        raise ValidationError("limit: must be between 1 and 10000", field="limit", rule="range")
    if province is not None and (len(province) not in (2, 6) or not province.isdigit()):
        raise ValidationError(
            "province: a GB/T 2260 province code such as 310000 or 31",
            field="province",
            rule="format",
        )
    if province is not None and len(province) == 2:
        province += "0000"
    if province is not None:
        province = validate_division_code(province, field="province").province_code
    page = store.list_batteries(
        BatteryFilter(
            holder=holder,
            state=state,
            maker=maker,
            province=province,
            party=party,
            after=after,
            limit=limit + 1,
        )
    )
    items = page[:limit]
    return {
        "items": [b.to_dict() for b in items],
        "next": items[-1].code if len(page) > limit else None,
    }


def pending_shipments(store: Store, receiver: str) -> list[dict[str, Any]]:
    """Shipments addressed to ``receiver`` that it has not yet confirmed, oldest first."""
    out = []
    for battery, shipped in store.pending_shipments(receiver):
        out.append(
            {
                "battery": battery.code,
                "from": battery.holder,
                "shipped_event": shipped.id,
                "shipped_at": shipped.occurred_at,
                "state": battery.state.value,
            }
        )
    return out
