"""The store interface and the SQL both engines share.

:class:`Store` holds every query once, written with ``?`` placeholders; a subclass supplies the
connection, the placeholder style and how a write transaction takes the single-writer lock
(``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL). All writes go through
:meth:`Store.write`, a context manager yielding a :class:`WriteTransaction`: an event, the
batteries it changes and its log leaf commit together or not at all. Row mapping is in
:mod:`battrace.store.rows`, the writes in :mod:`battrace.store.writes`.
"""

from __future__ import annotations

import abc
import logging
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from battrace.codes.battery import next_code_prefix
from battrace.domain.entities import (
    ApiToken,
    BatteryState,
    Enterprise,
    EnterpriseKey,
    WhitelistChange,
)
from battrace.store.connection import Connection
from battrace.store.rows import (
    ALERT_COLUMNS,
    ALERT_HISTORY_COLUMNS,
    BATTERY_COLUMNS,
    ENTERPRISE_SELECT,
    EVENT_COLUMNS,
    KEY_COLUMNS,
    REJECTION_COLUMNS,
    TOKEN_COLUMNS,
    Checkpoint,
    EventRow,
    RejectionRow,
    Row,
    Submission,
    battery_from_row,
    enterprise_from_row,
    key_from_row,
    rejection_from_row,
    today_in_china,
    token_from_row,
)
from battrace.store.schema import SCHEMA_VERSION, migration_statements
from battrace.store.writes import WriteTransaction, read_leaves, read_log_nodes, read_log_size

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BatteryFilter:
    """Filters for :meth:`Store.list_batteries`; ``None`` means any."""

    holder: str | None = None
    state: str | None = None
    maker: str | None = None
    province: str | None = None
    # batteries this enterprise made, holds, is sent, or reported (or was named in) an event on
    party: str | None = None
    after: str | None = None  # cursor: the last code of the previous page
    limit: int = 100


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Filters for :meth:`Store.list_alerts`; ``None`` means any. Values are as stored
    (``province`` a province code such as ``350000``)."""

    rule: str | None = None
    status: str | None = None
    severity: str | None = None
    battery: str | None = None
    enterprise: str | None = None
    province: str | None = None
    after: str | None = None  # cursor: the last id of the previous page
    limit: int = 100


ALERT_GROUPS = ("rule", "severity", "status", "province")


class Store(abc.ABC):
    """One database holding enterprises, events and the battery states they fold into."""

    dialect: str
    location: str
    # the write transaction open on this store, and the thread that opened it (see write())
    _open_tx: WriteTransaction | None = None
    _tx_thread: int | None = None
    _tx_depth: int = 0
    # refused reports recorded while a write was open, written once it has ended
    _deferred_rejections: list[RejectionRow] | None = None

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
        """One write transaction under the single-writer lock; commits on success.

        A write opened by a thread that already has one open on this store joins it as a
        savepoint: an error undoes only the inner write's work, and its success commits with
        the outer transaction. (The API wraps a service's write and the record of its answer
        to an idempotency key in one transaction this way.)
        """
        me = threading.get_ident()
        outer = self._open_tx
        if outer is not None and self._tx_thread == me:
            self._tx_depth += 1
            try:
                with outer.savepoint(f"battrace_nested_{self._tx_depth}"):
                    yield outer
            finally:
                self._tx_depth -= 1
            return
        try:
            with self._write_transaction() as conn:
                tx = WriteTransaction(conn)
                self._open_tx, self._tx_thread = tx, me
                try:
                    yield tx
                finally:
                    self._open_tx, self._tx_thread = None, None
        finally:
            if self._deferred_rejections is not None:
                self._write_deferred_rejections()

    # -- refused reports -----------------------------------------------------------------------
    def record_rejection(self, rejection: RejectionRow) -> None:
        """Record a refused report in its own short write transaction.

        Called inside a write of this thread (a report refused in a savepoint of the API's
        request transaction, or of a group commit), it is written right after that
        transaction ends, whether it commits or rolls back: a refusal is a fact even when the
        request that carried it writes nothing. Recording is best effort: a failure is logged
        and never changes the answer to the report.
        """
        if self._open_tx is not None and self._tx_thread == threading.get_ident():
            if self._deferred_rejections is None:
                self._deferred_rejections = []
            self._deferred_rejections.append(rejection)
            return
        self._write_rejections([rejection])

    def _write_deferred_rejections(self) -> None:
        pending = self._deferred_rejections or []
        self._deferred_rejections = None
        if pending:
            self._write_rejections(pending)

    def _write_rejections(self, rows: list[RejectionRow]) -> None:
        try:
            with self.write() as tx:
                tx.insert_rejections(rows)
        except Exception:  # best effort: the refusal itself has been answered
            LOGGER.exception("recording %d refused report(s) failed", len(rows))

    def rejections(
        self,
        rules: Collection[str] | None = None,
        after_id: int = 0,
        limit: int | None = None,
    ) -> list[RejectionRow]:
        """Refused reports with id above ``after_id`` (of ``rules`` if given), by id."""
        sql = f"SELECT {REJECTION_COLUMNS} FROM rejections WHERE id > ?"
        params: list[Any] = [after_id]
        if rules is not None:
            clause, extra = self._connection().codes_clause("rule", list(rules))
            sql += f" AND {clause}"
            params.extend(extra)
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [rejection_from_row(r) for r in self._connection().query(sql, params)]

    # -- alerts (mapped to objects by battrace.supervision.alerts) -----------------------------
    def alert(self, alert_id: str) -> Row | None:
        """The alert's row (columns as :data:`~battrace.store.rows.ALERT_COLUMNS`)."""
        rows = self._connection().query(
            f"SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)
        )
        return rows[0] if rows else None

    def alert_history(self, alert_id: str) -> list[Row]:
        """Its changes of status, oldest first (columns as ``ALERT_HISTORY_COLUMNS``)."""
        return self._connection().query(
            f"SELECT {ALERT_HISTORY_COLUMNS} FROM alert_history WHERE alert_id = ? ORDER BY id",
            (alert_id,),
        )

    def _alert_where(self, values: Sequence[tuple[str, str | None]]) -> tuple[str, list[Any]]:
        where = [f"{column} = ?" for column, value in values if value is not None]
        params: list[Any] = [value for _, value in values if value is not None]
        return (" WHERE " + " AND ".join(where) if where else ""), params

    def list_alerts(self, f: AlertFilter) -> list[Row]:
        """A page of alerts matching every filter given, by id."""
        sql, params = self._alert_where(
            (
                ("rule", f.rule),
                ("status", f.status),
                ("severity", f.severity),
                ("battery", f.battery),
                ("enterprise", f.enterprise),
                ("province", f.province),
            )
        )
        if f.after is not None:
            sql += (" AND" if sql else " WHERE") + " id > ?"
            params.append(f.after)
        params.append(f.limit)
        return self._connection().query(
            f"SELECT {ALERT_COLUMNS} FROM alerts{sql} ORDER BY id LIMIT ?", params
        )

    def count_alerts(
        self, group_by: str, status: str | None = None, province: str | None = None
    ) -> list[tuple[str | None, int]]:
        """``(value, count)`` of alerts per value of ``group_by`` (one of
        :data:`ALERT_GROUPS`), of ``status`` and ``province`` if given."""
        if group_by not in ALERT_GROUPS:
            raise ValueError(f"cannot group alerts by {group_by}")
        where, params = self._alert_where((("status", status), ("province", province)))
        rows = self._connection().query(
            f"SELECT {group_by}, COUNT(*) FROM alerts{where} GROUP BY {group_by}"
            f" ORDER BY {group_by}",
            params,
        )
        return [(r[0], int(r[1])) for r in rows]

    # -- reads ---------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        rows = self._connection().query("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def enterprise(self, enterprise_id: str, on: date | None = None) -> Enterprise | None:
        """The enterprise, with its whitelist status on day ``on`` (default: today, in China)."""
        day = on.isoformat() if on else today_in_china()
        rows = self._connection().query(f"{ENTERPRISE_SELECT} WHERE id = ?", (day, enterprise_id))
        return enterprise_from_row(rows[0]) if rows else None

    def enterprise_by_manufacturer_code(self, code: str) -> Enterprise | None:
        rows = self._connection().query(
            f"{ENTERPRISE_SELECT} WHERE manufacturer_code = ?", (today_in_china(), code)
        )
        return enterprise_from_row(rows[0]) if rows else None

    def list_enterprises(
        self, role: str | None = None, province: str | None = None
    ) -> list[Enterprise]:
        sql = ENTERPRISE_SELECT
        params: list[Any] = [today_in_china()]
        if province is not None:
            sql += " WHERE province = ?"
            params.append(province)
        rows = self._connection().query(sql + " ORDER BY id", params)
        found = [enterprise_from_row(r) for r in rows]
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
            f"SELECT {BATTERY_COLUMNS} FROM batteries WHERE code = ?", (code,)
        )
        return battery_from_row(rows[0]) if rows else None

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
            f"SELECT {', '.join('e.' + c.strip() for c in EVENT_COLUMNS.split(','))}"
            " FROM event_batteries l JOIN events e ON e.id = l.event_id"
            " WHERE l.code = ? ORDER BY l.event_id",
            (code,),
        )
        return [EventRow.from_db(r) for r in rows]

    def event(self, event_id: int) -> EventRow | None:
        rows = self._connection().query(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE id = ?", (event_id,)
        )
        return EventRow.from_db(rows[0]) if rows else None

    def event_by_ref(self, actor: str, ref: str) -> EventRow | None:
        rows = self._connection().query(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE actor = ? AND ref = ?", (actor, ref)
        )
        return EventRow.from_db(rows[0]) if rows else None

    def corrections_of(self, event_ids: Sequence[int]) -> list[EventRow]:
        if not event_ids:
            return []
        marks = ", ".join("?" for _ in event_ids)
        rows = self._connection().query(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE corrects IN ({marks}) ORDER BY id",
            list(event_ids),
        )
        return [EventRow.from_db(r) for r in rows]

    def count(self, table: str) -> int:
        if table not in ("events", "batteries", "enterprises", "event_batteries"):
            raise ValueError(f"unknown table {table}")
        return int(self._connection().query(f"SELECT COUNT(*) FROM {table}")[0][0])

    def list_batteries(self, f: BatteryFilter) -> list[BatteryState]:
        columns = ", ".join("b." + c.strip() for c in BATTERY_COLUMNS.split(","))
        if f.party is None:
            where, params = self._battery_conditions(f, "b.code")
            return self._battery_page(f"SELECT {columns} FROM batteries b", where, params, f)
        # the batteries of the events it was party to (battery_parties, schema migration 7: in
        # code order per enterprise), and those it holds without one (a pack swapped in keeps
        # the holder of the pack it replaces): two ranges of an index, merged in code order
        where, params = self._battery_conditions(f, "p.code")
        parties = self._battery_page(
            f"SELECT {columns} FROM battery_parties p JOIN batteries b ON b.code = p.code",
            ["p.party = ?", *where],
            [f.party, *params],
            f,
            order="p.code",
        )
        where, params = self._battery_conditions(f, "b.code")
        held = self._battery_page(
            f"SELECT {columns} FROM batteries b", ["b.holder = ?", *where], [f.party, *params], f
        )
        merged = {b.code: b for b in (*parties, *held)}
        return [merged[code] for code in sorted(merged)[: f.limit]]

    def _battery_conditions(self, f: BatteryFilter, code: str) -> tuple[list[str], list[Any]]:
        """The filters of ``f`` but its party, ``code`` naming the column to range over (the
        one whose index gives the order)."""
        where: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("b.holder", f.holder),
            ("b.state", f.state),
            ("b.province", f.province),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if f.maker is not None:
            # a maker's batteries carry its manufacturer code (positions 1-3): a range of the
            # primary key, in code order (schema.py, migration 6); the column check stays
            maker = self.enterprise(f.maker)
            prefix = maker.manufacturer_code if maker is not None else None
            if prefix is None:
                where.append("1 = 0")  # not a maker: it registered no battery
            else:
                where.append(f"{code} >= ?")
                params.append(prefix)
                following = next_code_prefix(prefix)
                if following is not None:
                    where.append(f"{code} < ?")
                    params.append(following)
                where.append("b.maker = ?")
                params.append(f.maker)
        if f.after is not None:
            where.append(f"{code} > ?")
            params.append(f.after)
        return where, params

    def _battery_page(
        self,
        select: str,
        where: list[str],
        params: list[Any],
        f: BatteryFilter,
        order: str = "b.code",
    ) -> list[BatteryState]:
        sql = select
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order} LIMIT ?"
        return [battery_from_row(r) for r in self._connection().query(sql, [*params, f.limit])]

    def readable_batteries(self, party: str, cap: int) -> list[str] | None:
        """The codes of the batteries enterprise ``party`` may read (party to one of their
        events, their holder, or the holder of a unit they are assembled into, at any depth),
        in no order; None when there are more than ``cap`` (the caller then scans)."""
        conn = self._connection()
        found = {
            r[0]
            for r in conn.query(
                "SELECT code FROM battery_parties WHERE party = ? LIMIT ?", (party, cap + 1)
            )
        }
        frontier = [
            r[0]
            for r in conn.query(
                "SELECT code FROM batteries WHERE holder = ? LIMIT ?", (party, cap + 1)
            )
        ]
        while frontier and len(found) <= cap:
            found.update(frontier)
            # assembled units have no holder of their own: their outer unit's is theirs
            clause, params = conn.codes_clause("parent", frontier)
            frontier = [
                r[0]
                for r in conn.query(
                    f"SELECT code FROM batteries WHERE {clause} LIMIT ?", [*params, cap + 1]
                )
                if r[0] not in found
            ]
        return sorted(found) if len(found) <= cap else None

    def reader_events(
        self, codes: Sequence[str], party: str, after_id: int, limit: int
    ) -> list[EventRow]:
        """The events after ``after_id`` that touch any of ``codes`` or that ``party``
        reported or received without a battery, in id order, ``limit`` at most."""
        conn = self._connection()
        clause, params = conn.codes_clause("code", codes or [""])
        rows = conn.query(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE id IN ("
            f"SELECT event_id FROM event_batteries WHERE {clause} AND event_id > ?"
            " UNION SELECT id FROM events WHERE batteries = '[]' AND actor = ? AND id > ?"
            " UNION SELECT id FROM events WHERE batteries = '[]' AND counterparty = ?"
            " AND id > ? ORDER BY 1 LIMIT ?) ORDER BY id",
            [*params, after_id, party, after_id, party, after_id, limit],
        )
        return [EventRow.from_db(r) for r in rows]

    def pending_shipments(self, receiver: str) -> list[tuple[BatteryState, EventRow]]:
        rows = self._connection().query(
            f"SELECT {', '.join('b.' + c.strip() for c in BATTERY_COLUMNS.split(','))},"
            f" {', '.join('e.' + c.strip() for c in EVENT_COLUMNS.split(','))}"
            " FROM batteries b JOIN events e ON e.id = b.pending_event"
            " WHERE b.pending_to = ? ORDER BY b.pending_event, b.code",
            (receiver,),
        )
        width = len(BATTERY_COLUMNS.split(","))
        return [(battery_from_row(r[:width]), EventRow.from_db(r[width:])) for r in rows]

    # -- enterprise keys and signed submissions ------------------------------------------------
    def key(self, key_id: str) -> EnterpriseKey | None:
        rows = self._connection().query(
            f"SELECT {KEY_COLUMNS} FROM enterprise_keys WHERE key_id = ?", (key_id,)
        )
        return key_from_row(rows[0]) if rows else None

    def keys_of(self, enterprise_id: str) -> list[EnterpriseKey]:
        rows = self._connection().query(
            f"SELECT {KEY_COLUMNS} FROM enterprise_keys WHERE enterprise_id = ?"
            " ORDER BY valid_from, key_id",
            (enterprise_id,),
        )
        return [key_from_row(r) for r in rows]

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

    # -- HTTP API tokens -------------------------------------------------------------------------
    def api_token(self, token_id: str) -> ApiToken | None:
        rows = self._connection().query(
            f"SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_id = ?", (token_id,)
        )
        return token_from_row(rows[0]) if rows else None

    def registry_version(self) -> tuple[int, int, int]:
        """What changes when an enterprise's whitelist status or signing keys may have:
        (last whitelist change, keys registered, keys revoked). Whitelist changes and keys
        are only ever added, and a key is revoked once."""
        rows = self._connection().query(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM whitelist_changes),"
            " (SELECT COUNT(*) FROM enterprise_keys),"
            " (SELECT COUNT(revoked_at) FROM enterprise_keys)"
        )
        last, keys, revoked = rows[0]
        return int(last), int(keys), int(revoked)

    def revoked_token_count(self) -> int:
        """How many tokens were ever revoked."""
        rows = self._connection().query(
            "SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NOT NULL"
        )
        return int(rows[0][0])

    def api_tokens(self, enterprise_id: str | None = None) -> list[ApiToken]:
        """Tokens of one enterprise (or all), oldest first."""
        sql = f"SELECT {TOKEN_COLUMNS} FROM api_tokens"
        params: list[Any] = []
        if enterprise_id is not None:
            sql += " WHERE enterprise_id = ?"
            params.append(enterprise_id)
        rows = self._connection().query(sql + " ORDER BY created_at, token_id", params)
        return [token_from_row(r) for r in rows]

    # -- the log ------------------------------------------------------------------------------
    def log_size(self) -> int:
        """Leaves in the log (the number of logged events)."""
        return read_log_size(self._connection())

    def log_nodes(self, ids: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Stored perfect-subtree hashes for ``(level, index)`` ids; missing ids are absent."""
        return read_log_nodes(self._connection(), ids)

    def leaves(self, first: int, last: int) -> list[bytes]:
        """The leaf bytes of leaves ``first..last`` (inclusive), in order."""
        return read_leaves(self._connection(), first, last)

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
        """Raw event rows (columns as :data:`EVENT_COLUMNS`, JSON left as text), id order,
        ids in ``after_id + 1 .. until_id``.

        For the auditor: it re-encodes events from the stored text without decoding it.
        """
        last = after_id
        end = until_id if until_id is not None else 2**63 - 1
        while True:
            rows = self._connection().query(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
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
                f"SELECT {EVENT_COLUMNS} FROM events WHERE id > ? ORDER BY id LIMIT ?",
                (last, chunk),
            )
            if not rows:
                return
            for row in rows:
                yield EventRow.from_db(row)
            last = int(rows[-1][0])
