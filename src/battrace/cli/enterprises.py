"""Commands for enterprises, their whitelist history and their signing keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from battrace.cli.common import (
    DbOption,
    JsonOption,
    app,
    cli_store,
    enterprise_app,
    key_app,
    out,
    print_json,
    print_mapping,
)
from battrace.domain.quantities import date_field, time_field
from battrace.errors import ValidationError
from battrace.services import enterprises as enterprise_service
from battrace.services import keys as keys_service


@enterprise_app.command("add")
def enterprise_add(
    credit_code: Annotated[str, typer.Option(help="Unified social credit code (GB 32100).")],
    name: Annotated[str, typer.Option(help="Registered name.")],
    roles: Annotated[str, typer.Option(help="Comma-separated roles, e.g. battery_maker.")],
    division: Annotated[str, typer.Option(help="GB/T 2260 division code of the seat.")],
    manufacturer_code: Annotated[
        str | None, typer.Option(help="3-character GB/T 34014 manufacturer code.")
    ] = None,
    whitelisted_since: Annotated[
        str | None, typer.Option(help="Whitelisted from this date (YYYY-MM-DD).")
    ] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Register an enterprise with its roles."""
    since = date_field(whitelisted_since, "whitelisted_since") if whitelisted_since else None
    with cli_store(db) as store:
        created = enterprise_service.register_enterprise(
            store,
            credit_code=credit_code,
            name=name,
            roles=roles,
            division=division,
            manufacturer_code=manufacturer_code,
            whitelisted_since=since,
        )
    if json:
        print_json(created.to_dict())
    else:
        out.print(f"registered {created.id} {created.name}")


@enterprise_app.command("list")
def enterprise_list(
    role: Annotated[str | None, typer.Option(help="Only enterprises with this role.")] = None,
    province: Annotated[str | None, typer.Option(help="Only this province (e.g. 310000).")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """List enterprises."""
    with cli_store(db) as store:
        found = store.list_enterprises(role=role, province=province)
    if json:
        print_json([e.to_dict() for e in found])
        return
    table = Table("id", "name", "roles", "division", "maker code", "whitelisted")
    for e in found:
        table.add_row(
            e.id,
            e.name,
            ",".join(sorted(e.roles)),
            e.division,
            e.manufacturer_code or "",
            "yes" if e.whitelisted else "no",
        )
    out.print(table)


@enterprise_app.command("show")
def enterprise_show(enterprise_id: str, db: DbOption = None, json: JsonOption = False) -> None:
    """Show an enterprise and its whitelist history."""
    with cli_store(db) as store:
        data = enterprise_service.enterprise_view(store, enterprise_id)
    print_json(data) if json else print_mapping(data)


@enterprise_app.command("whitelist")
def enterprise_whitelist(
    enterprise_id: str,
    listed: Annotated[bool, typer.Option("--listed/--delisted", help="Enters or leaves.")],
    effective: Annotated[str, typer.Option("--date", help="Effective date (YYYY-MM-DD).")],
    batch: Annotated[str | None, typer.Option(help="Published batch.")] = None,
    note: Annotated[str | None, typer.Option(help="Free note.")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Record a whitelist change (history is kept)."""
    with cli_store(db) as store:
        change = enterprise_service.change_whitelist(
            store,
            enterprise_id,
            listed=listed,
            effective_date=date_field(effective, "date"),
            batch=batch,
            note=note,
        )
    if json:
        print_json(change.to_dict())
    else:
        out.print(f"{enterprise_id} {'listed' if listed else 'delisted'} from {effective}")


@key_app.command("add")
def key_add(
    enterprise_id: str,
    public_key: Annotated[str, typer.Option(help="Base64 Ed25519 public key (battrace keygen).")],
    valid_from: Annotated[
        str | None, typer.Option(help="Accept signatures from (ISO 8601; default now).")
    ] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Register a signing key; from then on the enterprise's reports must be signed."""
    start = time_field(valid_from, "valid_from") if valid_from else None
    with cli_store(db) as store:
        key = keys_service.register_key(store, enterprise_id, public_key, valid_from=start)
    print_json(key.to_dict()) if json else out.print(f"registered key {key.key_id}")


@key_app.command("revoke")
def key_revoke(
    key_id: str,
    at: Annotated[str | None, typer.Option(help="Revoked from (ISO 8601; default now).")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Revoke a key: signatures received from then on are refused."""
    when = time_field(at, "at") if at else None
    with cli_store(db) as store:
        key = keys_service.revoke_key(store, key_id, at=when)
    print_json(key.to_dict()) if json else out.print(f"revoked {key.key_id} at {key.revoked_at}")


@key_app.command("list")
def key_list(enterprise_id: str, db: DbOption = None, json: JsonOption = False) -> None:
    """An enterprise's keys with their validity."""
    with cli_store(db) as store:
        found = [k.to_dict() for k in store.keys_of(enterprise_id)]
    if json:
        print_json(found)
        return
    table = Table("key id", "valid from", "revoked at")
    for k in found:
        table.add_row(k["key_id"], k["valid_from"], k["revoked_at"] or "")
    out.print(table)


@app.command()
def keygen(
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the private key.")],
    json: JsonOption = False,
) -> None:
    """Make a signing key pair: private key to --out (mode 600), public key printed."""
    from battrace.ledger.submission import decode_public_key, generate_key, key_id

    if out_file.exists():
        raise ValidationError(f"out: {out_file} exists; not overwritten", field="out", rule="new")
    private, public = generate_key()
    out_file.touch(mode=0o600)
    out_file.write_text(private + "\n", encoding="ascii")
    info = {
        "public_key": public,
        "key_id": key_id(decode_public_key(public)),
        "private_key_file": str(out_file),
    }
    print_json(info) if json else out.print(f"public key {public} (key id {info['key_id']})")
