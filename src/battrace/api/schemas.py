"""The shapes the HTTP API reads and answers, as Pydantic models for the OpenAPI document.

Answers are built by the services as plain dicts and sent as they are; these models describe
them (the schemathesis test checks every answer against them). The input models of small
management requests (enterprises, whitelist, keys, tokens) also validate them; events and
battery records are validated by the domain (``parse_event``), which names field and rule.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# -- errors ----------------------------------------------------------------------------------
class ErrorBody(_Out):
    code: str = Field(description="Stable machine-readable code, e.g. invalid, forbidden.")
    message: str = Field(description="What went wrong, naming the field and the rule.")
    field: str | None = Field(None, description="The input field at fault.")
    rule: str | None = Field(None, description="The rule it broke, e.g. actor_is_caller.")
    position: int | None = Field(None, description="1-based character position in a code.")
    index: int | None = Field(None, description="0-based item of a batch.")
    line: int | None = Field(None, description="1-based line of an NDJSON batch.")
    cause: dict[str, Any] | None = Field(None, description="The item's own error in a batch.")


class Error(BaseModel):
    """The one error shape of every 4xx and 5xx answer."""

    error: ErrorBody


# -- service and log -------------------------------------------------------------------------
class Health(BaseModel):
    status: str
    dialect: str
    schema_version: int
    log_size: int


class CheckpointJson(BaseModel):
    size: int
    root: str = Field(description="Root hash, hex.")
    note: str = Field(description="The signed note, exactly as /checkpoint serves it.")


class VerifierKey(BaseModel):
    verifier_key: str = Field(description="name+hash+base64key: all an auditor must trust.")


class InclusionProof(BaseModel):
    index: int
    tree_size: int
    leaf_hash: str
    hashes: list[str]


class ConsistencyProof(BaseModel):
    old_size: int
    new_size: int
    hashes: list[str]


class Event(_Out):
    id: int
    type: str
    batteries: list[str]
    actor: str
    counterparty: str | None
    occurred_at: str
    reported_at: str
    place: str | None
    ref: str | None
    corrects: int | None
    body: dict[str, Any]
    corrected_by: list[int] | None = None
    effective: dict[str, Any] | None = None


class Leaf(BaseModel):
    index: int
    leaf: str = Field(description="The leaf bytes, base64.")
    event: Event | None = Field(description="The event, for callers who may read it; else null.")


# -- batteries -------------------------------------------------------------------------------
class Battery(_Out):
    code: str
    level: str
    battery_type: str
    maker: str
    state: str
    holder: str | None
    pending_to: str | None
    place: str | None
    province: str | None
    vin: str | None
    parent: str | None
    second_life: bool
    predecessors: list[str]
    soh_percent: str | None
    spec: dict[str, Any]
    produced_event: int
    last_event: int


class BatteryState(Battery):
    effective_holder: str | None
    children: list[str]
    successors: list[str]


class BatteryView(BatteryState):
    history: list[Event]


class Passport(BaseModel):
    code: str
    level: str
    battery_type: str
    chemistry: str | None
    maker: str
    maker_name: str | None
    state: str
    second_life: bool


class BatteryPage(BaseModel):
    items: list[Battery]
    next: str | None = Field(description="Cursor for the next page (after=...), or null.")


class BatteryRecord(BaseModel):
    """A battery to register: becomes its ``produced`` event (maker = the caller)."""

    model_config = ConfigDict(extra="forbid")

    code: str
    maker: str
    chemistry: str
    rated_capacity_ah: str | int | float
    nominal_voltage_v: str | int | float
    energy_kwh: str | int | float
    mass_kg: str | int | float
    composition: dict[str, str | int | float] | None = None
    children: list[str] | None = None
    occurred_at: str | None = None
    place: str | None = None
    ref: str | None = None


# -- events ----------------------------------------------------------------------------------
class EventInput(BaseModel):
    """An event as reported (docs/lifecycle.md); ``reported_at`` is set by the platform."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="produced, shipped, received, installed, ... correction")
    batteries: list[str] = Field(default_factory=list)
    actor: str = Field(description="The reporter's credit code: the caller's own.")
    counterparty: str | None = None
    occurred_at: str
    place: str | None = None
    ref: str | None = Field(None, description="The reporter's own id, unique per reporter.")
    body: dict[str, Any] = Field(default_factory=dict)


class BatchResult(BaseModel):
    accepted: int
    first_id: int | None
    last_id: int | None
    batteries_changed: int


class ItemResult(BaseModel):
    index: int
    line: int | None = None
    status: int
    event: Event | None = None
    error: ErrorBody | None = None


class PerItemResults(BaseModel):
    accepted: int
    rejected: int
    results: list[ItemResult]


# -- enterprises, keys, tokens ---------------------------------------------------------------
class Enterprise(_Out):
    id: str
    name: str
    roles: list[str]
    division: str
    province: str
    manufacturer_code: str | None
    whitelisted: bool
    registered_at: str


class WhitelistChange(BaseModel):
    enterprise_id: str
    listed: bool
    effective_date: str
    batch: str | None
    note: str | None
    recorded_at: str


class EnterpriseView(Enterprise):
    whitelist_history: list[WhitelistChange]


class EnterprisePage(BaseModel):
    items: list[Enterprise]
    next: str | None


class EnterpriseInput(_In):
    credit_code: str
    name: str
    roles: list[str]
    division: str
    manufacturer_code: str | None = None
    whitelisted_since: str | None = Field(None, description="YYYY-MM-DD")


class WhitelistInput(_In):
    listed: bool
    effective_date: str = Field(description="YYYY-MM-DD")
    batch: str | None = None
    note: str | None = None


class Key(BaseModel):
    key_id: str
    enterprise_id: str
    public_key: str
    valid_from: str
    revoked_at: str | None
    registered_at: str


class KeyInput(_In):
    public_key: str = Field(description="Base64 Ed25519 public key (battrace keygen).")
    valid_from: str | None = Field(None, description="ISO 8601; default now.")


class Token(BaseModel):
    token_id: str
    enterprise_id: str
    label: str | None
    created_at: str
    expires_at: str
    revoked_at: str | None


class NewToken(Token):
    token: str = Field(description="The bearer token. Shown once; only its hash is kept.")


class TokenInput(_In):
    label: str | None = None
    days: int | None = Field(None, description="Days valid (default BATTRACE_API_TOKEN_DAYS).")


class Pending(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    battery: str
    sender: str | None = Field(alias="from")
    shipped_event: int
    shipped_at: str
    state: str


__all__ = [
    "BatchResult",
    "Battery",
    "BatteryPage",
    "BatteryRecord",
    "BatteryState",
    "BatteryView",
    "CheckpointJson",
    "ConsistencyProof",
    "Enterprise",
    "EnterpriseInput",
    "EnterprisePage",
    "EnterpriseView",
    "Error",
    "ErrorBody",
    "Event",
    "EventInput",
    "Health",
    "InclusionProof",
    "ItemResult",
    "Key",
    "KeyInput",
    "Leaf",
    "NewToken",
    "Passport",
    "Pending",
    "PerItemResults",
    "Token",
    "TokenInput",
    "VerifierKey",
    "WhitelistChange",
    "WhitelistInput",
]
