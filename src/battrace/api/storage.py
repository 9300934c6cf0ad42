"""The API's database connections: one writer behind a lock, a small pool of readers.

The store's single-writer rule (one ``BEGIN IMMEDIATE`` writer on SQLite, an advisory lock on
PostgreSQL) holds inside one process too: every write request runs on the one writer
connection, one at a time, under :attr:`StoreAccess.writing`. Reads run concurrently on
their own connections, checked out of a pool, so that a reader never sees the writer's
uncommitted work (on SQLite two threads sharing one connection would). An in-memory SQLite
database exists only on its one connection, so there reads share the writer's connection
(for experiments only: such reads may see a write in progress).

Connections are opened on first use (no I/O when the app is made) and closed by
:meth:`StoreAccess.close` (the app's shutdown).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from battrace.errors import StoreError
from battrace.store import Store, open_store

READER_WAIT_SECONDS = 30.0


class StoreAccess:
    """Opens, lends and closes the API's stores.

    ``target`` is what :func:`battrace.store.open_store` opens; ``factory`` (for tests or
    other engines) replaces it and must return a migrated store on the same database each
    call. ``prepare`` runs once on the writer after it is opened (the app makes the log's
    signing key there, so readers never write).
    """

    def __init__(
        self,
        target: str | None = None,
        *,
        factory: Callable[[], Store] | None = None,
        readers: int = 8,
        prepare: Callable[[Store], None] | None = None,
    ) -> None:
        if factory is None:
            if target is None:
                raise ValueError("StoreAccess needs a target or a factory")
            where = target

            def factory() -> Store:
                return open_store(where, migrate=False)

            self._first: Callable[[], Store] = lambda: open_store(where)
        else:
            self._first = factory
        self._factory = factory
        self.target = target  # what open_store opens (None: a factory's store)
        self._shared = target == ":memory:"
        self._prepare = prepare
        self._max_readers = max(1, readers)
        self._writer: Store | None = None
        self._write_lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._idle: queue.LifoQueue[Store] = queue.LifoQueue()
        self._readers: list[Store] = []
        self._closed = False

    def _writer_store(self) -> Store:
        if self._writer is None:
            with self._open_lock:
                if self._closed:
                    raise StoreError("the API's store is closed")
                if self._writer is None:
                    store = self._first()
                    if self._prepare is not None:
                        self._prepare(store)
                    self._writer = store
        return self._writer

    @contextmanager
    def writing(self) -> Iterator[Store]:
        """The writer store, held alone for the duration of the block."""
        store = self._writer_store()
        with self._write_lock:
            yield store

    @contextmanager
    def reading(self) -> Iterator[Store]:
        """A store to read from, for the duration of the block."""
        writer = self._writer_store()
        if self._shared:
            yield writer
            return
        store = self._checkout()
        try:
            yield store
        finally:
            self._idle.put(store)

    def _checkout(self) -> Store:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._open_lock:
            if self._closed:
                raise StoreError("the API's store is closed")
            make = len(self._readers) < self._max_readers
            if make:
                store = self._factory()
                self._readers.append(store)
                return store
        try:
            return self._idle.get(timeout=READER_WAIT_SECONDS)
        except queue.Empty:
            raise StoreError("no database connection became free in time") from None

    def close(self) -> None:
        """Close every connection; later use raises ``StoreError``."""
        with self._open_lock:
            self._closed = True
            stores = [*self._readers, *([self._writer] if self._writer is not None else [])]
            self._readers, self._writer = [], None
        for store in stores:
            store.close()


__all__ = ["StoreAccess"]
