"""Commands for the tamper-evident log and the auditor."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from battrace.cli.common import (
    DbOption,
    JsonOption,
    app,
    cli_store,
    err,
    log_app,
    out,
    print_json,
    print_mapping,
    progress_bar,
    proof_app,
)
from battrace.config import load_settings
from battrace.errors import ValidationError
from battrace.services import audit as audit_service
from battrace.services import log as log_service
from battrace.services import remote_audit


@log_app.command("checkpoint")
def log_checkpoint(db: DbOption = None, json: JsonOption = False) -> None:
    """Print the current signed checkpoint note (published first if the log has grown)."""
    with cli_store(db) as store:
        found = log_service.current_checkpoint(store, load_settings().log_key_file)
    if json:
        print_json({"size": found.size, "root": found.root.hex(), "note": found.note})
    else:
        sys.stdout.write(found.note)


@log_app.command("key")
def log_key(db: DbOption = None, json: JsonOption = False) -> None:
    """Print the log's verifier key (name+hash+base64key), all an auditor needs to trust."""
    with cli_store(db) as store:
        key = log_service.log_verifier_key(store, load_settings().log_key_file)
    if json:
        print_json({"verifier_key": key})
    else:
        sys.stdout.write(key + "\n")


@log_app.command("leaf")
def log_leaf(index: int, db: DbOption = None, json: JsonOption = False) -> None:
    """Print leaf INDEX: its exact bytes (base64) and its event."""
    with cli_store(db) as store:
        data = log_service.leaf(store, index)
    print_json(data) if json else print_mapping(data)


@log_app.command("tile")
def log_tile(path: str, db: DbOption = None) -> None:
    """Write the bytes of a C2SP tile or entry bundle (e.g. tile/0/000.p/5) to stdout."""
    with cli_store(db) as store:
        data = log_service.tile(store, path.lstrip("/"))
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


@proof_app.command("inclusion")
def proof_inclusion(
    index: int,
    size: Annotated[
        int | None, typer.Option(help="Tree size (default: latest checkpoint).")
    ] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Inclusion proof of leaf INDEX (hex hashes)."""
    with cli_store(db) as store:
        data = log_service.inclusion(store, index, size)
    print_json(data) if json else print_mapping(data)


@proof_app.command("consistency")
def proof_consistency(old: int, new: int, db: DbOption = None, json: JsonOption = False) -> None:
    """Consistency proof between tree sizes OLD and NEW (hex hashes)."""
    with cli_store(db) as store:
        data = log_service.consistency(store, old, new)
    print_json(data) if json else print_mapping(data)


@app.command()
def verify(
    key: Annotated[
        str | None, typer.Option(help="The log's verifier key to trust (default: the store's).")
    ] = None,
    checkpoint: Annotated[
        list[Path] | None, typer.Option(help="A signed checkpoint saved elsewhere (repeatable).")
    ] = None,
    remote: Annotated[
        str | None, typer.Option(help="Audit a server's log through its tiles (base URL).")
    ] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Audit the whole log: every leaf, the tree, every checkpoint. Exit 0 only if all holds."""
    notes = [p.read_text(encoding="utf-8") for p in checkpoint or []]
    if remote is not None:
        if key is None:
            raise ValidationError(
                "key: auditing a remote log needs the verifier key to trust (--key)",
                field="key",
                rule="required",
            )
        report = remote_audit.verify_remote(
            remote_audit.http_fetcher(remote), key, extra_checkpoints=notes
        )
    else:
        with cli_store(db) as store, progress_bar(not json and err.is_terminal) as progress:
            trusted = key or log_service.log_verifier_key(store, load_settings().log_key_file)
            task = progress.add_task("verifying", total=None)
            report = audit_service.verify_log(
                store,
                trusted,
                extra_checkpoints=notes,
                on_progress=lambda n: progress.update(task, completed=n),
            )
    if json:
        print_json(report.to_dict())
    elif report.ok:
        out.print(f"ok: {report.leaves} leaves, {report.checkpoints} checkpoints verified")
    else:
        err.print(f"FAILED after {report.leaves} leaves: {report.problems[0]}", markup=False)
        for problem in report.problems[1:]:
            err.print(f"also: {problem}", markup=False)
    if not report.ok:
        raise typer.Exit(1)
