"""Commands that register batteries, report and import events, and read them back."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from battrace.cli.common import (
    DbOption,
    JsonOption,
    SignKeyOption,
    app,
    cli_store,
    err,
    json_arg,
    log_options,
    out,
    print_json,
    print_mapping,
    progress_bar,
    signer_of,
)
from battrace.config import load_settings
from battrace.errors import ValidationError
from battrace.services import demo as demo_service
from battrace.services import importing, queries
from battrace.services import keys as keys_service
from battrace.services.reporting import report_event
from battrace.supervision.config import load_settings as load_rule_settings
from battrace.supervision.incremental import AlertUpdater


@app.command()
def init(db: DbOption = None, json: JsonOption = False) -> None:
    """Create the database (or bring its schema up to date)."""
    with cli_store(db) as store:
        info = {
            "database": store.location,
            "dialect": store.dialect,
            "schema_version": store.schema_version(),
        }
    if json:
        print_json(info)
    else:
        out.print(
            f"database ready: {info['database']} ({info['dialect']}, schema"
            f" v{info['schema_version']})"
        )


@app.command()
def register(
    code: Annotated[str | None, typer.Argument(help="Battery code (omit with --file).")] = None,
    maker: Annotated[str | None, typer.Option(help="Credit code of the maker.")] = None,
    chemistry: Annotated[str | None, typer.Option(help="LFP, NCM, NCA, ...")] = None,
    capacity: Annotated[str | None, typer.Option(help="Rated capacity, Ah.")] = None,
    voltage: Annotated[str | None, typer.Option(help="Nominal voltage, V.")] = None,
    energy: Annotated[str | None, typer.Option(help="Energy, kWh.")] = None,
    mass: Annotated[str | None, typer.Option(help="Mass, kg.")] = None,
    composition: Annotated[
        str | None, typer.Option(help='Material kg as JSON, e.g. {"li": "1.2"}.')
    ] = None,
    children: Annotated[
        str | None, typer.Option(help="Codes of units inside, comma-separated.")
    ] = None,
    file: Annotated[Path | None, typer.Option(help="NDJSON or CSV of battery records.")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Register one battery, or many from a file (all or nothing)."""
    if file is not None:
        import_events_file(file, "batteries", None, None, db, json)
        return
    if code is None:
        raise ValidationError("code: give a battery code or --file", field="code", rule="required")
    record: dict[str, Any] = {
        "code": code,
        "maker": maker,
        "chemistry": chemistry,
        "rated_capacity_ah": capacity,
        "nominal_voltage_v": voltage,
        "energy_kwh": energy,
        "mass_kg": mass,
        "children": children or [],
    }
    if composition:
        record["composition"] = json_arg(composition, "composition")
    with cli_store(db) as store:
        stored = report_event(store, importing.battery_event(record), **log_options())
    if json:
        print_json(stored.to_dict())
    else:
        out.print(f"registered {code} (event {stored.id})")


