"""Enterprises and battery units as the domain sees them: plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from battrace.domain.roles import Role


@dataclass(frozen=True, slots=True)
class Enterprise:
    """A registered firm (or regulator), identified by its unified social credit code."""

    id: str
    name: str
    roles: frozenset[Role]
    division: str
    manufacturer_code: str | None
    whitelisted: bool
    registered_at: datetime

    @property
    def province(self) -> str:
        """The GB/T 2260 province code (``310000``) of the enterprise's division."""
        return self.division[:2] + "0000"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "roles": sorted(r.value for r in self.roles),
            "division": self.division,
            "province": self.province,
            "manufacturer_code": self.manufacturer_code,
            "whitelisted": self.whitelisted,
            "registered_at": self.registered_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class WhitelistChange:
    """One entry in an enterprise's whitelist history: listed or delisted from a date."""

    enterprise_id: str
    listed: bool
    effective_date: date
    batch: str | None
    note: str | None
    recorded_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "enterprise_id": self.enterprise_id,
            "listed": self.listed,
            "effective_date": self.effective_date.isoformat(),
            "batch": self.batch,
            "note": self.note,
            "recorded_at": self.recorded_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class EnterpriseKey:
    """An enterprise's Ed25519 signing key and the times it is good for (UTC text)."""

    key_id: str
    enterprise_id: str
    public_key: bytes
    valid_from: str
    revoked_at: str | None
    registered_at: str

    def valid_at(self, when: str) -> bool:
        """Whether a signature received at ``when`` (fixed-width UTC text) may use this key."""
        return self.valid_from <= when and (self.revoked_at is None or when < self.revoked_at)

    def to_dict(self) -> dict[str, Any]:
        import base64

        return {
            "key_id": self.key_id,
            "enterprise_id": self.enterprise_id,
            "public_key": base64.b64encode(self.public_key).decode(),
            "valid_from": self.valid_from,
            "revoked_at": self.revoked_at,
            "registered_at": self.registered_at,
        }


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An enterprise's HTTP API bearer token as stored: its id and hash, never the token.

    Times are fixed-width UTC text. ``token_id`` is the first 16 hex digits of the token's
    SHA-256, so whoever holds a token can name it.
    """

    token_id: str
    enterprise_id: str
    token_hash: bytes
    label: str | None
    created_at: str
    expires_at: str
    revoked_at: str | None

    def valid_at(self, when: str) -> bool:
        """Whether the token is accepted at ``when`` (fixed-width UTC text)."""
        return when < self.expires_at and (self.revoked_at is None or when < self.revoked_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "token_id": self.token_id,
            "enterprise_id": self.enterprise_id,
            "label": self.label,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
        }


class State(StrEnum):
    """Where a battery is in its life. Derived from its events, never set by hand."""

    IN_STOCK = "in_stock"  # usable, out of any vehicle: new, or a swap station's stock
    ASSEMBLED = "assembled"  # inside a parent unit (cell in module, module in pack)
    INSTALLED = "installed"  # bound to a VIN, vehicle not yet sold
    IN_USE = "in_use"  # in a sold vehicle, with its owner
    IN_SCRAPPED_VEHICLE = "in_scrapped_vehicle"  # vehicle scrapped, pack still inside
    RETIRED = "retired"  # out of its vehicle for good: a waste battery
    COLLECTED = "collected"  # taken into the compliant recycling chain
    DISMANTLED = "dismantled"  # broken into parts; the rest goes to material recovery
    REPURPOSED = "repurposed"  # became (part of) a second-life product
    RECYCLED = "recycled"  # materials recovered
    DISPOSED = "disposed"  # disposed of without recovery


TERMINAL_STATES = frozenset({State.REPURPOSED, State.RECYCLED, State.DISPOSED})


@dataclass(slots=True)
class BatteryState:
    """The fold of a battery's events: what the platform knows about one unit now.

    ``holder`` is the enterprise with custody; ``None`` while the battery is with a private
    vehicle owner (``in_use``) or inside a parent unit (``assembled``; custody follows the
    parent). ``pending_to`` names the receiver of a shipment not yet received.
    """

    code: str
    level: str
    battery_type: str
    maker: str
    spec: dict[str, Any]
    state: State
    holder: str | None
    place: str | None
    produced_event: int
    last_event: int
    second_life: bool = False
    predecessors: tuple[str, ...] = ()
    parent: str | None = None
    vin: str | None = None
    pending_to: str | None = None
    pending_event: int | None = None
    soh_percent: str | None = None
    stored: bool = field(default=False, compare=False)

    @property
    def province(self) -> str | None:
        return self.place[:2] + "0000" if self.place else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "level": self.level,
            "battery_type": self.battery_type,
            "maker": self.maker,
            "state": self.state.value,
            "holder": self.holder,
            "pending_to": self.pending_to,
            "place": self.place,
            "province": self.province,
            "vin": self.vin,
            "parent": self.parent,
            "second_life": self.second_life,
            "predecessors": list(self.predecessors),
            "soh_percent": self.soh_percent,
            "spec": self.spec,
            "produced_event": self.produced_event,
            "last_event": self.last_event,
        }
