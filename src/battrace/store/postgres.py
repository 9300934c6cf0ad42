"""The server store: PostgreSQL through psycopg 3, same schema and queries as SQLite.

A write transaction takes a transaction-level advisory lock first, so appends are serialised
exactly as SQLite's single writer serialises them (event ids are dense and in commit order,
which the ledger needs).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from battrace.errors import StoreError
from battrace.store.base import Store
from battrace.store.connection import Connection
from battrace.store.rows import Row

# an arbitrary constant naming battrace's writer lock among advisory locks
WRITER_LOCK_ID = 0x62617474


def _placeholders(sql: str) -> str:
    return sql.replace("?", "%s")


class PostgresConnection(Connection):
    dialect = "postgres"

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.raw.execute(_placeholders(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.raw.cursor() as cur:
            cur.executemany(_placeholders(sql), rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.raw.execute(_placeholders(sql), params).fetchall()

    def codes_clause(self, column: str, codes: Sequence[str]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(?)", [list(codes)]

    def pairs_clause(
        self, columns: tuple[str, str], pairs: Sequence[tuple[str, str]]
    ) -> tuple[str, list[Any]]:
        first, second = columns
        return (
            f"({first}, {second}) IN (SELECT * FROM unnest(?::text[], ?::text[]))",
            [[p[0] for p in pairs], [p[1] for p in pairs]],
        )


class PostgresStore(Store):
    """A store in a PostgreSQL database given by a libpq URL."""

    dialect = "postgres"

    def __init__(self, url: str) -> None:
        self.location = url
        try:
            raw = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {url}: {exc}") from exc
        self._conn = PostgresConnection(raw)
        self._lock = threading.RLock()

    def _connection(self) -> Connection:
        return self._conn

    def _has_table(self, name: str) -> bool:
        rows = self._conn.query("SELECT to_regclass(?) IS NOT NULL", (name,))
        return bool(rows[0][0])

    @contextmanager
    def _write_transaction(self) -> Iterator[Connection]:
        with self._lock, self._conn.raw.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITER_LOCK_ID,))
            yield self._conn

    def close(self) -> None:
        self._conn.raw.close()
