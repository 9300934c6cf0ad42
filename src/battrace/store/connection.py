"""The few things the shared SQL needs from a database connection."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from typing import Any

from battrace.store.rows import Row


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

    @abc.abstractmethod
    def pairs_clause(
        self, columns: tuple[str, str], pairs: Sequence[tuple[str, str]]
    ) -> tuple[str, list[Any]]:
        """A ``(a, b) IN (...)`` clause for a list of text pairs that searches an index on
        ``(a, b)``, and its parameters."""
