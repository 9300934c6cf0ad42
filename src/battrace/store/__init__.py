"""Storage: SQLite (embedded default) and PostgreSQL behind one interface."""

from __future__ import annotations

from pathlib import Path

from battrace.store.base import BatteryFilter, Store
from battrace.store.rows import EventRow
from battrace.store.writes import WriteTransaction


def open_store(target: str | Path, *, migrate: bool = True) -> Store:
    """Open the store at ``target``: a ``postgresql://`` URL or a SQLite file path.

    With ``migrate`` (the default) the schema is brought to the newest version first.
    Raises ``battrace.errors.StoreError`` when the database cannot be opened.
    """
    text = str(target)
    store: Store
    if text.startswith(("postgresql://", "postgres://")):
        from battrace.store.postgres import PostgresStore

        store = PostgresStore(text)
    else:
        from battrace.store.sqlite import SqliteStore

        store = SqliteStore(text)
    if migrate:
        store.migrate()
    return store


__all__ = ["BatteryFilter", "EventRow", "Store", "WriteTransaction", "open_store"]
