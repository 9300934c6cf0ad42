"""The store interface and the SQL both engines share.

:class:`Store` holds every query once, written with ``?`` placeholders; a subclass supplies the
connection, the placeholder style and how a write transaction takes the single-writer lock
(``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL). All writes go through
:meth:`Store.write`, a context manager yielding a :class:`WriteTransaction`: an event, the
batteries it changes (and, later, its ledger leaf) commit together or not at all.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson

from battrace.domain.entities import (
    BatteryState,
    Enterprise,
    EnterpriseKey,
    State,
    WhitelistChange,
)
from battrace.domain.quantities import CHINA_TZ
from battrace.domain.roles import Role
from battrace.store.schema import SCHEMA_VERSION, migration_statements

Row = tuple[Any, ...]

_BATTERY_COLUMNS = (
    "code, level, battery_type, maker, spec, second_life, predecessors, produced_event,"
    " state, holder, pending_to, pending_event, parent, vin, place, province, soh_percent,"
    " last_event"
)
_EVENT_COLUMNS = (
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
            salt=_bytes_or_none(row[11]),
            leaf=_bytes_or_none(row[12]),
            submitted=row[13],
        )


def _bytes_or_none(value: Any) -> bytes | None:
    # psycopg returns BYTEA as memoryview, sqlite3 BLOB as bytes
    return None if value is None else bytes(value)


def _battery_values(b: BatteryState) -> Row:
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


def _battery_from_row(row: Row) -> BatteryState:
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


def _enterprise_from_row(row: Row) -> Enterprise:
    return Enterprise(
        id=row[0],
        name=row[1],
        roles=frozenset(Role(r) for r in orjson.loads(row[2])),
        division=row[3],
        manufacturer_code=row[5],
        whitelisted=bool(row[6]),
        registered_at=datetime.fromisoformat(row[7]),
    )


_ENTERPRISE_COLUMNS = "id, name, roles, division, province, manufacturer_code, registered_at"
# whitelist status is derived from the history for the day asked, never stored: a change
# recorded today may take effect next month
_ENTERPRISE_SELECT = (
    "SELECT id, name, roles, division, province, manufacturer_code,"
    " COALESCE((SELECT w.listed FROM whitelist_changes w WHERE w.enterprise_id = enterprises.id"
    " AND w.effective_date <= ? ORDER BY w.effective_date DESC, w.id DESC LIMIT 1), 0),"
    " registered_at FROM enterprises"
)


def _today() -> str:
    return datetime.now(CHINA_TZ).date().isoformat()


class Connection(abc.ABC):
    """The few things the shared SQL needs from a database connection."""

    dialect: str

    @abc.abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    @abc.abstractmethod
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @abc.abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    @abc.abstractmethod
    def codes_clause(self, column: str, codes: Sequence[str]) -> tuple[str, list[Any]]:
        """A ``column IN (...)`` clause for a list of codes, and its parameters."""


class WriteTransaction:
    """The writes of one transaction; only :meth:`Store.write` makes one."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def next_event_id(self) -> int:
        rows = self._conn.query("SELECT COALESCE(MAX(id), 0) FROM events")
        return int(rows[0][0]) + 1

    def load_batteries(self, codes: Sequence[str]) -> dict[str, BatteryState]:
        if not codes:
            return {}
        clause, params = self._conn.codes_clause("code", codes)
        rows = self._conn.query(f"SELECT {_BATTERY_COLUMNS} FROM batteries WHERE {clause}", params)
        return {row[0]: _battery_from_row(row) for row in rows}

    def existing_refs(self, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        by_actor: dict[str, list[str]] = {}
        for actor, ref in pairs:
            by_actor.setdefault(actor, []).append(ref)
        for actor, refs in by_actor.items():
            clause, params = self._conn.codes_clause("ref", refs)
            rows = self._conn.query(
                f"SELECT ref FROM events WHERE actor = ? AND {clause}", [actor, *params]
            )
            found.update((actor, row[0]) for row in rows)
        return found

    def insert_events(self, events: Sequence[EventRow], links: Sequence[tuple[str, int]]) -> None:
        self._conn.executemany(
            f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES ({', '.join('?' * 14)})",
            [e.db_values() for e in events],
        )
        self._conn.executemany("INSERT INTO event_batteries (code, event_id) VALUES (?, ?)", links)

    def save_batteries(self, batteries: Iterable[BatteryState]) -> None:
        new: list[Row] = []
        updated: list[Row] = []
        for b in batteries:
            if b.stored:
                updated.append(
                    (
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
                        b.code,
                    )
                )
            else:
                new.append(_battery_values(b))
                b.stored = True
        if new:
            self._conn.executemany(
                f"INSERT INTO batteries ({_BATTERY_COLUMNS}) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                new,
            )
        if updated:
            self._conn.executemany(
                "UPDATE batteries SET state = ?, holder = ?, pending_to = ?, pending_event = ?,"
                " parent = ?, vin = ?, place = ?, province = ?, soh_percent = ?, last_event = ?"
                " WHERE code = ?",
                updated,
            )

    def insert_enterprise(self, e: Enterprise) -> None:
        self._conn.execute(
            f"INSERT INTO enterprises ({_ENTERPRISE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                e.id,
                e.name,
                json_text(sorted(r.value for r in e.roles)),
                e.division,
                e.province,
                e.manufacturer_code,
                e.registered_at.isoformat(),
            ),
        )

    def add_whitelist_change(self, change: WhitelistChange) -> None:
        self._conn.execute(
            "INSERT INTO whitelist_changes (enterprise_id, listed, effective_date, batch, note,"
            " recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                change.enterprise_id,
                int(change.listed),
                change.effective_date.isoformat(),
                change.batch,
                change.note,
                change.recorded_at.isoformat(),
            ),
        )

    def insert_log_nodes(self, nodes: Sequence[tuple[int, int, bytes]]) -> None:
        """Store perfect-subtree hashes ``(level, index, hash)`` of the log's Merkle tree."""
        self._conn.executemany("INSERT INTO log_nodes (level, idx, hash) VALUES (?, ?, ?)", nodes)

    def log_nodes(self, ids: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        return _log_nodes(self._conn, ids)

    def log_size(self) -> int:
        return _log_size(self._conn)

    def leaves(self, first: int, last: int) -> list[bytes]:
        return _leaves(self._conn, first, last)

    def insert_checkpoint(self, size: int, root: bytes, note: str, published_at: str) -> None:
        self._conn.execute(
            "INSERT INTO checkpoints (size, root, note, published_at) VALUES (?, ?, ?, ?)",
            (size, root, note, published_at),
        )

    def insert_key(self, key: EnterpriseKey) -> None:
        self._conn.execute(
            "INSERT INTO enterprise_keys (key_id, enterprise_id, public_key, valid_from,"
            " revoked_at, registered_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                key.key_id,
                key.enterprise_id,
                key.public_key,
                key.valid_from,
                key.revoked_at,
                key.registered_at,
            ),
        )

    def revoke_key(self, key_id: str, at: str) -> None:
        self._conn.execute(
            "UPDATE enterprise_keys SET revoked_at = ? WHERE key_id = ?", (at, key_id)
        )

    def nonce_used(self, key_id: str, nonce: bytes) -> bool:
        rows = self._conn.query(
            "SELECT 1 FROM submissions WHERE key_id = ? AND nonce = ?", (key_id, nonce)
        )
        return bool(rows)

    def insert_submission(self, s: Submission) -> None:
        self._conn.execute(
            "INSERT INTO submissions (key_id, nonce, digest, signature, first_event, events,"
            " received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (s.key_id, s.nonce, s.digest, s.signature, s.first_event, s.events, s.received_at),
        )

    def set_meta(self, key: str, value: str) -> None:
        self._conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        self._conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))


