"""Battrace events to GS1 EPCIS 2.0 events (JSON-LD) and back, exactly. Pure: no I/O.

An event dict here is the reported envelope (``docs/lifecycle.md``): ``type``, ``batteries``,
``actor``, ``counterparty``, ``occurred_at``, ``reported_at``, ``place``, ``ref``, ``body``,
plus ``id`` for a stored event; keys whose value is None are left out. :func:`stored_event`
makes one from an :class:`~battrace.store.rows.EventRow`.

Every battrace field has one home in the EPCIS event (``docs/epcis.md`` has the table):

- standard fields where EPCIS has one: the batteries in ``epcList`` / ``parentID`` /
  ``inputEPCList``, ``occurred_at`` in ``eventTime``, ``reported_at`` in ``recordTime``,
  ``place`` in ``readPoint`` (and ``bizLocation``), the stored id in ``eventID``;
- extension fields in the ``battrace`` namespace for the rest: ``battrace:type``,
  ``battrace:actor``, ``battrace:counterparty``, ``battrace:ref`` and ``battrace:body`` (in
  ``ilmd`` for the events that commission a unit: produced and repurposed).

The event class, ``action``, ``bizStep`` and ``disposition`` of each type are in
:mod:`battrace.epcis.shapes`. Those and the other standard fields (``sourceList`` /
``destinationList``, ``childEPCs``, ``outputEPCList``,
``outputQuantityList``, ``transformationID``) are views derived from those homes. Reading an
event back takes each field from its home, so battrace -> EPCIS -> battrace is the identity;
a derived view that is present must agree with what battrace would write (a capture is never
stored differently from what it said), and fills in a missing home where it can (the type from
class, action and bizStep; the parties from the source and destination lists; the children of
an assembly from ``childEPCs``), so a plain GS1 shipping or receiving event needs no extension.
An EPCIS field battrace cannot keep (sensor data, business transactions, foreign extensions...)
is refused by name rather than silently dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

from battrace.domain.events import ENVELOPE_FIELDS, EventType
from battrace.domain.quantities import CHINA_TZ, timestamp_text, to_decimal
from battrace.epcis.identifiers import (
    ACTOR_FIELD,
    BODY_FIELD,
    COUNTERPARTY_FIELD,
    REF_FIELD,
    TYPE_FIELD,
    battery_code_of,
    battery_uri,
    credit_code_of,
    division_of,
    division_uri,
    event_id_of,
    event_uri,
    material_uri,
    party_uri,
    transformation_uri,
)
from battrace.epcis.shapes import (
    AGGREGATION_EVENT,
    EPCIS_EVENT_CLASSES,
    OBJECT_EVENT,
    SHAPES,
    TRANSFORMATION_EVENT,
    Shape,
    cbv_term,
)
from battrace.errors import ValidationError
from battrace.store.rows import EventRow

# every battrace place is a GB/T 2260 division: all of China keeps China Standard Time
CHINA_OFFSET: Final = "+08:00"
MAX_REF: Final = 128  # the longest ref an event may carry (battrace.domain.events)
KILOGRAM: Final = "KGM"  # UN/ECE Recommendation 20 code, as EPCIS uom requires
# RFC 3339 date-time (section 5.6), the "date-time" format of the schema
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z")

_COMMON_KEYS: Final = frozenset(
    {"@context", "type", "eventID", "eventTime", "eventTimeZoneOffset", "recordTime"}
)
_VIEW_KEYS: Final = frozenset({"bizStep", "disposition", "readPoint", "bizLocation"})
_PARTY_KEYS: Final = frozenset({"sourceList", "destinationList"})
_EXTENSION_KEYS: Final = frozenset(
    {TYPE_FIELD, ACTOR_FIELD, COUNTERPARTY_FIELD, REF_FIELD, BODY_FIELD}
)
_MAPPED_KEYS: Final[Mapping[str, frozenset[str]]] = {
    OBJECT_EVENT: frozenset({"action", "epcList", "ilmd"}),
    AGGREGATION_EVENT: frozenset({"action", "parentID", "childEPCs"}),
    TRANSFORMATION_EVENT: frozenset(
        {"inputEPCList", "outputEPCList", "outputQuantityList", "transformationID", "ilmd"}
    ),
}
# derived views: checked against what battrace would write when a capture gives them
_DERIVED_KEYS: Final = (
    "action",
    "bizStep",
    "disposition",
    "childEPCs",
    "outputEPCList",
    "outputQuantityList",
    "transformationID",
    "sourceList",
    "destinationList",
)
_STORED_KEYS: Final = ("id", *ENVELOPE_FIELDS)


def _bad(field: str, rule: str, message: str) -> ValidationError:
    return ValidationError(f"{field}: {message}", field=field, rule=rule)


# -- battrace -> EPCIS -------------------------------------------------------------------------


def stored_event(row: EventRow) -> dict[str, Any]:
    """A stored event as an event dict: its id and its envelope, None values left out.

    (``corrects`` is not kept: it is the ``corrects`` of a correction's body.)
    """
    data = row.to_dict()
    return {key: data[key] for key in _STORED_KEYS if data[key] is not None}


_EVENT_TYPES: Final = {t.value: t for t in EventType}


def _event_type(value: Any, field: str) -> EventType:
    kind = _EVENT_TYPES.get(value) if isinstance(value, str) else None
    if kind is None:
        raise _bad(field, "enum", f"{value!r} is not a battrace event type")
    return kind


def _epcis_time(value: Any, field: str) -> str:
    """An occurred_at or reported_at as an RFC 3339 date-time, kept verbatim when it is one."""
    if isinstance(value, str) and len(value) > 10:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise _bad(field, "value", f"{value!r} is not an ISO 8601 date-time") from None
        if parsed.tzinfo is None:
            raise _bad(field, "value", "must include a UTC offset (for example +08:00)")
        if _RFC3339.match(value):
            return value
        return timestamp_text(parsed)
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise _bad(field, "value", f"{value!r} is not an ISO 8601 date") from None
        # a bare date is midnight China Standard Time (battrace.domain.quantities)
        return datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ).isoformat()
    raise _bad(field, "value", "must be an ISO 8601 date-time string")


def _json_number(value: Any, field: str) -> int | float:
    try:
        number = to_decimal(value)
    except ValueError as exc:
        raise _bad(field, "value", str(exc)) from None
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def _string_list(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(field, "list_type", "must be a list of strings")
    return value


def _parties(shape: Shape, actor: str, counterparty: str | None) -> dict[str, Any]:
    if shape.parties is None:
        return {}
    giver, taker = (actor, counterparty) if shape.parties == "out" else (counterparty, actor)
    out: dict[str, Any] = {}
    if giver is not None:
        out["sourceList"] = [{"type": "possessing_party", "source": party_uri(giver)}]
    if taker is not None:
        out["destinationList"] = [{"type": "possessing_party", "destination": party_uri(taker)}]
    return out


def _object_lists(
    kind: EventType, shape: Shape, batteries: list[str], body: Mapping[str, Any]
) -> dict[str, Any]:
    epcs = [battery_uri(code) for code in batteries]
    if shape.epcis_class == OBJECT_EVENT:
        return {"epcList": epcs, "action": shape.action}
    if shape.epcis_class == AGGREGATION_EVENT:
        if len(epcs) != 1:
            raise _bad("batteries", "one_parent", f"an {kind} event names one parent unit")
        children = _string_list(body.get("children", []), "body.children")
        return {
            "parentID": epcs[0],
            "childEPCs": [battery_uri(c) for c in children],
            "action": shape.action,
        }
    out: dict[str, Any] = {"inputEPCList": epcs}
    if kind is EventType.REPURPOSED:
        product = body.get("product")
        if not isinstance(product, str):
            raise _bad("body.product", "missing", "a repurposed event names its product")
        out["outputEPCList"] = [battery_uri(product)]
    else:  # recycled: the materials recovered, in kg
        outputs = body.get("outputs", {})
        if not isinstance(outputs, dict):
            raise _bad("body.outputs", "dict_type", "must be an object of kg per material")
        if outputs:
            out["outputQuantityList"] = [
                {
                    "epcClass": material_uri(str(material)),
                    "quantity": _json_number(kg, f"body.outputs.{material}"),
                    "uom": KILOGRAM,
                }
                for material, kg in outputs.items()
            ]
        elif epcs:
            # the schema wants outputs or a transformationID in a TransformationEvent
            out["transformationID"] = transformation_uri(batteries[0])
    return out


def event_to_epcis(event: Mapping[str, Any]) -> dict[str, Any]:
    """One battrace event dict as an EPCIS 2.0 event (a JSON-ready dict).

    The result validates against the GS1 EPCIS JSON schema inside a document from
    :func:`~battrace.epcis.documents.epcis_document` or
    :func:`~battrace.epcis.documents.query_document`. Raises ``ValidationError`` naming the
    field when the event is too malformed to map (unknown type, a time without offset, a
    quantity that is not a number...); the lifecycle rules are not checked here.
    """
    kind = _event_type(event.get("type"), "type")
    shape = SHAPES[kind]
    actor = event.get("actor")
    if not isinstance(actor, str):
        raise _bad("actor", "missing", "is required")
    counterparty = event.get("counterparty")
    body = event.get("body") or {}
    if not isinstance(body, dict):
        raise _bad("body", "dict_type", "must be a JSON object")
    batteries = _string_list(event.get("batteries", []), "batteries")

    out: dict[str, Any] = {"type": shape.epcis_class}
    event_id = event.get("id")
    if event_id is not None:
        if not isinstance(event_id, int) or isinstance(event_id, bool):
            raise _bad("id", "int_type", "must be an integer")
        out["eventID"] = event_uri(event_id)
    out["eventTime"] = _epcis_time(event.get("occurred_at"), "occurred_at")
    out["eventTimeZoneOffset"] = CHINA_OFFSET
    if event.get("reported_at") is not None:
        out["recordTime"] = _epcis_time(event["reported_at"], "reported_at")
    out.update(_object_lists(kind, shape, batteries, body))
    if shape.biz_step is not None:
        out["bizStep"] = shape.biz_step
    if shape.disposition is not None:
        out["disposition"] = shape.disposition
    place = event.get("place")
    if place is not None:
        out["readPoint"] = {"id": division_uri(str(place))}
        if kind is not EventType.SHIPPED:  # goods in transit are at no business location
            out["bizLocation"] = {"id": division_uri(str(place))}
    out.update(_parties(shape, actor, counterparty))
    if shape.body_in_ilmd:
        out["ilmd"] = {BODY_FIELD: body}
    elif body:
        out[BODY_FIELD] = body
    out[TYPE_FIELD] = kind.value
    out[ACTOR_FIELD] = party_uri(actor)
    if counterparty is not None:
        out[COUNTERPARTY_FIELD] = party_uri(str(counterparty))
    if event.get("ref") is not None:
        out[REF_FIELD] = event["ref"]
    return out


# -- EPCIS -> battrace -------------------------------------------------------------------------


def _infer_type(cls: str, data: Mapping[str, Any], field: str) -> EventType:
    action = data.get("action")
    step = data.get("bizStep")
    step = cbv_term(step) if isinstance(step, str) else None
    disposition = data.get("disposition")
    disposition = cbv_term(disposition) if isinstance(disposition, str) else None
    found = [
        kind
        for kind, shape in SHAPES.items()
        if shape.epcis_class == cls
        and shape.action == action
        and shape.biz_step is not None
        and shape.biz_step == step
    ]
    if len(found) > 1 and disposition is not None:
        found = [kind for kind in found if SHAPES[kind].disposition == disposition]
    if len(found) == 1:
        return found[0]
    what = " ".join(str(p) for p in (cls, action, step, disposition) if p is not None)
    choice = f" (it may be {' or '.join(found)})" if found else ""
    raise _bad(
        f"{field}.{TYPE_FIELD}",
        "missing",
        f"required: battrace cannot tell its event type from {what}{choice}",
    )


def _party_from_lists(data: Mapping[str, Any], key: str, field: str) -> str | None:
    """The one possessing party in ``sourceList`` or ``destinationList``, if there is one."""
    side = "source" if key == "sourceList" else "destination"
    entries = data.get(key)
    if not isinstance(entries, list):
        return None
    found = [
        e.get(side)
        for e in entries
        if isinstance(e, dict) and cbv_term(str(e.get("type"))) == "possessing_party"
    ]
    if len(found) != 1:
        return None
    return credit_code_of(found[0], f"{field}.{key}[0].{side}")


def _actor_and_counterparty(
    data: Mapping[str, Any], shape: Shape, caller: str | None, field: str
) -> tuple[str, str | None]:
    """From the extensions, else the possessing parties of a hand-over, else (the actor) the
    caller."""
    own, other = ("sourceList", "destinationList")
    if shape.parties == "in":
        own, other = other, own
    actor = data.get(ACTOR_FIELD)
    if actor is not None:
        actor = credit_code_of(actor, f"{field}.{ACTOR_FIELD}")
    elif shape.parties is not None:
        actor = _party_from_lists(data, own, field)
    actor = actor or caller
    if actor is None:
        raise _bad(
            f"{field}.{ACTOR_FIELD}",
            "missing",
            "required: the reporting enterprise (urn:battrace:party:<credit code>)",
        )
    counterparty = data.get(COUNTERPARTY_FIELD)
    if counterparty is not None:
        counterparty = credit_code_of(counterparty, f"{field}.{COUNTERPARTY_FIELD}")
    elif shape.parties is not None:
        counterparty = _party_from_lists(data, other, field)
    return actor, counterparty


def _check_keys(cls: str, data: Mapping[str, Any], field: str) -> None:
    allowed = _COMMON_KEYS | _VIEW_KEYS | _PARTY_KEYS | _EXTENSION_KEYS | _MAPPED_KEYS[cls]
    for key in data:
        if key not in allowed:
            raise _bad(
                f"{field}.{key}",
                "unmapped_field",
                "battrace has no place for this field and would lose it; leave it out",
            )


def _place(data: Mapping[str, Any], field: str) -> str | None:
    places: list[tuple[str, Any]] = []
    for key in ("readPoint", "bizLocation"):
        value = data.get(key)
        if isinstance(value, dict):
            extra = sorted(set(value) - {"id"})
            if extra:
                raise _bad(f"{field}.{key}.{extra[0]}", "unmapped_field", "is not kept")
            places.append((key, value.get("id")))
    if not places:
        return None
    if len(places) == 2 and places[0][1] != places[1][1]:
        raise _bad(
            f"{field}.bizLocation",
            "one_place",
            "battrace records one place per event: readPoint and bizLocation must agree",
        )
    key, uri = places[0]
    return division_of(uri, f"{field}.{key}.id")


def _event_time(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise _bad(field, "format", "must be an RFC 3339 date-time with an offset")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise _bad(field, "format", f"{value!r} is not a valid date-time") from None
    return value


def _body(
    kind: EventType, cls: str, data: Mapping[str, Any], field: str
) -> tuple[dict[str, Any], str]:
    """The body and the JSON path of its home."""
    shape = SHAPES[kind]
    ilmd = data.get("ilmd")
    if shape.body_in_ilmd:
        if ilmd is not None:
            if not isinstance(ilmd, dict):
                raise _bad(f"{field}.ilmd", "dict_type", "must be a JSON object")
            extra = sorted(set(ilmd) - {BODY_FIELD})
            if extra:
                raise _bad(f"{field}.ilmd.{extra[0]}", "unmapped_field", "is not kept")
        if BODY_FIELD in data:
            raise _bad(
                f"{field}.{BODY_FIELD}",
                "body_in_ilmd",
                f"the body of a {kind} event is instance master data: put it in ilmd",
            )
        body = ilmd.get(BODY_FIELD) if isinstance(ilmd, dict) else None
        where = f"{field}.ilmd.{BODY_FIELD}"
    else:
        if ilmd is not None:
            raise _bad(f"{field}.ilmd", "unmapped_field", f"a {kind} event commissions nothing")
        body = data.get(BODY_FIELD)
        where = f"{field}.{BODY_FIELD}"
    if body is None:
        if kind is EventType.ASSEMBLED and cls == AGGREGATION_EVENT:
            children = _string_list(data.get("childEPCs", []), f"{field}.childEPCs")
            codes = [battery_code_of(c, f"{field}.childEPCs[{i}]") for i, c in enumerate(children)]
            return {"children": codes}, where
        return {}, where
    if not isinstance(body, dict):
        raise _bad(where, "dict_type", "must be a JSON object")
    return body, where


def _batteries(cls: str, data: Mapping[str, Any], field: str) -> list[str]:
    if cls == AGGREGATION_EVENT:
        parent = data.get("parentID")
        if parent is None:
            raise _bad(f"{field}.parentID", "missing", "an assembly names its parent unit")
        return [battery_code_of(parent, f"{field}.parentID")]
    key = "epcList" if cls == OBJECT_EVENT else "inputEPCList"
    uris = _string_list(data.get(key, []), f"{field}.{key}")
    return [battery_code_of(uri, f"{field}.{key}[{i}]") for i, uri in enumerate(uris)]


def _canonical(value: Any) -> Any:
    """A value compared up to list order, number type and CBV spelling."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return cbv_term(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def _check_derived(
    kind: EventType, data: Mapping[str, Any], rebuilt: Mapping[str, Any], field: str
) -> None:
    for key in _DERIVED_KEYS:
        if key not in data:
            continue
        expected = rebuilt.get(key)
        if expected is None:
            raise _bad(
                f"{field}.{key}",
                "epcis_mapping",
                f"a {kind} event has no {key} in battrace's EPCIS mapping; leave it out",
            )
        if _canonical(data[key]) != _canonical(expected):
            raise _bad(
                f"{field}.{key}",
                "epcis_mapping",
                f"a {kind} event has {key} {json.dumps(expected)}, not {json.dumps(data[key])}",
            )


