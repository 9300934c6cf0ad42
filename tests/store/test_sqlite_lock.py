"""A SQLite write waits for another connection's lock in short steps (store/sqlite.py)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from battrace.errors import StoreError
from battrace.store import open_store
from battrace.store import sqlite as sqlite_store


def _busy_timeout(store: sqlite_store.SqliteStore) -> int:
    (row,) = store._conn.raw.execute("PRAGMA busy_timeout").fetchall()
    return int(row[0])


def _hold_lock(db: Path, seconds: float, taken: threading.Event) -> None:
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    taken.set()
    time.sleep(seconds)
    other.execute("COMMIT")
    other.close()


def test_a_write_starts_soon_after_another_connection_lets_go(tmp_path: Path) -> None:
    db = tmp_path / "lock.db"
    with open_store(db) as store:
        assert isinstance(store, sqlite_store.SqliteStore)
        taken = threading.Event()
        holder = threading.Thread(target=_hold_lock, args=(db, 0.24, taken))
        holder.start()
        taken.wait(5)
        began = time.monotonic()
        with store.write() as tx:
            waited = time.monotonic() - began
            tx.set_meta("waited", "yes")
        holder.join()
        # SQLite's own backoff (1, 2, 5, ... 50, 50, 100 ms) would try at 228 ms, then 328 ms
        assert 0.2 <= waited < 0.3
        assert store.meta("waited") == "yes"
        assert _busy_timeout(store) == int(sqlite_store.BUSY_SECONDS * 1000)  # restored


def test_an_uncontended_write_does_not_wait(tmp_path: Path) -> None:
    with open_store(tmp_path / "free.db") as store:
        assert isinstance(store, sqlite_store.SqliteStore)
        began = time.monotonic()
        with store.write() as tx:
            tx.set_meta("k", "v")
        assert time.monotonic() - began < 0.1
        assert _busy_timeout(store) == int(sqlite_store.BUSY_SECONDS * 1000)


def test_a_lock_held_too_long_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "held.db"
    monkeypatch.setattr(sqlite_store, "BUSY_SECONDS", 0.1)
    with open_store(db) as store:
        taken = threading.Event()
        holder = threading.Thread(target=_hold_lock, args=(db, 0.5, taken))
        holder.start()
        taken.wait(5)
        with pytest.raises(StoreError, match="cannot start a write"), store.write() as tx:
            tx.set_meta("never", "written")
        holder.join()
        assert store.meta("never") is None
        with store.write() as tx:  # the store is usable again once the other lets go
            tx.set_meta("later", "yes")
        assert store.meta("later") == "yes"