def _log_nodes(conn: Connection, ids: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    found: dict[tuple[int, int], bytes] = {}
    for level in {lvl for lvl, _ in ids}:
        wanted = [i for lvl, i in ids if lvl == level]
        marks = ", ".join("?" for _ in wanted)
        rows = conn.query(
            f"SELECT idx, hash FROM log_nodes WHERE level = ? AND idx IN ({marks})",
            [level, *wanted],
        )
        found.update(((level, int(r[0])), bytes(r[1])) for r in rows)
    return found


def _log_size(conn: Connection) -> int:
    # one leaf per event, event id = leaf index + 1; events without a leaf are not logged
    # walks the id index from the end: O(1) while every event has its leaf
    rows = conn.query("SELECT id FROM events WHERE leaf IS NOT NULL ORDER BY id DESC LIMIT 1")
    return int(rows[0][0]) if rows else 0


def _leaves(conn: Connection, first: int, last: int) -> list[bytes]:
    rows = conn.query(
        "SELECT leaf FROM events WHERE id BETWEEN ? AND ? ORDER BY id", (first + 1, last + 1)
    )
    return [bytes(r[0]) for r in rows if r[0] is not None]


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


_KEY_COLUMNS = "key_id, enterprise_id, public_key, valid_from, revoked_at, registered_at"


def _key_from_row(row: Row) -> EnterpriseKey:
    return EnterpriseKey(row[0], row[1], bytes(row[2]), row[3], row[4], row[5])


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A published, signed checkpoint as stored."""

    size: int
    root: bytes
    note: str
    published_at: str


@dataclass(frozen=True, slots=True)
class BatteryFilter:
    """Filters for :meth:`Store.list_batteries`; ``None`` means any."""

    holder: str | None = None
    state: str | None = None
    maker: str | None = None
    province: str | None = None
    after: str | None = None  # cursor: the last code of the previous page
    limit: int = 100


class Store(abc.ABC):
    """One database holding enterprises, events and the battery states they fold into."""

    dialect: str
    location: str

    @abc.abstractmethod
    def _connection(self) -> Connection: ...

    @abc.abstractmethod
    @contextmanager
    def _write_transaction(self) -> Iterator[Connection]: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema --------------------------------------------------------------------------------
    def schema_version(self) -> int:
        conn = self._connection()
        if not self._has_table("meta"):
            return 0
        rows = conn.query("SELECT value FROM meta WHERE key = 'schema_version'")
        return int(rows[0][0]) if rows else 0

    @abc.abstractmethod
    def _has_table(self, name: str) -> bool: ...

    def migrate(self) -> int:
        """Bring the schema to the newest version; returns how many migrations ran."""
        if self.schema_version() == SCHEMA_VERSION:
            return 0  # no write lock for readers of an up-to-date database
        with self._write_transaction() as conn:
            current = self.schema_version()
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for stmt in migration_statements(self.dialect, version):
                    conn.execute(stmt)
            if current < SCHEMA_VERSION:
                WriteTransaction(conn).set_meta("schema_version", str(SCHEMA_VERSION))
        return SCHEMA_VERSION - current

    @contextmanager
    def write(self) -> Iterator[WriteTransaction]:
        """One write transaction under the single-writer lock; commits on success."""
        with self._write_transaction() as conn:
            yield WriteTransaction(conn)

    # -- reads ---------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        rows = self._connection().query("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def enterprise(self, enterprise_id: str, on: date | None = None) -> Enterprise | None:
        """The enterprise, with its whitelist status on day ``on`` (default: today, in China)."""
        day = on.isoformat() if on else _today()
        rows = self._connection().query(f"{_ENTERPRISE_SELECT} WHERE id = ?", (day, enterprise_id))
        return _enterprise_from_row(rows[0]) if rows else None

    def enterprise_by_manufacturer_code(self, code: str) -> Enterprise | None:
        rows = self._connection().query(
            f"{_ENTERPRISE_SELECT} WHERE manufacturer_code = ?", (_today(), code)
        )
        return _enterprise_from_row(rows[0]) if rows else None

    def list_enterprises(
        self, role: str | None = None, province: str | None = None
    ) -> list[Enterprise]:
        sql = _ENTERPRISE_SELECT
        params: list[Any] = [_today()]
        if province is not None:
            sql += " WHERE province = ?"
            params.append(province)
        rows = self._connection().query(sql + " ORDER BY id", params)
        found = [_enterprise_from_row(r) for r in rows]
        if role is not None:
            found = [e for e in found if role in e.roles]
        return found

    def whitelist_history(self, enterprise_id: str) -> list[WhitelistChange]:
        rows = self._connection().query(
            "SELECT enterprise_id, listed, effective_date, batch, note, recorded_at"
            " FROM whitelist_changes WHERE enterprise_id = ? ORDER BY effective_date, id",
            (enterprise_id,),
        )
        return [
            WhitelistChange(
                enterprise_id=r[0],
                listed=bool(r[1]),
                effective_date=date.fromisoformat(r[2]),
                batch=r[3],
                note=r[4],
                recorded_at=datetime.fromisoformat(r[5]),
            )
            for r in rows
        ]

    def battery(self, code: str) -> BatteryState | None:
        rows = self._connection().query(
            f"SELECT {_BATTERY_COLUMNS} FROM batteries WHERE code = ?", (code,)
        )
        return _battery_from_row(rows[0]) if rows else None

    def children(self, code: str) -> list[str]:
        rows = self._connection().query(
            "SELECT code FROM batteries WHERE parent = ? ORDER BY code", (code,)
        )
        return [r[0] for r in rows]

    def successors(self, code: str) -> list[str]:
        """Second-life products made from ``code`` (found through its repurposed event)."""
        rows = self._connection().query(
            "SELECT e.body FROM event_batteries l JOIN events e ON e.id = l.event_id"
            " WHERE l.code = ? AND e.type = 'repurposed' ORDER BY e.id",
            (code,),
        )
        out = []
        for (body,) in rows:
            product = orjson.loads(body).get("product")
            if product and product != code:
                out.append(product)
        return out

    def history(self, code: str) -> list[EventRow]:
        rows = self._connection().query(
            f"SELECT {', '.join('e.' + c.strip() for c in _EVENT_COLUMNS.split(','))}"
            " FROM event_batteries l JOIN events e ON e.id = l.event_id"
            " WHERE l.code = ? ORDER BY l.event_id",
            (code,),
        )
        return [EventRow.from_db(r) for r in rows]

    def event(self, event_id: int) -> EventRow | None:
        rows = self._connection().query(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE id = ?", (event_id,)
        )
        return EventRow.from_db(rows[0]) if rows else None

    def event_by_ref(self, actor: str, ref: str) -> EventRow | None:
        rows = self._connection().query(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE actor = ? AND ref = ?", (actor, ref)
        )
        return EventRow.from_db(rows[0]) if rows else None

    def corrections_of(self, event_ids: Sequence[int]) -> list[EventRow]:
        if not event_ids:
            return []
        marks = ", ".join("?" for _ in event_ids)
        rows = self._connection().query(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE corrects IN ({marks}) ORDER BY id",
            list(event_ids),
        )
        return [EventRow.from_db(r) for r in rows]

    def count(self, table: str) -> int:
        if table not in ("events", "batteries", "enterprises", "event_batteries"):
            raise ValueError(f"unknown table {table}")
        return int(self._connection().query(f"SELECT COUNT(*) FROM {table}")[0][0])

    def list_batteries(self, f: BatteryFilter) -> list[BatteryState]:
        where: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("holder", f.holder),
            ("state", f.state),
            ("maker", f.maker),
            ("province", f.province),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if f.after is not None:
            where.append("code > ?")
            params.append(f.after)
        sql = f"SELECT {_BATTERY_COLUMNS} FROM batteries"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY code LIMIT ?"
        params.append(f.limit)
        return [_battery_from_row(r) for r in self._connection().query(sql, params)]

    def pending_shipments(self, receiver: str) -> list[tuple[BatteryState, EventRow]]:
        rows = self._connection().query(
            f"SELECT {', '.join('b.' + c.strip() for c in _BATTERY_COLUMNS.split(','))},"
            f" {', '.join('e.' + c.strip() for c in _EVENT_COLUMNS.split(','))}"
            " FROM batteries b JOIN events e ON e.id = b.pending_event"
            " WHERE b.pending_to = ? ORDER BY b.pending_event, b.code",
            (receiver,),
        )
        width = len(_BATTERY_COLUMNS.split(","))
        return [(_battery_from_row(r[:width]), EventRow.from_db(r[width:])) for r in rows]

    # -- enterprise keys and signed submissions ------------------------------------------------
    def key(self, key_id: str) -> EnterpriseKey | None:
        rows = self._connection().query(
            f"SELECT {_KEY_COLUMNS} FROM enterprise_keys WHERE key_id = ?", (key_id,)
        )
        return _key_from_row(rows[0]) if rows else None

    def keys_of(self, enterprise_id: str) -> list[EnterpriseKey]:
        rows = self._connection().query(
            f"SELECT {_KEY_COLUMNS} FROM enterprise_keys WHERE enterprise_id = ?"
            " ORDER BY valid_from, key_id",
            (enterprise_id,),
        )
        return [_key_from_row(r) for r in rows]

    def submissions(self) -> Iterator[Submission]:
        rows = self._connection().query(
            "SELECT key_id, nonce, digest, signature, first_event, events, received_at"
            " FROM submissions ORDER BY first_event"
        )
        for r in rows:
            yield Submission(
                r[0], bytes(r[1]), bytes(r[2]), bytes(r[3]), int(r[4]), int(r[5]), r[6]
            )

    def submitted_texts(self, first_id: int, count: int) -> list[tuple[int, str | None]]:
        rows = self._connection().query(
            "SELECT id, submitted FROM events WHERE id BETWEEN ? AND ? ORDER BY id",
            (first_id, first_id + count - 1),
        )
        return [(int(r[0]), r[1]) for r in rows]

    # -- the log ------------------------------------------------------------------------------
    def log_size(self) -> int:
        """Leaves in the log (the number of logged events)."""
        return _log_size(self._connection())

    def log_nodes(self, ids: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Stored perfect-subtree hashes for ``(level, index)`` ids; missing ids are absent."""
        return _log_nodes(self._connection(), ids)

    def leaves(self, first: int, last: int) -> list[bytes]:
        """The leaf bytes of leaves ``first..last`` (inclusive), in order."""
        return _leaves(self._connection(), first, last)

    def log_node_range(self, level: int, first: int, last: int) -> dict[int, bytes]:
        """Stored hashes of level ``level`` with index in ``first..last``."""
        rows = self._connection().query(
            "SELECT idx, hash FROM log_nodes WHERE level = ? AND idx BETWEEN ? AND ?",
            (level, first, last),
        )
        return {int(r[0]): bytes(r[1]) for r in rows}

    def checkpoints(self) -> list[Checkpoint]:
        rows = self._connection().query(
            "SELECT size, root, note, published_at FROM checkpoints ORDER BY size"
        )
        return [Checkpoint(int(r[0]), bytes(r[1]), r[2], r[3]) for r in rows]

    def latest_checkpoint(self) -> Checkpoint | None:
        rows = self._connection().query(
            "SELECT size, root, note, published_at FROM checkpoints ORDER BY size DESC LIMIT 1"
        )
        return (
            Checkpoint(int(rows[0][0]), bytes(rows[0][1]), rows[0][2], rows[0][3]) if rows else None
        )

    def iter_event_records(
        self, after_id: int = 0, chunk: int = 20_000, until_id: int | None = None
    ) -> Iterator[Row]:
        """Raw event rows (columns as :data:`_EVENT_COLUMNS`, JSON left as text), id order,
        ids in ``after_id + 1 .. until_id``.

        For the auditor: it re-encodes events from the stored text without decoding it.
        """
        last = after_id
        end = until_id if until_id is not None else 2**63 - 1
        while True:
            rows = self._connection().query(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
                (last, end, chunk),
            )
            if not rows:
                return
            yield from rows
            last = int(rows[-1][0])

    def max_event_id(self) -> int:
        return int(self._connection().query("SELECT COALESCE(MAX(id), 0) FROM events")[0][0])

    def iter_events(self, after_id: int = 0, chunk: int = 10_000) -> Iterator[EventRow]:
        """Every event in id order, read in chunks so memory stays bounded."""
        last = after_id
        while True:
            rows = self._connection().query(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE id > ? ORDER BY id LIMIT ?",
                (last, chunk),
            )
            if not rows:
                return
            for row in rows:
                yield EventRow.from_db(row)
            last = int(rows[-1][0])
