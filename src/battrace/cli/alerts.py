"""Commands for supervision alerts: list, show, acknowledge, resolve, reopen, count; run a
sweep of the rules and score alerts against labels (docs/supervision.md)."""

from __future__ import annotations

import itertools
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from battrace.cli.common import DbOption, JsonOption, app, cli_store, out, print_json
from battrace.domain.quantities import date_field
from battrace.errors import ValidationError
from battrace.store import Store
from battrace.supervision import alerts as alert_service

alert_app = typer.Typer(
    help="Supervision alerts: list, show, act on them, count; sweep the rules.",
    no_args_is_help=True,
)
app.add_typer(alert_app, name="alerts")

TABLE_ROWS = 100  # rows a table shows unless --limit says otherwise


class GroupBy(StrEnum):
    RULE = "rule"
    SEVERITY = "severity"
    STATUS = "status"
    PROVINCE = "province"


class SweepEngine(StrEnum):
    STORE = "store"
    DUCKDB = "duckdb"


ByOption = Annotated[
    str, typer.Option("--by", help="Credit code of the regulator acting (its organisation).")
]


def _row(alert: alert_service.Alert) -> tuple[str, ...]:
    return (
        alert.id,
        alert.rule,
        alert.severity,
        alert.status,
        alert.battery or "",
        alert.enterprise or "",
        alert.province or "",
        alert.day or "",
        alert.detail,
    )


