"""Batches of reports: all or nothing (the default) or per item (``?mode=per_item``).

All or nothing is one ``report_events`` call: one bad item and nothing is written (422 naming
the item and, for NDJSON, its line). Per item, each item is reported in its own savepoint of
one transaction: the good ones are written, each bad one gets its own status and error.
A signed submission covers the whole batch, so it can only be all or nothing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from battrace.domain.access import Caller
from battrace.errors import BatchError, BattraceError, ValidationError
from battrace.services.access import check_writes_as_caller
from battrace.services.keys import SignedSubmission
from battrace.services.queries import event_view
from battrace.services.reporting import SourceItem, report_events
from battrace.store.base import Store


class BatchMode(StrEnum):
    ALL = "all"
    PER_ITEM = "per_item"


def check_authors(
    caller: Caller, items: list[SourceItem], field: str, mode: BatchMode
) -> list[SourceItem]:
    """Every item must be written as the caller (``field``: actor or maker).

    All or nothing: the first item written as another enterprise refuses the batch (403).
    Per item: that item becomes its own 403 error.
    """
    out = []
    for index, item in enumerate(items):
        try:
            check_writes_as_caller(caller, index, item.data, field)
        except BattraceError as exc:
            if mode is BatchMode.ALL:
                raise
            item = SourceItem(exc, item.line)
        out.append(item)
    return out


def check_mode(mode: BatchMode, signed: SignedSubmission | None) -> None:
    if mode is BatchMode.PER_ITEM and signed is not None:
        raise ValidationError(
            "mode: a signed batch is one submission, accepted all or nothing; send it without"
            " mode=per_item",
            field="mode",
            rule="signed_all_or_nothing",
        )


def run_batch(
    store: Store,
    items: list[SourceItem],
    mode: BatchMode,
    signed: SignedSubmission | None,
    options: dict[str, Any],
) -> tuple[int, dict[str, Any]]:
    """Report ``items``; returns the HTTP status and the answer's JSON data."""
    if mode is BatchMode.ALL:
        return 201, report_events(store, items, signed=signed, **options).to_dict()
    results: list[dict[str, Any]] = []
    accepted = 0
    for index, item in enumerate(items):
        where: dict[str, Any] = {"index": index}
        if item.line is not None:
            where["line"] = item.line
        try:
            # inside the request's transaction this write is a savepoint: a failed item
            # leaves nothing behind, the others commit together
            done = report_events(store, [item], **options)
        except BatchError as exc:
            cause = exc.cause
            results.append({**where, "status": cause.status, "error": cause.to_dict()["error"]})
            continue
        row = store.event(done.first_id or 0)
        assert row is not None
        accepted += 1
        results.append({**where, "status": 201, "event": event_view(store, row)})
    return 200, {"accepted": accepted, "rejected": len(items) - accepted, "results": results}


__all__ = ["BatchMode", "check_authors", "check_mode", "run_batch"]
