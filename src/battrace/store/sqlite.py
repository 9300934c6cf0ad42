"""The embedded default: one SQLite file in WAL mode with a single writer.

Writes take ``BEGIN IMMEDIATE`` so two writers never interleave; readers keep reading the last
committed state while a write runs (WAL). ``synchronous=FULL`` by default, so an acknowledged
event survives a power cut, not only a crash of the process.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from battrace.errors import StoreError
from battrace.store.base import Store
from battrace.store.connection import Connection
from battrace.store.rows import Row


class SqliteConnection(Connection):
    dialect = "sqlite"

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.raw.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.raw.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.raw.execute(sql, params).fetchall()

    def codes_clause(self, column: str, codes: Sequence[str]) -> tuple[str, list[Any]]:
        # one parameter whatever the list length: SQLite caps the number of parameters
        return f"{column} IN (SELECT value FROM json_each(?))", [orjson.dumps(list(codes)).decode()]

    def pairs_clause(
        self, columns: tuple[str, str], pairs: Sequence[tuple[str, str]]
    ) -> tuple[str, list[Any]]:
        first, second = columns
        return (
            f"({first}, {second}) IN (SELECT json_extract(value, '$[0]'),"
            " json_extract(value, '$[1]') FROM json_each(?))",
            [orjson.dumps([list(p) for p in pairs]).decode()],
        )


#: how long a connection waits for another's lock before it gives up
BUSY_SECONDS = 30.0
#: the longest pause between two tries to start a write while another connection writes
BUSY_STEP_SECONDS = 0.001


class SqliteStore(Store):
    """A store in one SQLite file (or ``:memory:``)."""

    dialect = "sqlite"

    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        self.location = str(path)
        try:
            raw = sqlite3.connect(
                self.location,
                isolation_level=None,
                check_same_thread=False,
                timeout=BUSY_SECONDS,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database {self.location}: {exc}") from exc
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous}")
        raw.execute("PRAGMA journal_mode = WAL")
        raw.execute(f"PRAGMA synchronous = {synchronous}")
        raw.execute("PRAGMA foreign_keys = ON")
        raw.execute("PRAGMA cache_size = -65536")  # 64 MiB page cache
        self._conn = SqliteConnection(raw)
        self._lock = threading.RLock()

    def _connection(self) -> Connection:
        return self._conn

    def _has_table(self, name: str) -> bool:
        rows = self._conn.query(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        )
        return bool(rows)

    @contextmanager
    def _write_transaction(self) -> Iterator[Connection]:
        with self._lock:
            raw = self._conn.raw
            self._begin_immediate(raw)
            try:
                yield self._conn
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            else:
                raw.execute("COMMIT")

    def _begin_immediate(self, raw: sqlite3.Connection) -> None:
        """BEGIN IMMEDIATE, trying again every :data:`BUSY_STEP_SECONDS` at most while another
        connection writes (SQLite's own wait sleeps 1, 2, 5, 10, 15, 20, 25 ... ms between
        tries: a report behind another process's 10 ms write waited 18 ms, behind a 40 ms one
        78 ms), for :data:`BUSY_SECONDS` at most."""
        deadline = time.monotonic() + BUSY_SECONDS
        step = BUSY_STEP_SECONDS / 8
        raw.execute("PRAGMA busy_timeout = 0")  # for this statement only
        try:
            while True:
                try:
                    raw.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    busy = exc.sqlite_errorcode == sqlite3.SQLITE_BUSY
                    if not busy or time.monotonic() >= deadline:
                        raise StoreError(f"cannot start a write on {self.location}: {exc}") from exc
                time.sleep(step)
                step = min(step * 2, BUSY_STEP_SECONDS)
        finally:
            raw.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")

    def close(self) -> None:
        self._conn.raw.close()