@alert_app.command("list")
def alerts_list(
    rule: Annotated[str | None, typer.Option(help="Only this rule's.")] = None,
    status: Annotated[str | None, typer.Option(help="open, acknowledged or resolved.")] = None,
    severity: Annotated[str | None, typer.Option(help="low, medium, high or critical.")] = None,
    battery: Annotated[str | None, typer.Option(help="Only about this battery code.")] = None,
    enterprise: Annotated[
        str | None, typer.Option(help="Only about this enterprise (credit code).")
    ] = None,
    province: Annotated[
        str | None, typer.Option(help="Only in this province (350000 or 35).")
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(help=f"At most this many (default: all with --json, {TABLE_ROWS} else)."),
    ] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Alerts by id; with --json a JSON array of every matching alert."""
    if limit is not None and limit < 1:
        raise ValidationError("limit: must be at least 1", field="limit", rule="range")
    filters = {
        "rule": rule,
        "status": status,
        "severity": severity,
        "battery": battery,
        "enterprise": enterprise,
        "province": province,
    }
    with cli_store(db) as store:
        if json:
            # streamed: a national store may hold a great many alerts; the first page is read
            # before anything is written, so a bad filter prints only the error
            found_iter = alert_service.iter_alerts(store, limit=limit, **filters)
            first = next(found_iter, None)
            sys.stdout.write("[")
            everything = itertools.chain([first] if first is not None else [], found_iter)
            for n, alert in enumerate(everything):
                sys.stdout.write(
                    ("," if n else "") + "\n  " + orjson.dumps(alert.to_dict()).decode()
                )
            sys.stdout.write("\n]\n")
            return
        shown = limit if limit is not None else TABLE_ROWS
        found = list(alert_service.iter_alerts(store, limit=shown, **filters))
    table = Table()
    table.add_column("id", no_wrap=True, min_width=16)  # what ack/resolve/show take
    for name in ("rule", "severity", "status", "battery", "enterprise", "province", "day"):
        table.add_column(name)
    table.add_column("detail", overflow="fold")
    for alert in found:
        table.add_row(*_row(alert))
    out.print(table)
    if limit is None and len(found) == TABLE_ROWS:
        out.print(f"(the first {TABLE_ROWS}; more with --limit N or --json)")


def _show(data: dict[str, Any]) -> None:
    history = data.pop("history", [])
    for key, value in data.items():
        shown = orjson.dumps(value).decode() if isinstance(value, list) else value
        out.print(f"[bold]{key}[/bold]: {'' if shown is None else shown}", highlight=False)
    if history:
        table = Table("at", "status", "by", "comment")
        for change in history:
            table.add_row(
                change["at"], change["status"], change["by"] or "", change["comment"] or ""
            )
        out.print(table)


def _found(store: Store, alert_id: str) -> alert_service.Alert:
    alert = alert_service.get_alert(store, alert_id)
    if alert is None:
        from battrace.errors import NotFoundError

        raise NotFoundError(
            f"alert_id: alert {alert_id} does not exist", field="alert_id", rule="registered"
        )
    return alert


@alert_app.command("show")
def alerts_show(alert_id: str, db: DbOption = None, json: JsonOption = False) -> None:
    """One alert with its history."""
    with cli_store(db) as store:
        data = alert_service.alert_view(store, _found(store, alert_id))
    print_json(data) if json else _show(data)


def _acted(store: Store, alert: alert_service.Alert, json: bool) -> None:
    if json:
        print_json(alert_service.alert_view(store, alert))
    else:
        out.print(f"alert {alert.id} is {alert.status}", markup=False)


@alert_app.command("ack")
def alerts_ack(
    alert_id: str,
    by: ByOption,
    comment: Annotated[str | None, typer.Option(help="Why, or what is done about it.")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Acknowledge an open alert (open -> acknowledged)."""
    with cli_store(db) as store:
        _acted(store, alert_service.acknowledge(store, alert_id, by, comment), json)


@alert_app.command("resolve")
def alerts_resolve(
    alert_id: str,
    by: ByOption,
    comment: Annotated[str, typer.Option(help="Why it is resolved (1-2000 characters).")],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Resolve an open or acknowledged alert (-> resolved)."""
    with cli_store(db) as store:
        _acted(store, alert_service.resolve(store, alert_id, by, comment), json)


@alert_app.command("reopen")
def alerts_reopen(
    alert_id: str,
    by: ByOption,
    comment: Annotated[str, typer.Option(help="Why it is opened again (1-2000 characters).")],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Open a resolved alert again (resolved -> open)."""
    with cli_store(db) as store:
        _acted(store, alert_service.reopen(store, alert_id, by, comment), json)


@alert_app.command("counts")
def alerts_counts(
    by: Annotated[
        GroupBy, typer.Option("--by", help="Count per rule, severity, status or province.")
    ],
    status: Annotated[str | None, typer.Option(help="Only alerts in this status.")] = None,
    province: Annotated[str | None, typer.Option(help="Only in this province.")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """How many alerts per rule, severity, status or province."""
    with cli_store(db) as store:
        counts = alert_service.count_alerts(
            store, group_by=by.value, status=status, province=province
        )
    if json:
        print_json(counts)
        return
    table = Table(by.value, "alerts")
    for key, n in counts.items():
        table.add_row(key, f"{n:,}")
    out.print(table)


def _print_summary(data: dict[str, Any]) -> None:
    """A result's ``to_dict``: a table per mapping of counts, a line per other value."""
    for key, value in data.items():
        if isinstance(value, dict) and all(not isinstance(v, dict | list) for v in value.values()):
            table = Table(key, "", title=None)
            for name, n in value.items():
                table.add_row(str(name), f"{n:,}" if isinstance(n, int) else str(n))
            out.print(table)
        elif isinstance(value, float):
            out.print(f"{key}: {value:.2f}", markup=False)
        elif isinstance(value, dict | list):
            out.print(f"{key}: {orjson.dumps(value).decode()}", markup=False)
        else:
            out.print(f"{key}: {value}", markup=False)


@alert_app.command("sweep")
def alerts_sweep(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Evaluate as of this day (YYYY-MM-DD).")
    ] = None,
    engine: Annotated[
        SweepEngine, typer.Option(help="Evaluate in the store's SQL or in DuckDB.")
    ] = SweepEngine.STORE,
    parquet: Annotated[
        Path | None, typer.Option(help="DuckDB: read events from Parquet files in DIR.")
    ] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Run every supervision rule and reconcile the alerts with what they find."""
    from battrace.supervision.service import sweep

    day = date_field(as_of, "as_of") if as_of is not None else None
    started = time.perf_counter()
    with cli_store(db) as store:
        result = sweep(store, as_of=day, engine=engine.value, parquet_dir=parquet)
    data: dict[str, Any] = dict(result.to_dict())
    if json:
        print_json(data)
        return
    _print_summary(data)
    if "seconds" not in data:
        out.print(f"seconds: {time.perf_counter() - started:.2f}", markup=False)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


@alert_app.command("score")
def alerts_score(
    labels: Annotated[
        Path, typer.Option(help="Labels CSV of a simulation (battrace simulate --labels).")
    ],
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Compare the alerts with the violations a simulation labelled: precision and recall."""
    from battrace.supervision.score import score_alerts

    if not labels.is_file():
        raise ValidationError(f"labels: {labels} is not a file", field="labels", rule="exists")
    with cli_store(db) as store:
        report = score_alerts(store, labels)
    if json:
        print_json(report.to_dict())
        return
    table = Table("rule", "labels", "alerts", "true positives", "precision", "recall")
    for row in report.scores:
        table.add_row(
            row.rule,
            f"{row.labels:,}",
            f"{row.alerts:,}",
            f"{row.true_positives:,}",
            _share(row.precision),
            _share(row.recall),
        )
    for rule, alerts in sorted(report.unlabelled.items()):
        table.add_row(rule, "-", f"{alerts:,}", "-", "-", "-")
    out.print(table)
