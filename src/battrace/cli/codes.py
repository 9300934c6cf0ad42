"""Commands for GB/T 34014 battery codes."""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated

import typer

from battrace.cli.common import (
    JsonOption,
    code_app,
    print_json,
    print_mapping,
)
from battrace.codes import generate_battery_code, parse_battery_code
from battrace.domain.quantities import date_field
from battrace.errors import ValidationError


@code_app.command("parse")
def code_parse(code: str, json: JsonOption = False) -> None:
    """Parse a GB/T 34014 code into its fields (exit 1 naming position and rule if invalid)."""
    parsed = parse_battery_code(code).to_dict()
    print_json(parsed) if json else print_mapping(parsed)


@code_app.command("generate")
def code_generate(
    manufacturer: Annotated[str, typer.Option(help="3-character manufacturer code.")],
    product_type: Annotated[str, typer.Option(help="pack, module or cell.")] = "pack",
    battery_type: Annotated[str, typer.Option(help="Type letter: B LFP, E ternary ...")] = "B",
    spec: Annotated[str, typer.Option(help="2-character specification code.")] = "01",
    traceability: Annotated[str, typer.Option(help="7-character traceability code.")] = "0000001",
    production_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today).")] = None,
    serial: Annotated[int, typer.Option(help="First serial number of the day.")] = 1,
    count: Annotated[int, typer.Option(help="How many consecutive codes.")] = 1,
    second_life: Annotated[bool, typer.Option(help="Second-life (re-coded) form.")] = False,
    json: JsonOption = False,
) -> None:
    """Generate GB/T 34014 codes (consecutive serials)."""
    if not 1 <= count <= 1_000_000:
        raise ValidationError("count: must be 1 to 1000000", field="count", rule="range")
    day = date_field(production_date, "production_date") if production_date else date.today()
    codes = [
        generate_battery_code(
            manufacturer=manufacturer,
            product_type=product_type,
            battery_type=battery_type,
            spec=spec,
            traceability=None if second_life else traceability,
            production_date=day,
            serial=serial + i,
            second_life=second_life,
        )
        for i in range(count)
    ]
    if json:
        print_json(codes)
    else:
        sys.stdout.write("\n".join(codes) + "\n")
