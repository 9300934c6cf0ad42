"""Commands that export the store for other engines: Parquet for DuckDB, Spark and friends."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from battrace.cli.common import DbOption, JsonOption, app, cli_store, print_json, print_mapping
from battrace.supervision.export import export_parquet

export_app = typer.Typer(help="Export the event log and its tables.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("parquet")
def export_parquet_command(
    folder: Annotated[Path, typer.Argument(help="New (or empty) folder to write the export to.")],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Write the event log, batteries, enterprises, whitelist and refused reports as Parquet
    (one folder per table and a manifest); `battrace alerts sweep --engine duckdb --parquet
    FOLDER` runs the supervision rules on it."""
    with cli_store(db) as store:
        manifest = export_parquet(store, folder)
    data = {"folder": str(folder), **manifest}
    print_json(data) if json else print_mapping(data)
