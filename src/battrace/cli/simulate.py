"""Commands of the national-scale simulator: ``simulate`` and ``simulate-load``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from battrace.cli.common import (
    DbOption,
    JsonOption,
    app,
    cli_store,
    err,
    log_options,
    out,
    print_json,
    progress_bar,
)
from battrace.domain.quantities import date_field
from battrace.errors import ValidationError
from battrace.simulate import (
    RULES,
    SimConfig,
    ingest_files,
    ingest_simulation,
    parse_rates,
    write_simulation,
)
from battrace.simulate import parameters as params
from battrace.simulate.ingest import DEFAULT_BATCH
from battrace.simulate.violations import label_writer

_RULE_LIST = ", ".join(RULES)


@app.command()
def simulate(
    batteries: Annotated[
        int, typer.Option(help="Packs sold with new vehicles (1 to 10,000,000).")
    ] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed and options, same data.")] = 1,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write NDJSON events here (and .refused/.enterprises siblings) instead of"
            " loading a database.",
        ),
    ] = None,
    labels: Annotated[
        Path | None, typer.Option(help="Write the ground-truth labels CSV here.")
    ] = None,
    start_year: Annotated[
        int, typer.Option(help=f"First production year ({params.FIRST_YEAR}-{params.LAST_YEAR}).")
    ] = params.FIRST_YEAR,
    end_year: Annotated[
        int, typer.Option(help=f"Last production year ({params.FIRST_YEAR}-{params.LAST_YEAR}).")
    ] = params.LAST_YEAR,
    until: Annotated[
        str | None,
        typer.Option(help="Follow lives until this day (YYYY-MM-DD; default end of end-year)."),
    ] = None,
    violation_rate: Annotated[
        float | None, typer.Option(help="Injection rate of every rule (0 to 1; 0 = none).")
    ] = None,
    violation: Annotated[
        list[str] | None,
        typer.Option(help=f"RULE=RATE, repeatable; rules: {_RULE_LIST}."),
    ] = None,
    cells: Annotated[
        bool, typer.Option("--cells", help="Give new packs a cell -> module -> pack structure.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(help="Events per import transaction (with a database).")
    ] = DEFAULT_BATCH,
    if_empty: Annotated[
        bool,
        typer.Option(
            "--if-empty", help="Leave a database that already has events as it is (make run)."
        ),
    ] = False,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Simulate batteries through their whole life: into a database, or to NDJSON files."""
    if db is not None and out_file is not None:
        raise ValidationError(
            "out: --out and --db cannot be used together; choose one", field="out", rule="choice"
        )
    config = SimConfig(
        batteries=batteries,
        seed=seed,
        start_year=start_year,
        end_year=end_year,
        until=date_field(until, "until") if until else None,
        rates=parse_rates(violation_rate, violation or []),
        cells=cells,
    )
    show = not json and err.is_terminal
    info: dict[str, Any] = {"options": config.describe()}
    if out_file is not None:
        with progress_bar(show) as progress:
            task = progress.add_task("simulating", total=None)
            summary = write_simulation(
                config,
                out_file,
                labels=labels,
                on_progress=lambda n: progress.update(task, completed=n),
            )
        info.update(summary.to_dict())
        if json:
            print_json(info)
            return
        out.print(
            f"wrote {summary.events} events to {out_file} ({summary.refused} refused-by-rule"
            f" events to {summary.files['refused']}, {summary.enterprises} enterprises to"
            f" {summary.files['enterprises']}); {info['labels']} labels"
        )
        return
    if if_empty:
        with cli_store(db) as store:
            existing = store.count("events")
            if existing:
                info.update(database=store.location, loaded=False, events=existing)
                if json:
                    print_json(info)
                else:
                    out.print(f"{store.location} already has {existing} events; left as it is")
                return
    label_file = labels.open("w", encoding="utf-8", newline="") if labels is not None else None
    try:
        write = label_writer(label_file) if label_file is not None else None
        with cli_store(db) as store, progress_bar(show) as progress:
            task = progress.add_task("simulating", total=None)
            result = ingest_simulation(
                store,
                config,
                labels=write,
                batch_size=batch_size,
                on_progress=lambda n: progress.update(task, completed=n),
                **log_options(),
            )
            info["database"] = store.location
    finally:
        if label_file is not None:
            label_file.close()
    _report(info, result.to_dict(), json)


@app.command("simulate-load")
def simulate_load(
    file: Annotated[Path, typer.Argument(help="Events file written by simulate --out.")],
    batch_size: Annotated[int, typer.Option(help="Events per import transaction.")] = DEFAULT_BATCH,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Load files written by simulate --out (enterprises, events, refused events)."""
    with cli_store(db) as store, progress_bar(not json and err.is_terminal) as progress:
        task = progress.add_task("loading", total=None)
        result = ingest_files(
            store,
            file,
            batch_size=batch_size,
            on_progress=lambda n: progress.update(task, completed=n),
            **log_options(),
        )
        info: dict[str, Any] = {"database": store.location}
    _report(info, result.to_dict(), json)


def _report(info: dict[str, Any], counts: dict[str, Any], json: bool) -> None:
    info.update(counts)
    if json:
        print_json(info)
        return
    out.print(
        f"simulated into {info['database']}: {info['enterprises_added']} enterprises,"
        f" {info['accepted']} events accepted, {info['expected_rejections']} refused as"
        f" expected, {info['unexpected_rejections']} refused unexpectedly"
    )
    for problem in info["problems"]:
        err.print(f"unexpected: {problem}", markup=False)
