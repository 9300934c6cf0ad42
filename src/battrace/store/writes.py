"""Writes: everything one write transaction may do, under the single-writer lock."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

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
    BATTERY_COLUMNS,
    ENTERPRISE_COLUMNS,
    EVENT_COLUMNS,
    TOKEN_COLUMNS,
    EventRow,
    IdempotentAnswer,
    RejectionRow,
    Row,
    Submission,
    battery_from_row,
    battery_values,
    json_text,
)


class WriteTransaction:
    """The writes of one transaction; only :meth:`Store.write` makes one."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @contextmanager
    def savepoint(self, name: str) -> Iterator[None]:
        """A nested unit inside this transaction: on an error only its own writes are undone
        (and the error goes on); on success they commit with the transaction."""
        self._conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self._conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        self._conn.execute(f"RELEASE SAVEPOINT {name}")

    def next_event_id(self) -> int:
        rows = self._conn.query("SELECT COALESCE(MAX(id), 0) FROM events")
        return int(rows[0][0]) + 1

    def load_batteries(self, codes: Sequence[str]) -> dict[str, BatteryState]:
        if not codes:
            return {}
        clause, params = self._conn.codes_clause("code", codes)
        rows = self._conn.query(f"SELECT {BATTERY_COLUMNS} FROM batteries WHERE {clause}", params)
        return {row[0]: battery_from_row(row) for row in rows}

    def existing_refs(self, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which ``(actor, ref)`` pairs are already taken: one indexed query for them all."""
        if not pairs:
            return set()
        clause, params = self._conn.pairs_clause(("actor", "ref"), pairs)
        rows = self._conn.query(
            f"SELECT actor, ref FROM events WHERE ref IS NOT NULL AND {clause}", params
        )
        return {(row[0], row[1]) for row in rows}

    def insert_events(self, events: Sequence[EventRow], links: Sequence[tuple[str, int]]) -> None:
        self._conn.executemany(
            f"INSERT INTO events ({EVENT_COLUMNS}) VALUES ({', '.join('?' * 14)})",
            [e.db_values() for e in events],
        )
        self._conn.executemany("INSERT INTO event_batteries (code, event_id) VALUES (?, ?)", links)
        self._conn.executemany(
            "INSERT INTO battery_parties (party, code) VALUES (?, ?) ON CONFLICT DO NOTHING",
            party_pairs(events, links),
        )

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
                new.append(battery_values(b))
                b.stored = True
        if new:
            self._conn.executemany(
                f"INSERT INTO batteries ({BATTERY_COLUMNS}) VALUES"
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
            f"INSERT INTO enterprises ({ENTERPRISE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
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
        return read_log_nodes(self._conn, ids)

    def log_size(self) -> int:
        return read_log_size(self._conn)

    def leaves(self, first: int, last: int) -> list[bytes]:
        return read_leaves(self._conn, first, last)

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

    def insert_api_token(self, token: ApiToken) -> None:
        self._conn.execute(
            f"INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                token.token_id,
                token.enterprise_id,
                token.token_hash,
                token.label,
                token.created_at,
                token.expires_at,
                token.revoked_at,
            ),
        )

    def revoke_api_token(self, token_id: str, at: str) -> None:
        self._conn.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE token_id = ?", (at, token_id)
        )

    def idempotent_answer(self, enterprise_id: str, key: str) -> IdempotentAnswer | None:
        """The answer kept for ``key`` of ``enterprise_id``; read inside the write transaction
        so that two retries of one request are serialised by the writer lock."""
        rows = self._conn.query(
            "SELECT request_hash, status, response, created_at FROM idempotency_keys"
            " WHERE enterprise_id = ? AND key = ?",
            (enterprise_id, key),
        )
        if not rows:
            return None
        r = rows[0]
        return IdempotentAnswer(enterprise_id, key, bytes(r[0]), int(r[1]), bytes(r[2]), r[3])

    def save_idempotent_answer(self, answer: IdempotentAnswer) -> None:
        self._conn.execute(
            "DELETE FROM idempotency_keys WHERE enterprise_id = ? AND key = ?",
            (answer.enterprise_id, answer.key),
        )
        self._conn.execute(
            "INSERT INTO idempotency_keys (enterprise_id, key, request_hash, status, response,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                answer.enterprise_id,
                answer.key,
                answer.request_hash,
                answer.status,
                answer.response,
                answer.created_at,
            ),
        )

    def forget_idempotent_answers(self, enterprise_id: str, before: str) -> None:
        """Drop ``enterprise_id``'s answers created before ``before`` (they have expired)."""
        self._conn.execute(
            "DELETE FROM idempotency_keys WHERE enterprise_id = ? AND created_at < ?",
            (enterprise_id, before),
        )

    def set_meta(self, key: str, value: str) -> None:
        self._conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        self._conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- refused reports -----------------------------------------------------------------------
    def insert_rejections(self, rows: Sequence[RejectionRow]) -> None:
        """Record refused reports (their ``id`` is ignored: the store numbers them)."""
        self._conn.executemany(
            "INSERT INTO rejections (received_at, actor, type, batteries, occurred_at, rule,"
            " field, message, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [r.db_values() for r in rows],
        )

    # -- alerts (battrace.supervision.alerts) --------------------------------------------------
    def alert_scope_page(
        self,
        rules: Sequence[str],
        batteries: Sequence[str] | None,
        enterprises: Sequence[str] | None,
        after: str,
        limit: int,
        ids: tuple[str | None, str | None] = (None, None),
    ) -> list[Row]:
        """``(id, status, found)`` of the alerts of ``rules`` in scope, by id, after ``after``
        and, of ``ids``, from the first (if given) and before the second (if given).

        The scope: alerts whose battery is in ``batteries`` (if given) or whose enterprise is
        in ``enterprises`` and battery is NULL (if given); neither: every alert of ``rules``.
        """
        clause, params = self._conn.codes_clause("rule", rules)
        where, scope_params = [clause], list(params)
        parts: list[str] = []
        if batteries is not None:
            part, extra = self._conn.codes_clause("battery", batteries)
            parts.append(part)
            scope_params.extend(extra)
        if enterprises is not None:
            part, extra = self._conn.codes_clause("enterprise", enterprises)
            parts.append(f"(battery IS NULL AND {part})")
            scope_params.extend(extra)
        if parts:
            where.append("(" + " OR ".join(parts) + ")")
        for bound, test in zip(ids, ("id >= ?", "id < ?"), strict=True):
            if bound is not None:
                where.append(test)
                scope_params.append(bound)
        return self._conn.query(
            f"SELECT id, status, found FROM alerts WHERE {' AND '.join(where)} AND id > ?"
            " ORDER BY id LIMIT ?",
            [*scope_params, after, limit],
        )

    def alerts_by_id(self, ids: Sequence[str]) -> list[Row]:
        """The stored alerts among ``ids`` (columns as :data:`ALERT_COLUMNS`), any order."""
        if not ids:
            return []
        clause, params = self._conn.codes_clause("id", ids)
        return self._conn.query(f"SELECT {ALERT_COLUMNS} FROM alerts WHERE {clause}", params)

    def insert_alerts(self, rows: Sequence[Row]) -> None:
        """New alerts, each a row of every column in :data:`ALERT_COLUMNS` order."""
        self._conn.executemany(
            f"INSERT INTO alerts ({ALERT_COLUMNS}) VALUES ({', '.join('?' * 19)})", rows
        )

    def refresh_alerts(self, rows: Sequence[tuple[str, str, str, str, str]]) -> None:
        """Found again, status unchanged: ``(severity, evidence, detail, last_seen, id)``."""
        self._conn.executemany(
            "UPDATE alerts SET severity = ?, evidence = ?, detail = ?, last_seen = ?, found = 1"
            " WHERE id = ?",
            rows,
        )

    def reopen_found_alerts(self, rows: Sequence[tuple[str, str, str, str, str, str]]) -> None:
        """Cleared by the system and found again:
        ``(severity, evidence, detail, last_seen, comment, id)``; open once more."""
        self._conn.executemany(
            "UPDATE alerts SET status = 'open', severity = ?, evidence = ?, detail = ?,"
            " last_seen = ?, found = 1, acknowledged_by = NULL, acknowledged_at = NULL,"
            " resolved_by = NULL, resolved_at = NULL, comment = ? WHERE id = ?",
            rows,
        )

    def clear_alerts(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """No longer found: ``(resolved_at, comment, id)``; resolved by the system."""
        self._conn.executemany(
            "UPDATE alerts SET status = 'resolved', found = 0, resolved_by = 'system',"
            " resolved_at = ?, comment = ? WHERE id = ?",
            rows,
        )

    def mark_alerts_not_found(self, ids: Sequence[str]) -> None:
        self._conn.executemany("UPDATE alerts SET found = 0 WHERE id = ?", [(i,) for i in ids])

    def alert(self, alert_id: str) -> Row | None:
        rows = self._conn.query(f"SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?", (alert_id,))
        return rows[0] if rows else None

    def set_alert_status(
        self,
        alert_id: str,
        status: str,
        *,
        acknowledged: tuple[str | None, str | None],
        resolved: tuple[str | None, str | None],
        comment: str | None,
    ) -> None:
        """A person's change of status; ``acknowledged`` and ``resolved`` are (by, at)."""
        self._conn.execute(
            "UPDATE alerts SET status = ?, acknowledged_by = ?, acknowledged_at = ?,"
            " resolved_by = ?, resolved_at = ?, comment = ? WHERE id = ?",
            (status, *acknowledged, *resolved, comment, alert_id),
        )

    def insert_alert_history(
        self, rows: Sequence[tuple[str, str, str, str | None, str | None]]
    ) -> None:
        """History entries ``(alert_id, at, status, by_whom, comment)``."""
        self._conn.executemany(
            "INSERT INTO alert_history (alert_id, at, status, by_whom, comment)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )


def read_log_nodes(
    conn: Connection, ids: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    """Stored hashes for ``(level, index)`` ids, in one query per 400 ids.

    One point select per id, joined by ``UNION ALL``: each is a primary-key search on both
    engines, with nothing to sort or deduplicate. (On SQLite an ``OR`` of the same terms takes a
    multi-index plan that builds a row set, ``idx IN (...)`` lists build a temporary index, and a
    row-values ``(level, idx) IN (VALUES ...)`` list scans the whole table; all are slower for
    the 20 to 40 scattered nodes of a proof.) 400 stays under SQLite's 500 compound selects.
    """
    found: dict[tuple[int, int], bytes] = {}
    wanted = list(dict.fromkeys(ids))
    point = "SELECT level, idx, hash FROM log_nodes WHERE level = ? AND idx = ?"
    for start in range(0, len(wanted), 400):
        part = wanted[start : start + 400]
        rows = conn.query(" UNION ALL ".join(point for _ in part), [x for p in part for x in p])
        found.update(((int(r[0]), int(r[1])), bytes(r[2])) for r in rows)
    return found


def read_log_size(conn: Connection) -> int:
    # one leaf per event, event id = leaf index + 1; events without a leaf are not logged
    # walks the id index from the end: O(1) while every event has its leaf
    rows = conn.query("SELECT id FROM events WHERE leaf IS NOT NULL ORDER BY id DESC LIMIT 1")
    return int(rows[0][0]) if rows else 0


def read_leaves(conn: Connection, first: int, last: int) -> list[bytes]:
    rows = conn.query(
        "SELECT leaf FROM events WHERE id BETWEEN ? AND ? ORDER BY id", (first + 1, last + 1)
    )
    return [bytes(r[0]) for r in rows if r[0] is not None]


def party_pairs(
    events: Sequence[EventRow], links: Sequence[tuple[str, int]]
) -> list[tuple[str, str]]:
    """The ``(enterprise, battery code)`` pairs ``events`` make (each event's actor and
    counterparty with every battery it touches, ``links`` being ``(code, event id)``), once
    each and in key order (the inserts then walk the index forwards)."""
    parties = {e.id: (e.actor, e.counterparty) for e in events}
    pairs: set[tuple[str, str]] = set()
    for code, event_id in links:
        actor, counterparty = parties[event_id]
        pairs.add((actor, code))
        if counterparty is not None:
            pairs.add((counterparty, code))
    return sorted(pairs)
