"""Request dependencies for route modules that take the store and the caller as parameters
(``epcis_routes``): ``get_store`` and ``get_principal``.

``get_store`` lends a reader for GET and HEAD requests and the single writer, held for the
whole request, for any other method (so the one-writer rule holds: docs/api.md). The
principal shares that store (FastAPI resolves a dependency once per request).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from battrace.api.auth import current_caller
from battrace.api.context import context_of
from battrace.domain.access import Caller
from battrace.services.access import may_read_event
from battrace.store.base import Store
from battrace.store.rows import EventRow

READ_METHODS = frozenset({"GET", "HEAD"})


def get_store(request: Request) -> Iterator[Store]:
    """A reader for reads, the writer (held until the request ends) for writes."""
    access = context_of(request).access
    lend = access.reading() if request.method in READ_METHODS else access.writing()
    with lend as store:
        yield store


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller as the EPCIS routes see it: its enterprise id and what it may read."""

    caller: Caller
    store: Store

    @property
    def enterprise_id(self) -> str | None:
        return self.caller.id

    def can_read_event(self, row: EventRow) -> bool:
        return may_read_event(self.store, self.caller, row)

    @property
    def reader(self) -> str | None:
        """The enterprise whose batteries bound what it may read: any caller but a regulator
        (who reads by province) and nobody (who reads no event)."""
        return None if self.caller.is_regulator else self.caller.id


def get_principal(
    caller: Annotated[Caller, Depends(current_caller)],
    store: Annotated[Store, Depends(get_store)],
) -> Principal:
    return Principal(caller, store)


__all__ = ["Principal", "get_principal", "get_store"]
