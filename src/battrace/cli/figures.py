"""``battrace figures KIND``: the compliance figures (:mod:`battrace.supervision.figures`).

``figures_app`` holds the one command; registered on the main app without a name
(``app.add_typer(figures_app)``) it is ``battrace figures KIND [options]``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from battrace.cli.common import DbOption, JsonOption, cli_store, out, print_json
from battrace.domain.quantities import date_field
from battrace.supervision.figures import FIGURE_KINDS, RECOVERY_MATERIALS, figures

figures_app = typer.Typer(
    help="Compliance figures.", add_completion=False, pretty_exceptions_enable=False
)


def _shown(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    """The columns the table shows (``--json`` has every field): recovery rates as percent
    per metal; for provinces, counts per category and the total tonnes."""
    if kind == "recovery":
        shown = {k: v for k, v in row.items() if k != "materials"}
        for metal in RECOVERY_MATERIALS:
            found = row["materials"].get(metal)
            rate = found["rate"] if found else None
            shown[f"{metal} %"] = round(rate * 100, 1) if rate is not None else None
        return shown
    if kind == "provinces":
        return {k: v for k, v in row.items() if not k.endswith("_t") or k == "total_t"}
    return row


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column == "year":
        return str(value)
    if isinstance(value, float):
        return f"{value:,.6f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def figure_table(kind: str, rows: list[dict[str, Any]]) -> Table:
    """The rows of figure ``kind`` as a Rich table."""
    shown = [_shown(kind, r) for r in rows]
    columns: dict[str, None] = {}
    for r in shown:
        columns.update(dict.fromkeys(r))
    numeric = {c for c in columns if any(isinstance(r.get(c), int | float) for r in shown)}
    table = Table(title=f"{kind}: {len(rows)} rows")
    for i, c in enumerate(columns):
        table.add_column(c, justify="right" if c in numeric else "left", no_wrap=i == 0)
    for r in shown:
        table.add_row(*(_cell(c, r.get(c)) for c in columns))
    return table


@figures_app.command("figures")
def figures_command(
    kind: Annotated[str, typer.Argument(help=f"One of {', '.join(FIGURE_KINDS)}.")],
    db: DbOption = None,
    as_of: Annotated[
        str | None,
        typer.Option(help="Leave out events after this day (YYYY-MM-DD; default: all)."),
    ] = None,
    year: Annotated[
        int | None,
        typer.Option(help="Year of retirement, recycling, the fact or production (see docs)."),
    ] = None,
    year_to: Annotated[
        int | None, typer.Option(help="flows: last production year of a range from --year.")
    ] = None,
    province: Annotated[
        str | None, typer.Option(help="Province: 2 digits or its GB/T 2260 code (440000).")
    ] = None,
    chemistry: Annotated[str | None, typer.Option(help="Chemistry, e.g. LFP or NCM.")] = None,
    enterprise: Annotated[
        str | None, typer.Option(help="Only this enterprise (credit code).")
    ] = None,
    level: Annotated[
        str | None, typer.Option(help="provinces: pack (default), module or cell.")
    ] = None,
    engine: Annotated[
        str, typer.Option(help="store (the database itself) or duckdb (over --parquet).")
    ] = "store",
    parquet: Annotated[
        Path | None,
        typer.Option(help="Parquet export for --engine duckdb (exported first when empty)."),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Compliance figures: collection, provinces, recovery, timeliness, trend, flows."""
    day: date | None = date_field(as_of, "as_of") if as_of is not None else None
    with cli_store(db) as store:
        rows = figures(
            store,
            kind,
            as_of=day,
            year=year,
            year_to=year_to,
            province=province,
            chemistry=chemistry,
            enterprise=enterprise,
            level=level,
            engine=engine,
            parquet_dir=parquet,
        )
    if json:
        print_json(rows)
    else:
        out.print(figure_table(kind, rows))


__all__ = ["figure_table", "figures_app"]
