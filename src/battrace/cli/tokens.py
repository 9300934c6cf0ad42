"""Commands for enterprises' HTTP API tokens: create (shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from battrace.cli.common import DbOption, JsonOption, cli_store, out, print_json, token_app
from battrace.codes import validate_credit_code
from battrace.config import load_settings
from battrace.services import tokens as token_service


@token_app.command("create")
def token_create(
    enterprise_id: str,
    label: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
    days: Annotated[
        int | None, typer.Option(help="Days valid (default BATTRACE_API_TOKEN_DAYS).")
    ] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Make an API token for ENTERPRISE_ID. It is printed once; only its hash is kept."""
    enterprise = validate_credit_code(enterprise_id, field="enterprise_id")
    valid_days = days if days is not None else load_settings().api_token_days
    with cli_store(db) as store:
        token, text = token_service.create_token(store, enterprise, label=label, days=valid_days)
    if json:
        print_json({"token": text, **token.to_dict()})
    else:
        out.print(text, markup=False)
        out.print(
            f"token {token.token_id} for {token.enterprise_id}, valid until {token.expires_at};"
            " keep it now, it is not shown again",
            markup=False,
        )


@token_app.command("revoke")
def token_revoke(token_id: str, db: DbOption = None, json: JsonOption = False) -> None:
    """Revoke token TOKEN_ID (from `battrace token list`): refused from now on."""
    with cli_store(db) as store:
        token = token_service.revoke_token(store, token_id)
    print_json(token.to_dict()) if json else out.print(f"revoked {token.token_id}")


@token_app.command("list")
def token_list(
    enterprise_id: Annotated[str | None, typer.Argument(help="Only this enterprise's.")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """API tokens (never the tokens themselves): id, enterprise, label, validity."""
    enterprise = (
        validate_credit_code(enterprise_id, field="enterprise_id") if enterprise_id else None
    )
    with cli_store(db) as store:
        found = [t.to_dict() for t in store.api_tokens(enterprise)]
    if json:
        print_json(found)
        return
    table = Table("token id", "enterprise", "label", "created", "expires", "revoked")
    for t in found:
        table.add_row(
            t["token_id"],
            t["enterprise_id"],
            t["label"] or "",
            t["created_at"],
            t["expires_at"],
            t["revoked_at"] or "",
        )
    out.print(table)