@app.command()
def report(
    event: Annotated[str, typer.Argument(help="The event as a JSON object, or - for stdin.")],
    sign_key: SignKeyOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Report one lifecycle event (signed with --sign-key)."""
    text = sys.stdin.read() if event == "-" else event
    data = json_arg(text, "event")
    signer = signer_of(sign_key, None)
    signed = keys_service.sign_events(signer[0], signer[1], [data]) if signer else None
    with cli_store(db) as store:
        stored = report_event(store, data, signed=signed, **log_options())
    if json:
        print_json(stored.to_dict())
    else:
        out.print(f"accepted event {stored.id} ({stored.type})")


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="NDJSON or CSV file, - for NDJSON on stdin.")],
    kind: Annotated[str, typer.Option(help="events or batteries.")] = "events",
    fmt: Annotated[str | None, typer.Option("--format", help="ndjson or csv.")] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Commit every N lines (default: whole file at once).")
    ] = None,
    sign_key: SignKeyOption = None,
    alerts: Annotated[
        bool,
        typer.Option(
            "--alerts/--no-alerts",
            help="Update the alerts of the batteries the import touched, at its end (a bulk"
            " load of history may skip it and run `battrace alerts sweep` once).",
        ),
    ] = True,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Import a file of events or batteries, streamed, all or nothing per batch."""
    import_events_file(file, kind, fmt, batch_size, db, json, sign_key, alerts=alerts)


def import_events_file(
    file: Path,
    kind: str,
    fmt: str | None,
    batch_size: int | None,
    db: str | None,
    json: bool,
    sign_key: Path | None = None,
    *,
    alerts: bool = True,
) -> None:
    if kind not in ("events", "batteries"):
        raise ValidationError("kind: must be events or batteries", field="kind", rule="choice")
    stdin = str(file) == "-"
    fmt_name = "ndjson" if stdin and fmt is None else importing.detect_format(file, fmt)
    if not stdin and not file.is_file():
        raise ValidationError(f"file: {file} does not exist", field="file", rule="exists")
    settings = load_settings()
    show = not json and err.is_terminal
    signed = None
    signer = signer_of(sign_key, None)
    if signer is not None:
        if stdin or batch_size is not None:
            raise ValidationError(
                "sign_key: a signed import is one file read twice, in one batch",
                field="sign_key",
                rule="one_batch",
            )
        with file.open("rb") as first_pass:
            items = importing.read_file(first_pass, fmt_name, kind)
            datas = (i.data for i in items if isinstance(i.data, dict))
            signed = keys_service.sign_events(signer[0], signer[1], datas)
    # the alerts of the batteries the import touched are brought up to date at the end (also
    # after a failed batch: the batches before it are in); past the first chunk of events, on a
    # machine with a core to spare, by a worker process that gets ready while the import runs
    updater = AlertUpdater(settings=load_rule_settings(settings.supervision_rules))
    sinks = [updater] if alerts else []
    with cli_store(db) as store, progress_bar(show) as progress, updater:
        if alerts:
            updater.start_worker(store, after_events=settings.import_chunk)
        task = progress.add_task("importing", total=None)
        stream = sys.stdin.buffer if stdin else file.open("rb")
        try:
            outcome = importing.import_items(
                store,
                importing.read_file(stream, fmt_name, kind),
                batch_size=batch_size,
                chunk_size=settings.import_chunk,
                on_progress=lambda n: progress.update(task, completed=n),
                signed=signed,
                sinks=sinks,
                **log_options(),
            )
        finally:
            if not stdin:
                stream.close()
            changed = updater.flush(store) if alerts else {}
    if json:
        print_json({**outcome.to_dict(), "alerts": changed})
    else:
        out.print(f"imported {outcome.accepted} events in {outcome.batches} batch(es)")
        if changed:
            out.print(
                f"alerts: {changed.get('opened', 0)} opened, {changed.get('cleared', 0)} cleared"
            )


@app.command()
def show(code: str, db: DbOption = None, json: JsonOption = False) -> None:
    """Show a battery: state, holder, place, composition, links and full history."""
    with cli_store(db) as store:
        data = queries.battery_view(store, code)
    if json:
        print_json(data)
        return
    history = data.pop("history")
    print_mapping(data)
    table = Table("id", "type", "occurred", "actor", "counterparty", "place")
    for e in history:
        table.add_row(
            str(e["id"]),
            e["type"] + (" (corrected)" if "corrected_by" in e else ""),
            e["occurred_at"],
            e["actor"],
            e["counterparty"] or "",
            e["place"] or "",
        )
    out.print(table)


@app.command()
def batteries(
    holder: Annotated[str | None, typer.Option(help="Holder's credit code.")] = None,
    state: Annotated[str | None, typer.Option(help="State, e.g. retired.")] = None,
    maker: Annotated[str | None, typer.Option(help="Maker's credit code.")] = None,
    province: Annotated[str | None, typer.Option(help="Province code, e.g. 310000.")] = None,
    after: Annotated[
        str | None, typer.Option(help="Cursor: last code of the previous page.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Page size.")] = 100,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """List batteries by holder, state, maker or province (cursor pages)."""
    with cli_store(db) as store:
        page = queries.list_batteries(
            store,
            holder=holder,
            state=state,
            maker=maker,
            province=province,
            after=after,
            limit=limit,
        )
    if json:
        print_json(page)
        return
    table = Table("code", "level", "state", "holder", "province", "vin")
    for b in page["items"]:
        table.add_row(
            b["code"],
            b["level"],
            b["state"],
            b["holder"] or "",
            b["province"] or "",
            b["vin"] or "",
        )
    out.print(table)
    if page["next"]:
        out.print(f"more: --after {page['next']}")


@app.command()
def pending(receiver: str, db: DbOption = None, json: JsonOption = False) -> None:
    """Shipments addressed to RECEIVER not yet received."""
    with cli_store(db) as store:
        items = queries.pending_shipments(store, receiver)
    if json:
        print_json(items)
        return
    table = Table("battery", "from", "shipped event", "shipped at")
    for i in items:
        table.add_row(i["battery"], i["from"], str(i["shipped_event"]), i["shipped_at"])
    out.print(table)


@app.command()
def demo(
    batteries: Annotated[
        int, typer.Option(help="How many packs to walk through their life.")
    ] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Load the demo world into an empty database (does nothing if it has events)."""
    if not 1 <= batteries <= 10_000_000:
        raise ValidationError("batteries: must be 1 to 10000000", field="batteries", rule="range")
    with cli_store(db) as store, progress_bar(not json and err.is_terminal) as progress:
        task = progress.add_task("loading demo", total=None)
        info = demo_service.load_demo(
            store,
            batteries,
            seed=seed,
            on_progress=lambda n: progress.update(task, completed=n),
            **log_options(),
        )
    if json:
        print_json(info)
    elif info["loaded"]:
        out.print(f"demo loaded: {info['events']} events")
    else:
        out.print(f"database already has {info['events']} events; demo not loaded again")
