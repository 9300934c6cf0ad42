"""Parquet export of the event log and the tables supervision reads.

``battrace export parquet DIR`` writes one folder per table (``events``, ``event_batteries``,
``batteries``, ``enterprises``, ``whitelist_changes``, ``rejections``) holding Parquet files
with the store's own columns (JSON columns stay JSON text; the log's secret salts are not
exported), and a manifest ``battrace-export.json`` with the row counts and the last event id.
DuckDB (or Spark, or any Parquet reader) then runs the same supervision rules over it
(:func:`battrace.supervision.engine.parquet_engine`).

Rows are read in keyset-paged chunks and written as row groups, so memory stays bounded
whatever the size. The export is written to a temporary folder beside ``DIR`` and renamed
into place at the end: a failed export leaves nothing behind.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from battrace.errors import ValidationError
from battrace.store.base import Store
from battrace.supervision.tables import EXPORT_TABLES, LogTable, arrow_rows

MANIFEST: Final = "battrace-export.json"
CHUNK: Final = 100_000


def _chunks(store: Store, table: LogTable, chunk: int) -> Iterator[list[Any]]:
    conn = store._connection()
    names = ", ".join(c for c, _ in table.columns)
    keys = ", ".join(table.key)
    positions = [next(i for i, (c, _) in enumerate(table.columns) if c == k) for k in table.key]
    last: tuple[Any, ...] | None = None
    while True:
        if last is None:
            sql = f"SELECT {names} FROM {table.name} ORDER BY {keys} LIMIT ?"
            params: tuple[Any, ...] = (chunk,)
        else:
            marks = ", ".join("?" for _ in table.key)
            sql = (
                f"SELECT {names} FROM {table.name} WHERE ({keys}) > ({marks})"
                f" ORDER BY {keys} LIMIT ?"
            )
            params = (*last, chunk)
        rows = conn.query(sql, params)
        if not rows:
            return
        yield rows
        last = tuple(rows[-1][p] for p in positions)


def is_export(directory: str | Path) -> bool:
    """Whether ``directory`` holds a complete export (its manifest is written last)."""
    return (Path(directory) / MANIFEST).is_file()


def export_parquet(store: Store, directory: str | Path, *, chunk: int = CHUNK) -> dict[str, Any]:
    """Write the export to ``directory`` (which must not exist or be empty); returns the
    manifest (row counts per table, last event id, seconds)."""
    target = Path(directory)
    if target.exists() and any(target.iterdir()):
        raise ValidationError(
            f"parquet: {target} exists and is not empty; give a new folder",
            field="parquet",
            rule="empty_folder",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix=".battrace-export-", dir=target.parent))
    try:
        counts: dict[str, int] = {}
        for table in EXPORT_TABLES:
            folder = work / table.name
            folder.mkdir()
            schema = pa.schema(list(table.columns))
            count = 0
            with pq.ParquetWriter(folder / "part-0.parquet", schema, compression="zstd") as out:
                for rows in _chunks(store, table, chunk):
                    out.write_table(arrow_rows(table, rows))
                    count += len(rows)
                if count == 0:
                    out.write_table(arrow_rows(table, []))
            counts[table.name] = count
        manifest = {
            "format": "battrace-parquet-1",
            "tables": counts,
            "last_event_id": store.max_event_id(),
            "seconds": round(time.perf_counter() - started, 3),
        }
        (work / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
        if target.exists():
            target.rmdir()
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest
