"""Reading batteries: one battery's full picture, lists with filters, a receiver's inbox."""

from __future__ import annotations

from typing import Any

from battrace.codes import parse_battery_code
from battrace.errors import NotFoundError, ValidationError
from battrace.store.base import BatteryFilter, Store
from battrace.store.rows import EventRow


def _effective(event: EventRow, corrections: list[EventRow]) -> dict[str, Any]:
    """The event as reported, plus the view after its corrections (latest wins)."""
    data = event.to_dict()
    if corrections:
        body = dict(event.body)
        effective: dict[str, Any] = {"occurred_at": event.occurred_at, "place": event.place}
        for fix in corrections:
            changes = fix.body.get("changes", {})
            if "body" in changes:
                body.update(changes["body"])
            for key in ("occurred_at", "place"):
                if key in changes:
                    effective[key] = changes[key]
        effective["body"] = body
        data["corrected_by"] = [c.id for c in corrections]
        data["effective"] = effective
    return data


def battery_history(store: Store, code: str) -> list[dict[str, Any]]:
    """Every event touching ``code`` in acceptance order, corrections shown on what they fix."""
    events = store.history(code)
    fixes: dict[int, list[EventRow]] = {}
    for fix in store.corrections_of([e.id for e in events]):
        if fix.corrects is not None:
            fixes.setdefault(fix.corrects, []).append(fix)
    return [_effective(e, fixes.get(e.id, [])) for e in events]


def battery_view(store: Store, code: str) -> dict[str, Any]:
    """A battery's current state, holder, place, composition, links and full history.

    Raises ``ValidationError`` for a malformed code and ``NotFoundError`` for an unknown one.
    """
    normal = parse_battery_code(code).text
    state = store.battery(normal)
    if state is None:
        raise NotFoundError(f"battery {normal} is not registered", field="code", rule="registered")
    data = state.to_dict()
    holder = state.holder
    parent = state.parent
    seen = {normal}
    # custody of an assembled unit follows the unit it is inside
    while holder is None and parent is not None and parent not in seen:
        seen.add(parent)
        outer = store.battery(parent)
        if outer is None:
            break
        holder, parent = outer.holder, outer.parent
    data["effective_holder"] = holder
    data["children"] = store.children(normal)
    data["successors"] = store.successors(normal)
    data["history"] = battery_history(store, normal)
    return data


def list_batteries(
    store: Store,
    *,
    holder: str | None = None,
    state: str | None = None,
    maker: str | None = None,
    province: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """A page of batteries matching every filter given, ordered by code.

    ``after`` is the cursor returned as ``next`` by the previous page. Raises
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
    page = store.list_batteries(
        BatteryFilter(
            holder=holder, state=state, maker=maker, province=province, after=after, limit=limit + 1
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
