"""Bulk import: stream NDJSON or CSV files of events or batteries into the reporting path.

Files are read line by line, never whole, so memory stays bounded. Each line becomes a
:class:`~battrace.services.reporting.SourceItem` carrying its line number; a line that is not
valid JSON (or CSV) becomes an error item, so the batch reports it as the first bad line.

CSV columns for events: ``type, batteries, actor, counterparty, occurred_at, reported_at, place,
ref, body`` (``batteries`` space- or semicolon-separated; ``body`` a JSON object). CSV columns for
batteries: ``code, maker, chemistry, rated_capacity_ah, nominal_voltage_v, energy_kwh, mass_kg,
occurred_at, children, place`` and one ``<material>_kg`` column per material present.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from battrace.codes import parse_battery_code
from battrace.domain.events import ENVELOPE_FIELDS, Material
from battrace.errors import BatchError, ValidationError
from battrace.services.reporting import SourceItem, report_events
from battrace.store.base import Store

EVENT_COLUMNS = ENVELOPE_FIELDS
SPEC_FIELDS = ("chemistry", "rated_capacity_ah", "nominal_voltage_v", "energy_kwh", "mass_kg")


def _bad_line(line: int, message: str, rule: str) -> SourceItem:
    return SourceItem(ValidationError(message, field="line", rule=rule), line)


def read_ndjson(stream: IO[bytes]) -> Iterator[SourceItem]:
    """Items of an NDJSON stream (one JSON object a line; blank lines skipped)."""
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            yield SourceItem(orjson.loads(raw), number)
        except orjson.JSONDecodeError as exc:
            yield _bad_line(number, f"not valid JSON ({exc})", "json")


def _csv_rows(stream: IO[bytes]) -> Iterator[tuple[int, dict[str, str]]]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    for row in reader:
        yield reader.line_num, {k.strip(): (v or "").strip() for k, v in row.items() if k}


def _split_codes(text: str) -> list[str]:
    return [c for c in text.replace(";", " ").replace(",", " ").split() if c]


def read_events_csv(stream: IO[bytes]) -> Iterator[SourceItem]:
    """Items of a CSV file of events (columns in the module docstring)."""
    for line, row in _csv_rows(stream):
        unknown = sorted(set(row) - set(EVENT_COLUMNS))
        if unknown:
            yield _bad_line(line, f"unknown column(s) {', '.join(unknown)}", "columns")
            continue
        data: dict[str, Any] = {
            k: v for k, v in row.items() if v and k not in ("batteries", "body")
        }
        data["batteries"] = _split_codes(row.get("batteries", ""))
        if row.get("body"):
            try:
                data["body"] = orjson.loads(row["body"])
            except orjson.JSONDecodeError as exc:
                yield _bad_line(line, f"body: not valid JSON ({exc})", "json")
                continue
        yield SourceItem(data, line)


def battery_event(record: dict[str, Any]) -> dict[str, Any]:
    """The ``produced`` event that registers one battery record.

    A record has ``code``, ``maker`` (credit code of the registering maker), the spec fields,
    ``composition`` (or ``<material>_kg`` keys), optional ``children``, ``occurred_at``
    (default: the production date in the code) and ``place``. Raises ``ValidationError``
    for a record without a code or maker.
    """
    for key in ("code", "maker"):
        if not record.get(key):
            raise ValidationError(f"{key}: required", field=key, rule="required")
    code = str(record["code"])
    composition = dict(record.get("composition") or {})
    for material in Material:
        value = record.get(f"{material.value}_kg")
        if value not in (None, ""):
            composition[material.value] = value
    children = record.get("children") or []
    if isinstance(children, str):
        children = _split_codes(children)
    body: dict[str, Any] = {k: record[k] for k in SPEC_FIELDS if record.get(k) not in (None, "")}
    body["composition"] = composition
    if children:
        body["children"] = children
    occurred = record.get("occurred_at")
    if not occurred:
        occurred = parse_battery_code(code, field="code").production_date.isoformat()
    event: dict[str, Any] = {
        "type": "produced",
        "batteries": [code],
        "actor": record["maker"],
        "occurred_at": occurred,
        "body": body,
    }
    for key in ("place", "ref", "reported_at"):
        if record.get(key):
            event[key] = record[key]
    return event


def as_battery_items(items: Iterable[SourceItem]) -> Iterator[SourceItem]:
    """Turn battery records into ``produced`` events, keeping line numbers and errors."""
    for item in items:
        if isinstance(item.data, dict):
            try:
                yield SourceItem(battery_event(item.data), item.line)
            except ValidationError as exc:
                yield SourceItem(exc, item.line)
        else:
            yield item


def detect_format(path: Path, given: str | None) -> str:
    """``ndjson`` or ``csv``, from ``given`` or the file's suffix."""
    fmt = (given or path.suffix.lstrip(".")).lower()
    if fmt in ("ndjson", "jsonl", "json"):
        return "ndjson"
    if fmt == "csv":
        return "csv"
    raise ValidationError(
        f"format: cannot tell the format of {path.name}; use --format ndjson or csv",
        field="format",
        rule="known_format",
    )


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """The result of importing one file: totals over all committed batches."""

    accepted: int
    batches: int
    first_id: int | None
    last_id: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "batches": self.batches,
            "first_id": self.first_id,
            "last_id": self.last_id,
        }


class PartialImportError(BatchError):
    """Raised when a batch fails after earlier batches of the same file were committed."""

    def __init__(self, failure: BatchError, committed: int) -> None:
        super().__init__(failure.index, failure.cause, line=failure.line)
        self.committed = committed
        self.message = f"{failure.message} ({committed} events of earlier batches were committed)"

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["error"]["message"] = self.message
        body["error"]["committed"] = self.committed
        return body


def import_items(
    store: Store,
    items: Iterable[SourceItem],
    *,
    batch_size: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    **options: Any,
) -> ImportOutcome:
    """Import a stream of items: all or nothing, or all or nothing per ``batch_size`` items.

    Raises :class:`BatchError` for the first bad item (nothing written), or
    :class:`PartialImportError` when batches before the failing one were committed.
    """
    options.setdefault("trust_reported_at", True)
    if batch_size is None:
        result = report_events(store, items, on_progress=on_progress, **options)
        return ImportOutcome(result.accepted, 1, result.first_id, result.last_id)
    if batch_size < 1:
        raise ValidationError("batch_size: must be at least 1", field="batch_size", rule="range")
    iterator = iter(items)
    accepted, batches = 0, 0
    first_id: int | None = None
    last_id: int | None = None
    while True:
        batch = list(itertools.islice(iterator, batch_size))
        if not batch:
            break
        done = accepted

        def progress(n: int, done: int = done) -> None:
            if on_progress is not None:
                on_progress(done + n)

        try:
            part = report_events(store, batch, on_progress=progress, **options)
        except BatchError as exc:
            if accepted:
                raise PartialImportError(exc, accepted) from None
            raise
        accepted += part.accepted
        batches += 1
        first_id = first_id or part.first_id
        last_id = part.last_id or last_id
    return ImportOutcome(accepted, batches, first_id, last_id)


def read_file(stream: IO[bytes], fmt: str, kind: str) -> Iterator[SourceItem]:
    """Items of an open file of ``kind`` (``events`` or ``batteries``) in ``fmt``."""
    if fmt == "ndjson":
        items = read_ndjson(stream)
    elif kind == "batteries":
        items = (SourceItem(row, line) for line, row in _csv_rows(stream))
    else:
        items = read_events_csv(stream)
    return as_battery_items(items) if kind == "batteries" else items
