"""How each battrace event type looks in EPCIS 2.0: class, action, bizStep, disposition. Pure.

The table behind ``docs/epcis.md``. bizStep and disposition values are bare CBV 2.0 terms,
each in the enumerations of the GS1 EPCIS JSON schema (a test reads them from it); the
``battrace:type`` extension names the battrace type exactly, so two types may share a step
(replaced and swapped are both ``replacing``; their dispositions tell them apart).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from battrace.domain.events import EventType

OBJECT_EVENT: Final = "ObjectEvent"
AGGREGATION_EVENT: Final = "AggregationEvent"
TRANSFORMATION_EVENT: Final = "TransformationEvent"
EPCIS_EVENT_CLASSES: Final = (OBJECT_EVENT, AGGREGATION_EVENT, TRANSFORMATION_EVENT)


@dataclass(frozen=True, slots=True)
class Shape:
    """How one battrace event type looks in EPCIS.

    ``parties``: ``out`` when the actor hands the batteries to the counterparty (source:
    actor, destination: counterparty), ``in`` when it takes them from the counterparty.
    ``body_in_ilmd``: the body describes a unit the event commissions, so it is instance
    master data (EPCIS ``ilmd``) rather than a field of the event.
    """

    epcis_class: str
    action: str | None
    biz_step: str | None
    disposition: str | None
    parties: Literal["out", "in"] | None = None
    body_in_ilmd: bool = False


_T = EventType
SHAPES: Final[Mapping[EventType, Shape]] = {
    _T.PRODUCED: Shape(OBJECT_EVENT, "ADD", "commissioning", "active", body_in_ilmd=True),
    _T.ASSEMBLED: Shape(AGGREGATION_EVENT, "ADD", "assembling", None),
    _T.SHIPPED: Shape(OBJECT_EVENT, "OBSERVE", "shipping", "in_transit", parties="out"),
    _T.RECEIVED: Shape(OBJECT_EVENT, "OBSERVE", "receiving", "in_progress", parties="in"),
    _T.INSTALLED: Shape(OBJECT_EVENT, "OBSERVE", "installing", None),
    _T.VEHICLE_SOLD: Shape(OBJECT_EVENT, "OBSERVE", "retail_selling", "retail_sold"),
    _T.REPAIRED: Shape(OBJECT_EVENT, "OBSERVE", "repairing", None),
    _T.REPLACED: Shape(OBJECT_EVENT, "OBSERVE", "replacing", "inactive"),
    _T.SWAPPED: Shape(OBJECT_EVENT, "OBSERVE", "replacing", "available"),
    _T.VEHICLE_SCRAPPED: Shape(OBJECT_EVENT, "OBSERVE", "accepting", None),
    _T.REMOVED: Shape(OBJECT_EVENT, "OBSERVE", "removing", "inactive"),
    _T.COLLECTED: Shape(OBJECT_EVENT, "OBSERVE", "collecting", None, parties="in"),
    _T.TESTED: Shape(OBJECT_EVENT, "OBSERVE", "inspecting", None),
    _T.REPURPOSED: Shape(TRANSFORMATION_EVENT, None, "commissioning", "active", body_in_ilmd=True),
    _T.DISMANTLED: Shape(OBJECT_EVENT, "OBSERVE", "disassembling", None),
    _T.RECYCLED: Shape(TRANSFORMATION_EVENT, None, "destroying", "destroyed"),
    _T.DISPOSED: Shape(OBJECT_EVENT, "DELETE", "destroying", "disposed"),
    _T.CORRECTION: Shape(OBJECT_EVENT, "OBSERVE", None, None),
}

# CBV 2.0 also spells its terms as Web URIs; the schema wants the bare term
_CBV_WEB_PREFIXES: Final = (
    "https://ref.gs1.org/cbv/BizStep-",
    "https://ref.gs1.org/cbv/Disp-",
    "https://ref.gs1.org/cbv/SDT-",
)


def cbv_term(value: str) -> str:
    """A CBV term as the bare word the schema wants (``https://ref.gs1.org/cbv/Disp-x``
    -> ``x``); any other value is returned unchanged."""
    for prefix in _CBV_WEB_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value
