"""Rows as stored: the event row, column lists, and the mapping of rows to domain objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from battrace.domain.entities import ApiToken, BatteryState, Enterprise, EnterpriseKey, State
from battrace.domain.quantities import CHINA_TZ
from battrace.domain.roles import Role

Row = tuple[Any, ...]

BATTERY_COLUMNS = (
    "code, level, battery_type, maker, spec, second_life, predecessors, produced_event,"
    " state, holder, pending_to, pending_event, parent, vin, place, province, soh_percent,"
    " last_event"
)
EVENT_COLUMNS = (
    "id, type, actor, counterparty, occurred_at, reported_at, place, ref, corrects, batteries,"
    " body, salt, leaf, submitted"
)


def db_time(value: datetime) -> str:
    """Fixed-width UTC text that sorts as time: ``2024-05-01T02:00:00.000000Z``."""
    # isoformat is several times faster than strftime on the bulk-import path
    return value.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def json_text(value: Any) -> str:
    """Canonical JSON text (sorted keys, UTF-8, no spaces)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


@dataclass(slots=True)  # not frozen: frozen dataclasses are slow to build in bulk
class EventRow:
    """An accepted event as stored; ``batteries`` and ``body`` are decoded JSON."""

    id: int
    type: str
    actor: str
    counterparty: str | None
    occurred_at: str
    reported_at: str
    place: str | None
    ref: str | None
    corrects: int | None
    batteries: list[str]
    body: dict[str, Any]
    salt: bytes | None = None  # secret: never in to_dict
    leaf: bytes | None = None
    submitted: str | None = None  # canonical JSON as the enterprise signed it, if signed
    # canonical JSON of batteries and body, when already made (the write path makes it once)
    batteries_json: str | None = None
    body_json: str | None = None
    signed_by: tuple[str, bytes] | None = None  # (key id, signature) of a signed submission

    def json_texts(self) -> tuple[str, str]:
        """Canonical JSON text of ``batteries`` and ``body`` (made once, then kept)."""
        if self.batteries_json is None:
            self.batteries_json = json_text(self.batteries)
        if self.body_json is None:
            self.body_json = json_text(self.body)
        return self.batteries_json, self.body_json

    def to_dict(self) -> dict[str, Any]:
        """The event as readers see it (without its secret salt)."""
        return {
            "id": self.id,
            "type": self.type,
            "batteries": self.batteries,
            "actor": self.actor,
            "counterparty": self.counterparty,
            "occurred_at": self.occurred_at,
            "reported_at": self.reported_at,
            "place": self.place,
            "ref": self.ref,
            "corrects": self.corrects,
            "body": self.body,
        }

    def db_values(self) -> Row:
        batteries_json, body_json = self.json_texts()
        return (
            self.id,
            self.type,
            self.actor,
            self.counterparty,
            self.occurred_at,
            self.reported_at,
            self.place,
            self.ref,
            self.corrects,
            batteries_json,
            body_json,
            self.salt,
            self.leaf,
            self.submitted,
        )

    @classmethod
    def from_db(cls, row: Row) -> EventRow:
        return cls(
            id=int(row[0]),
            type=row[1],
            actor=row[2],
            counterparty=row[3],
            occurred_at=row[4],
            reported_at=row[5],
            place=row[6],
            ref=row[7],
            corrects=row[8],
            batteries=orjson.loads(row[9]),
            body=orjson.loads(row[10]),
            salt=bytes_or_none(row[11]),
            leaf=bytes_or_none(row[12]),
            submitted=row[13],
        )


def bytes_or_none(value: Any) -> bytes | None:
    # psycopg returns BYTEA as memoryview, sqlite3 BLOB as bytes
    return None if value is None else bytes(value)


def battery_values(b: BatteryState) -> Row:
    return (
        b.code,
        b.level,
        b.battery_type,
        b.maker,
        json_text(b.spec),
        int(b.second_life),
        json_text(list(b.predecessors)),
        b.produced_event,
        b.state.value,
        b.holder,
        b.pending_to,
        b.pending_event,
        b.parent,
        b.vin,
        b.place,
        b.province,
        b.soh_percent,
        b.last_event,
    )


def battery_from_row(row: Row) -> BatteryState:
    return BatteryState(
        code=row[0],
        level=row[1],
        battery_type=row[2],
        maker=row[3],
        spec=orjson.loads(row[4]),
        second_life=bool(row[5]),
        predecessors=tuple(orjson.loads(row[6])),
        produced_event=int(row[7]),
        state=State(row[8]),
        holder=row[9],
        pending_to=row[10],
        pending_event=row[11],
        parent=row[12],
        vin=row[13],
        place=row[14],
        soh_percent=row[16],
        last_event=int(row[17]),
        stored=True,
    )


