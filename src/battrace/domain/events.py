"""Event types, their bodies, and the validation of one reported event.

An event is one fact reported by one enterprise (the actor) about zero or more batteries. The
envelope is the same for every type; the ``body`` has a model per type. :func:`parse_event`
checks both and returns an :class:`EventIn`, or raises one
:class:`battrace.errors.ValidationError` naming the field (``body.vin``, ``batteries[2]``...) and
the rule.

Accepted events are never changed or deleted: a ``correction`` event refers to the one it
corrects.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from battrace.codes import (
    parse_battery_code,
    validate_credit_code,
    validate_division_code,
    validate_vin,
)
from battrace.domain.quantities import Quantity, to_aware_datetime
from battrace.errors import BattraceError, ValidationError


class EventType(StrEnum):
    """Every lifecycle fact the platform records."""

    PRODUCED = "produced"
    ASSEMBLED = "assembled"
    SHIPPED = "shipped"
    RECEIVED = "received"
    INSTALLED = "installed"
    VEHICLE_SOLD = "vehicle_sold"
    REPAIRED = "repaired"
    REPLACED = "replaced"
    SWAPPED = "swapped"
    VEHICLE_SCRAPPED = "vehicle_scrapped"
    REMOVED = "removed"
    COLLECTED = "collected"
    TESTED = "tested"
    REPURPOSED = "repurposed"
    DISMANTLED = "dismantled"
    RECYCLED = "recycled"
    DISPOSED = "disposed"
    CORRECTION = "correction"


class Chemistry(StrEnum):
    """Cell chemistry of a unit; the GB/T 34014 battery-type letter must agree with it."""

    LFP = "LFP"
    NCM = "NCM"
    NCA = "NCA"
    LMO = "LMO"
    LCO = "LCO"
    LTO = "LTO"
    NIMH = "NiMH"
    SODIUM_ION = "sodium_ion"
    SUPERCAPACITOR = "supercapacitor"
    OTHER = "other"


# GB/T 34014 position 5 letter -> chemistries it may carry (Z "other" takes anything new).
CHEMISTRIES_BY_TYPE_LETTER: dict[str, frozenset[Chemistry]] = {
    "A": frozenset({Chemistry.NIMH}),
    "B": frozenset({Chemistry.LFP}),
    "C": frozenset({Chemistry.LMO}),
    "D": frozenset({Chemistry.LCO}),
    "E": frozenset({Chemistry.NCM, Chemistry.NCA}),
    "F": frozenset({Chemistry.SUPERCAPACITOR}),
    "G": frozenset({Chemistry.LTO}),
    "Z": frozenset(Chemistry),
}


class Material(StrEnum):
    """Materials tracked in a unit's composition and in recyclers' outputs, in kg."""

    LI = "li"
    NI = "ni"
    CO = "co"
    MN = "mn"
    CU = "cu"
    AL = "al"
    FE = "fe"
    P = "p"
    GRAPHITE = "graphite"
    OTHER = "other"


class RuleValueError(ValueError):
    """A ValueError pydantic can report, keeping the rule id of the error it wraps."""

    def __init__(self, cause: BattraceError) -> None:
        super().__init__(cause.message)
        self.message = cause.message
        self.rule = cause.rule


# Bulk imports name the same batteries and enterprises again and again; checking a code is
# pure, so the last results are kept (a bounded cache, errors are not cached).
@functools.lru_cache(maxsize=1 << 16)
def _battery_code(text: str) -> str:
    try:
        return parse_battery_code(text).text
    except BattraceError as exc:
        raise RuleValueError(exc) from None


@functools.lru_cache(maxsize=1 << 14)
def _vin(text: str) -> str:
    try:
        return validate_vin(text)
    except BattraceError as exc:
        raise RuleValueError(exc) from None


@functools.lru_cache(maxsize=1 << 14)
def _credit(text: str) -> str:
    try:
        return validate_credit_code(text)
    except BattraceError as exc:
        raise RuleValueError(exc) from None


@functools.lru_cache(maxsize=1 << 12)
def _division(text: str) -> str:
    try:
        return validate_division_code(text).code
    except BattraceError as exc:
        raise RuleValueError(exc) from None


BatteryCodeText = Annotated[str, AfterValidator(_battery_code)]
VinText = Annotated[str, AfterValidator(_vin)]
CreditCode = Annotated[str, AfterValidator(_credit)]
DivisionCode = Annotated[str, AfterValidator(_division)]
ShortText = Annotated[str, Field(min_length=1, max_length=500)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UnitSpec(_Body):
    """What a unit is: chemistry, ratings, mass and material composition (kg)."""

    chemistry: Chemistry
    rated_capacity_ah: Quantity
    nominal_voltage_v: Quantity
    energy_kwh: Quantity
    mass_kg: Quantity
    composition: dict[Material, Quantity] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> UnitSpec:
        # Ah x V = Wh; a pack whose label energy is far from that is mistyped, not designed.
        if self.rated_capacity_ah and self.nominal_voltage_v and self.energy_kwh:
            computed = self.rated_capacity_ah * self.nominal_voltage_v / 1000
            if abs(computed - self.energy_kwh) > self.energy_kwh * Decimal("0.15"):
                raise ValueError(
                    f"energy_kwh {self.energy_kwh} differs by more than 15 % from rated capacity x"
                    f" nominal voltage ({computed:.3f} kWh)"
                )
        total = sum(self.composition.values())
        if total > self.mass_kg:
            raise ValueError(f"composition totals {total} kg, more than mass_kg {self.mass_kg}")
        return self


class ProducedBody(UnitSpec):
    """A unit leaves production; ``children`` are the registered modules or cells inside it."""

    children: list[BatteryCodeText] = Field(default_factory=list, max_length=10_000)


class AssembledBody(_Body):
    children: list[BatteryCodeText] = Field(min_length=1, max_length=10_000)


class EmptyBody(_Body):
    pass


class InstalledBody(_Body):
    vin: VinText
    certificate_date: date


class VehicleSoldBody(_Body):
    vin: VinText | None = None
    buyer_region: DivisionCode


class RepairedBody(_Body):
    vin: VinText | None = None
    description: ShortText | None = None


class ExchangeBody(_Body):
    """Replaced or swapped: the battery listed goes out of ``vin``, ``new`` goes in."""

    vin: VinText
    new: BatteryCodeText


class VehicleScrappedBody(_Body):
    vin: VinText
    certificate_no: ShortText | None = None


class RemovedBody(_Body):
    vin: VinText | None = None
    reason: ShortText | None = None


class CollectedBody(_Body):
    source: ShortText | None = None


class TestedBody(_Body):
    soh_percent: Annotated[Quantity, Field(le=150)]
    residual_capacity_ah: Quantity | None = None
    internal_resistance_mohm: Quantity | None = None
    grade: Annotated[str, Field(min_length=1, max_length=20)] | None = None


class RepurposedBody(_Body):
    """Originals become one second-life ``product`` with its own code and spec."""

    product: BatteryCodeText
    spec: UnitSpec
    application: ShortText | None = None


class DismantledBody(_Body):
    parts: list[BatteryCodeText] = Field(default_factory=list, max_length=10_000)


class RecycledBody(_Body):
    input_mass_kg: Annotated[Quantity, Field(gt=0)]
    outputs: dict[Material, Quantity] = Field(default_factory=dict)


class DisposedBody(_Body):
    method: ShortText
    mass_kg: Quantity | None = None


# Fields of an earlier event that a correction may change; identity fields (type, batteries,
# actor) cannot be corrected: a wrong one is reported as a new event.
CORRECTABLE_FIELDS = frozenset({"occurred_at", "place", "body"})


class CorrectionBody(_Body):
    corrects: Annotated[int, Field(ge=1)]
    reason: ShortText
    changes: dict[str, Any] = Field(min_length=1)

    @model_validator(mode="after")
    def _only_correctable(self) -> CorrectionBody:
        wrong = sorted(set(self.changes) - CORRECTABLE_FIELDS)
        if wrong:
            raise ValueError(
                f"cannot correct {', '.join(wrong)}; only {', '.join(sorted(CORRECTABLE_FIELDS))}"
            )
        return self


BODY_MODELS: dict[EventType, type[_Body]] = {
    EventType.PRODUCED: ProducedBody,
    EventType.ASSEMBLED: AssembledBody,
    EventType.SHIPPED: EmptyBody,
    EventType.RECEIVED: EmptyBody,
    EventType.INSTALLED: InstalledBody,
    EventType.VEHICLE_SOLD: VehicleSoldBody,
    EventType.REPAIRED: RepairedBody,
    EventType.REPLACED: ExchangeBody,
    EventType.SWAPPED: ExchangeBody,
    EventType.VEHICLE_SCRAPPED: VehicleScrappedBody,
    EventType.REMOVED: RemovedBody,
    EventType.COLLECTED: CollectedBody,
    EventType.TESTED: TestedBody,
    EventType.REPURPOSED: RepurposedBody,
    EventType.DISMANTLED: DismantledBody,
    EventType.RECYCLED: RecycledBody,
    EventType.DISPOSED: DisposedBody,
    EventType.CORRECTION: CorrectionBody,
}

# Types whose event may name no battery: a vehicle scrapped without its pack is reported (and
# flagged by supervision); a correction names the batteries of the event it corrects.
MAY_HAVE_NO_BATTERY = frozenset({EventType.VEHICLE_SCRAPPED, EventType.CORRECTION})


ENVELOPE_FIELDS = (
    "type",
    "batteries",
    "actor",
    "counterparty",
    "occurred_at",
    "reported_at",
    "place",
    "ref",
    "body",
)
_ENVELOPE_KEYS = frozenset(ENVELOPE_FIELDS)
_EVENT_TYPES = {t.value: t for t in EventType}
MAX_BATTERIES_PER_EVENT = 10_000


@dataclass(slots=True)
class EventIn:
    """A reported event whose format is valid; the state machine has not yet accepted it.

    Not frozen only because a frozen dataclass is slow to build on the bulk path; treat it as
    immutable (use ``dataclasses.replace``).
    """

    type: EventType
    batteries: tuple[str, ...]
    actor: str
    counterparty: str | None
    occurred_at: datetime
    reported_at: datetime | None
    place: str | None
    ref: str | None
    body: Any  # the type's body model
    _body_data: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def involved_codes(self) -> tuple[str, ...]:
        """Every battery code the event touches: its batteries and those named in its body."""
        body = self.body
        extra: list[str] = []
        if isinstance(body, ProducedBody | AssembledBody):
            extra = list(body.children)
        elif isinstance(body, ExchangeBody):
            extra = [body.new]
        elif isinstance(body, RepurposedBody):
            extra = [body.product]
        elif isinstance(body, DismantledBody):
            extra = list(body.parts)
        if not extra:
            return self.batteries
        seen = dict.fromkeys(self.batteries)
        seen.update(dict.fromkeys(extra))
        return tuple(seen)

    def body_dict(self) -> dict[str, Any]:
        """The body as JSON-ready data: decimals as strings, dates as ISO text (made once;
        treat it as read-only)."""
        if self._body_data is None:
            self._body_data = self.body.model_dump(mode="json", exclude_none=True)
        return self._body_data


def _field_error(exc: pydantic.ValidationError, prefix: str = "") -> ValidationError:
    first = exc.errors(include_url=False)[0]
    parts: list[str] = []
    for item in first["loc"]:
        if item == "[key]":
            continue
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{item}]"]
        else:
            parts.append(str(item))
    field = prefix + ".".join(parts) if parts else prefix.rstrip(".") or "event"
    rule = first["type"]
    message = first["msg"]
    ctx = first.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, RuleValueError):
        message, rule = cause.message, cause.rule or rule
    elif message.startswith("Value error, "):
        message = message[len("Value error, ") :]
        rule = "value"
    return ValidationError(f"{field}: {message}", field=field, rule=rule)


def _bad(field: str, rule: str, message: str) -> ValidationError:
    return ValidationError(f"{field}: {message}", field=field, rule=rule)


def _code_field(check: Any, value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise _bad(field, "string_type", "must be a string")
    try:
        result: str = check(value)
    except RuleValueError as exc:
        raise _bad(field, exc.rule or "value", exc.message) from None
    return result


def _time_field(value: Any, field: str) -> datetime:
    try:
        return to_aware_datetime(value)
    except ValueError as exc:
        raise _bad(field, "value", str(exc)) from None


def _envelope_batteries(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _bad("batteries", "list_type", "must be a list of battery codes")
    if len(value) > MAX_BATTERIES_PER_EVENT:
        raise _bad("batteries", "too_long", f"at most {MAX_BATTERIES_PER_EVENT} batteries")
    codes = tuple(_code_field(_battery_code, c, f"batteries[{i}]") for i, c in enumerate(value))
    if len(set(codes)) != len(codes):
        raise _bad("batteries", "unique", "a battery is listed twice")
    return codes


def parse_event(data: Any) -> EventIn:
    """Validate one reported event (a JSON object already decoded to a dict).

    Returns an :class:`EventIn` with normalised codes and a typed body. Raises
    :class:`ValidationError` naming the first bad field (``body.``-prefixed for body fields)
    and the rule it broke. The envelope is checked by hand, not by a model: every event pays
    for it, and bulk imports need it fast.
    """
    if not isinstance(data, dict):
        raise _bad("event", "type", "must be a JSON object")
    if not data.keys() <= _ENVELOPE_KEYS:
        extra = sorted(k for k in data if k not in _ENVELOPE_KEYS)[0]
        raise _bad(str(extra), "extra_forbidden", "is not an event field")
    raw_type = data.get("type")
    kind = _EVENT_TYPES.get(raw_type) if isinstance(raw_type, str) else None
    if kind is None:
        rule = "missing" if raw_type is None else "enum"
        raise _bad("type", rule, f"must be one of {', '.join(_EVENT_TYPES)}")
    for key in ("actor", "occurred_at"):
        if data.get(key) is None:
            raise _bad(key, "missing", "is required")
    batteries = _envelope_batteries(data.get("batteries", []))
    actor = _code_field(_credit, data["actor"], "actor")
    counterparty = data.get("counterparty")
    if counterparty is not None:
        counterparty = _code_field(_credit, counterparty, "counterparty")
    occurred_at = _time_field(data["occurred_at"], "occurred_at")
    reported_at = data.get("reported_at")
    if reported_at is not None:
        reported_at = _time_field(reported_at, "reported_at")
    place = data.get("place")
    if place is not None:
        place = _code_field(_division, place, "place")
    ref = data.get("ref")
    if ref is not None and (not isinstance(ref, str) or not 1 <= len(ref) <= 128):
        raise _bad("ref", "string_length", "must be a string of 1 to 128 characters")
    raw_body = data.get("body", {})
    if not isinstance(raw_body, dict):
        raise _bad("body", "dict_type", "must be a JSON object")
    if not batteries and kind not in MAY_HAVE_NO_BATTERY:
        raise _bad("batteries", "required", f"a {kind} event must name at least one battery")
    try:
        body = BODY_MODELS[kind].model_validate(raw_body)
    except pydantic.ValidationError as exc:
        raise _field_error(exc, "body.") from None
    if kind is EventType.SHIPPED and counterparty is None:
        raise _bad("counterparty", "required", "a shipment must name its receiver")
    if counterparty is not None and counterparty == actor:
        raise _bad("counterparty", "not_self", "must differ from actor")
    if reported_at is not None and occurred_at > reported_at:
        raise _bad("occurred_at", "not_after_reported", "a fact cannot happen after it is reported")
    return EventIn(
        type=kind,
        batteries=batteries,
        actor=actor,
        counterparty=counterparty,
        occurred_at=occurred_at,
        reported_at=reported_at,
        place=place,
        ref=ref,
        body=body,
    )
