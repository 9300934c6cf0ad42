"""The tables the supervision engines read, with their columns and Arrow types: what the
Parquet export writes and what the incremental path copies into DuckDB."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Final

import pyarrow as pa

_S, _I = pa.string(), pa.int64()


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


def column(values: Sequence[Any], kind: pa.DataType) -> pa.Array:
    """``values`` (``str``, ``int`` or ``None``) as an Arrow array of ``kind``.

    Until pandas is loaded, strings and 64-bit integers are laid into Arrow's buffers
    directly: ``pa.array`` on a Python list first imports pandas (to look for pandas objects),
    half a second that an importer handing its events to a worker process would otherwise
    pay. Values of another type, and other kinds, go through ``pa.array`` (which raises for
    what it cannot convert).
    """
    if (kind != _S and kind != _I) or "pandas" in sys.modules:
        return pa.array(values, kind)  # the same array; faster once pandas is loaded
    n = len(values)
    missing = [i for i, v in enumerate(values) if v is None]
    validity = None
    if missing:
        bits = bytearray(b"\xff" * ((n + 7) // 8))
        for i in missing:
            bits[i >> 3] &= 0xFF ^ (1 << (i & 7))
        validity = pa.py_buffer(bits)
    try:
        if kind == _I:
            ints = array("q", [0 if v is None else v for v in values])
            if any(type(v) is not int for v in values if v is not None):
                raise TypeError("not int")  # bool and int subclasses: leave them to Arrow
            buffers = [validity, pa.py_buffer(ints)]
        else:
            texts = [v if v is not None else "" for v in values] if missing else values
            joined = "".join(texts)  # TypeError for a value that is not text
            if joined.isascii():  # one byte a character: lengths are byte lengths
                data, lengths = joined.encode(), map(len, texts)
            else:
                encoded = [t.encode() for t in texts]
                data, lengths = b"".join(encoded), map(len, encoded)
            if len(data) >= 2**31:
                raise OverflowError("more text than 32-bit offsets address")
            offsets = array("i", [0])
            offsets.extend(accumulate(lengths))
            buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(data)]
    except (AttributeError, TypeError, OverflowError):
        return pa.array(values, kind)
    return pa.Array.from_buffers(kind, n, buffers, null_count=len(missing))


def arrow_rows(table: LogTable, rows: list[Any]) -> pa.Table:
    """Rows read from the store (tuples in the table's column order) as an Arrow table.

    The drivers hand back ``int``/``str``/``None`` for these columns (PostgreSQL the same);
    only a value of another type (a ``date`` from PostgreSQL) is turned into text first.
    """
    schema = pa.schema(list(table.columns))
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [() for _ in table.columns]
    arrays = []
    for (_, kind), values in zip(table.columns, columns, strict=True):
        try:
            arrays.append(column(values, kind))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            cast = int if kind == _I else str
            arrays.append(column([None if v is None else cast(v) for v in values], kind))
    return pa.Table.from_arrays(arrays, schema=schema)
