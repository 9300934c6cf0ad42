"""The tables the supervision engines read, with their columns and Arrow types: what the
Parquet export writes and what the incremental path copies into DuckDB."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import pyarrow as pa

_S, _I = pa.string(), pa.int64()

#: event types whose body names the vehicle (``vin``)
VIN_TYPES: Final = (
    "installed",
    "vehicle_sold",
    "repaired",
    "replaced",
    "swapped",
    "vehicle_scrapped",
    "removed",
)
#: event types whose body holds a field a per-battery rule reads, and corrections (whose
#: ``changes`` may correct one): the bodies the incremental path keeps (the others: ``{}``)
BODY_TYPES: Final = frozenset((*VIN_TYPES, "repurposed", "recycled", "correction"))


def body_vin(kind: str, body: Any) -> str | None:
    """The VIN an event's body names (a correction: the VIN it corrects to), if any."""
    if kind == "correction" and isinstance(body, dict):
        changes = body.get("changes")
        body = changes.get("body") if isinstance(changes, dict) else None
    vin = body.get("vin") if isinstance(body, dict) else None
    return vin if isinstance(vin, str) else None


@dataclass(frozen=True, slots=True)
class LogTable:
    name: str
    columns: tuple[tuple[str, pa.DataType], ...]
    key: tuple[str, ...]  # unique, for keyset paging


EXPORT_TABLES: Final = (
    LogTable(
        "events",
        (
            ("id", _I),
            ("type", _S),
            ("actor", _S),
            ("counterparty", _S),
            ("occurred_at", _S),
            ("reported_at", _S),
            ("place", _S),
            ("ref", _S),
            ("corrects", _I),
            ("batteries", _S),
            ("body", _S),
        ),
        ("id",),
    ),
    LogTable("event_batteries", (("code", _S), ("event_id", _I)), ("code", "event_id")),
    LogTable(
        "batteries",
        (
            ("code", _S),
            ("level", _S),
            ("battery_type", _S),
            ("maker", _S),
            ("spec", _S),
            ("second_life", _I),
            ("predecessors", _S),
            ("produced_event", _I),
            ("state", _S),
            ("holder", _S),
            ("pending_to", _S),
            ("pending_event", _I),
            ("parent", _S),
            ("vin", _S),
            ("place", _S),
            ("province", _S),
            ("soh_percent", _S),
            ("last_event", _I),
        ),
        ("code",),
    ),
    LogTable(
        "enterprises",
        (
            ("id", _S),
            ("name", _S),
            ("roles", _S),
            ("division", _S),
            ("province", _S),
            ("manufacturer_code", _S),
            ("registered_at", _S),
        ),
        ("id",),
    ),
    LogTable(
        "whitelist_changes",
        (
            ("id", _I),
            ("enterprise_id", _S),
            ("listed", _I),
            ("effective_date", _S),
            ("batch", _S),
            ("note", _S),
            ("recorded_at", _S),
        ),
        ("id",),
    ),
    LogTable(
        "rejections",
        (
            ("id", _I),
            ("received_at", _S),
            ("actor", _S),
            ("type", _S),
            ("batteries", _S),
            ("occurred_at", _S),
            ("rule", _S),
            ("field", _S),
            ("message", _S),
            ("event", _S),
        ),
        ("id",),
    ),
)


def arrow_rows(table: LogTable, rows: list[Any]) -> pa.Table:
    """Rows read from the store (tuples in the table's column order) as an Arrow table.

    The drivers hand back ``int``/``str``/``None`` for these columns (PostgreSQL the same),
    which Arrow converts in C; only a value of another type (a ``date`` from PostgreSQL) is
    turned into text first.
    """
    schema = pa.schema(list(table.columns))
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [() for _ in table.columns]
    arrays = []
    for (_, kind), values in zip(table.columns, columns, strict=True):
        try:
            arrays.append(pa.array(values, kind))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            cast = int if kind == _I else str
            arrays.append(pa.array([None if v is None else cast(v) for v in values], kind))
    return pa.Table.from_arrays(arrays, schema=schema)