def enterprise_from_row(row: Row) -> Enterprise:
    return Enterprise(
        id=row[0],
        name=row[1],
        roles=frozenset(Role(r) for r in orjson.loads(row[2])),
        division=row[3],
        manufacturer_code=row[5],
        whitelisted=bool(row[6]),
        registered_at=datetime.fromisoformat(row[7]),
    )


ENTERPRISE_COLUMNS = "id, name, roles, division, province, manufacturer_code, registered_at"
# whitelist status is derived from the history for the day asked, never stored: a change
# recorded today may take effect next month
ENTERPRISE_SELECT = (
    "SELECT id, name, roles, division, province, manufacturer_code,"
    " COALESCE((SELECT w.listed FROM whitelist_changes w WHERE w.enterprise_id = enterprises.id"
    " AND w.effective_date <= ? ORDER BY w.effective_date DESC, w.id DESC LIMIT 1), 0),"
    " registered_at FROM enterprises"
)


def today_in_china() -> str:
    return datetime.now(CHINA_TZ).date().isoformat()


@dataclass(frozen=True, slots=True)
class Submission:
    """A signed submission as stored: which key signed which run of events."""

    key_id: str
    nonce: bytes
    digest: bytes
    signature: bytes
    first_event: int
    events: int
    received_at: str


KEY_COLUMNS = "key_id, enterprise_id, public_key, valid_from, revoked_at, registered_at"


def key_from_row(row: Row) -> EnterpriseKey:
    return EnterpriseKey(row[0], row[1], bytes(row[2]), row[3], row[4], row[5])


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A published, signed checkpoint as stored."""

    size: int
    root: bytes
    note: str
    published_at: str


TOKEN_COLUMNS = "token_id, enterprise_id, token_hash, label, created_at, expires_at, revoked_at"


def token_from_row(row: Row) -> ApiToken:
    return ApiToken(row[0], row[1], bytes(row[2]), row[3], row[4], row[5], row[6])


@dataclass(frozen=True, slots=True)
class IdempotentAnswer:
    """The first answer to a write sent with an ``Idempotency-Key``, kept to replay it."""

    enterprise_id: str
    key: str
    request_hash: bytes
    status: int
    response: bytes
    created_at: str


@dataclass(frozen=True, slots=True)
class RejectionRow:
    """A report the platform refused for a state, custody or identity rule, as stored.

    ``id`` is given by the store (0 on a row not yet written); ``event`` is the canonical
    JSON of the event as sent, when it was sent as JSON.
    """

    id: int
    received_at: str
    actor: str | None
    type: str | None
    batteries: tuple[str, ...]
    occurred_at: str | None
    rule: str
    field: str | None
    message: str
    event: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "received_at": self.received_at,
            "actor": self.actor,
            "type": self.type,
            "batteries": list(self.batteries),
            "occurred_at": self.occurred_at,
            "rule": self.rule,
            "field": self.field,
            "message": self.message,
            "event": orjson.loads(self.event) if self.event is not None else None,
        }

    def db_values(self) -> Row:
        return (
            self.received_at,
            self.actor,
            self.type,
            json_text(list(self.batteries)),
            self.occurred_at,
            self.rule,
            self.field,
            self.message,
            self.event,
        )


REJECTION_COLUMNS = (
    "id, received_at, actor, type, batteries, occurred_at, rule, field, message, event"
)


def rejection_from_row(row: Row) -> RejectionRow:
    return RejectionRow(
        id=int(row[0]),
        received_at=row[1],
        actor=row[2],
        type=row[3],
        batteries=tuple(orjson.loads(row[4])),
        occurred_at=row[5],
        rule=row[6],
        field=row[7],
        message=row[8],
        event=row[9],
    )


# alerts are mapped to objects by battrace.supervision.alerts (the store does not depend on
# supervision); rows come in this column order
ALERT_COLUMNS = (
    "id, rule, severity, status, battery, enterprise, province, subject, evidence, detail, day,"
    " first_seen, last_seen, found, acknowledged_by, acknowledged_at, resolved_by, resolved_at,"
    " comment"
)
ALERT_HISTORY_COLUMNS = "id, alert_id, at, status, by_whom, comment"
