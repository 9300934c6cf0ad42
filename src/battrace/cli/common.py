"""What every command shares: the Typer apps, options, output, opening the store."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from battrace.config import load_settings
from battrace.errors import ValidationError
from battrace.services import log as log_service
from battrace.store import Store, open_store

app = typer.Typer(
    help="battrace: traceability and supervision of EV power batteries.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
enterprise_app = typer.Typer(help="Register and list enterprises.", no_args_is_help=True)
code_app = typer.Typer(help="Parse and generate GB/T 34014 battery codes.", no_args_is_help=True)
log_app = typer.Typer(
    help="The tamper-evident log: checkpoints, keys, leaves, proofs.", no_args_is_help=True
)
proof_app = typer.Typer(help="Inclusion and consistency proofs.", no_args_is_help=True)
key_app = typer.Typer(help="Enterprise signing keys.", no_args_is_help=True)
token_app = typer.Typer(help="HTTP API tokens of enterprises.", no_args_is_help=True)
enterprise_app.add_typer(key_app, name="key")
app.add_typer(enterprise_app, name="enterprise")
app.add_typer(code_app, name="code")
app.add_typer(log_app, name="log")
app.add_typer(token_app, name="token")
log_app.add_typer(proof_app, name="proof")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="SQLite file or postgresql:// URL (default: ./battrace.db).", envvar=None
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


@contextmanager
def cli_store(db: str | None) -> Iterator[Store]:
    settings = load_settings()
    target = db if db is not None else settings.database_target
    store = open_store(target)
    try:
        yield store
    finally:
        store.close()


def signer_of(sign_key: Path | None, key_id: str | None) -> tuple[str, str] | None:
    if sign_key is None:
        return None
    from battrace.ledger.submission import key_id as id_of
    from battrace.ledger.submission import load_private_key, public_key_of

    text = sign_key.read_text(encoding="ascii")
    return text, key_id or id_of(public_key_of(load_private_key(text)))


def json_arg(text: str, field: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(
            f"{field}: not valid JSON ({exc})", field=field, rule="json"
        ) from None


SignKeyOption = Annotated[
    Path | None, typer.Option(help="Sign with this private key file (battrace keygen).")
]


@contextmanager
def progress_bar(show: bool) -> Iterator[Progress]:
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,} events"),
        TimeElapsedColumn(),
        console=err,
        disable=not show,
        transient=True,
    )
    with progress:
        yield progress


def log_options() -> dict[str, Any]:
    settings = load_settings()
    return {
        "log_key_file": settings.log_key_file,
        "log_policy": log_service.CheckpointPolicy(
            settings.checkpoint_leaves, settings.checkpoint_seconds
        ),
    }


def print_mapping(data: dict[str, Any]) -> None:
    for key, value in data.items():
        shown = orjson.dumps(value).decode() if isinstance(value, dict | list) else value
        out.print(f"[bold]{key}[/bold]: {'' if shown is None else shown}")