def epcis_to_event(data: Any, *, actor: str | None = None, field: str = "$") -> dict[str, Any]:
    """One EPCIS 2.0 event (decoded JSON) as a battrace event dict.

    ``actor`` is the reporting enterprise to assume when the event names none (neither
    ``battrace:actor`` nor, for a hand-over, a possessing party): the authenticated caller of a
    capture. ``field`` is the JSON path of the event, put in front of every error's field.
    The event's ``eventID`` gives ``id`` when it is a battrace event URI, and is otherwise kept
    as ``ref`` (unless ``battrace:ref`` is given), so a retried capture is refused as a
    duplicate. Raises ``ValidationError`` naming the field and the rule: an event class or
    field battrace cannot keep, an identifier of another form, or a derived view (bizStep,
    disposition, parties...) that disagrees with the event's type and fields. The lifecycle
    rules are checked when the event is reported, not here.
    """
    if not isinstance(data, dict):
        raise _bad(field, "type", "an EPCIS event is a JSON object")
    cls = data.get("type")
    if cls not in EPCIS_EVENT_CLASSES:
        raise _bad(
            f"{field}.type",
            "event_class",
            f"battrace maps {', '.join(EPCIS_EVENT_CLASSES)}, not {cls!r}",
        )
    _check_keys(cls, data, field)
    raw_type = data.get(TYPE_FIELD)
    if raw_type is None:
        kind = _infer_type(cls, data, field)
    else:
        kind = _event_type(raw_type, f"{field}.{TYPE_FIELD}")
    shape = SHAPES[kind]
    if shape.epcis_class != cls:
        raise _bad(
            f"{field}.type",
            "epcis_mapping",
            f"a {kind} event is an {shape.epcis_class}, not an {cls}",
        )
    out: dict[str, Any] = {}
    event_id_text = data.get("eventID")
    event_id = event_id_of(event_id_text) if isinstance(event_id_text, str) else None
    if event_id is not None:
        out["id"] = event_id
    out["type"] = kind.value
    out["batteries"] = _batteries(cls, data, field)

    out["actor"], counterparty = _actor_and_counterparty(data, shape, actor, field)
    if counterparty is not None:
        out["counterparty"] = counterparty
    out["occurred_at"] = _event_time(data.get("eventTime"), f"{field}.eventTime")
    if data.get("recordTime") is not None:
        out["reported_at"] = _event_time(data["recordTime"], f"{field}.recordTime")
    place = _place(data, field)
    if place is not None:
        out["place"] = place
    ref = data.get(REF_FIELD)
    if ref is None and isinstance(event_id_text, str) and event_id is None:
        if len(event_id_text) > MAX_REF:
            raise _bad(
                f"{field}.eventID",
                "string_length",
                f"battrace keeps a capture's eventID as the event's ref: {MAX_REF} characters"
                " at most",
            )
        ref = event_id_text
    if ref is not None:
        out["ref"] = ref
    out["body"], body_at = _body(kind, cls, data, field)

    try:
        rebuilt = event_to_epcis(out)
    except ValidationError as exc:
        # only the body can fail here (the rest was read from valid EPCIS): say where it is
        inner = (exc.field or "body").removeprefix("body")
        raise _bad(body_at + inner, exc.rule or "value", exc.message.split(": ", 1)[-1]) from None
    _check_derived(kind, data, rebuilt, field)
    return out
