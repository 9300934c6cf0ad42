"""The ``battrace`` command line: thin wrappers over the services.

Every command takes ``--db`` (a SQLite path or a ``postgresql://`` URL; default: the
``BATTRACE_DATABASE_URL`` environment variable, else ``./battrace.db``) and ``--json`` for
machine-readable output. Errors are turned into output in one place, :func:`main`: one line on
stderr, or the JSON error shape on stdout with ``--json``; the exit code is 1.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from battrace.codes import generate_battery_code, parse_battery_code
from battrace.config import load_settings
from battrace.errors import BattraceError, ValidationError
from battrace.services import audit as audit_service
from battrace.services import demo as demo_service
from battrace.services import enterprises as enterprise_service
from battrace.services import importing, queries, remote_audit
from battrace.services import keys as keys_service
from battrace.services import log as log_service
from battrace.services.reporting import report_event
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
enterprise_app.add_typer(key_app, name="key")
app.add_typer(enterprise_app, name="enterprise")
app.add_typer(code_app, name="code")
app.add_typer(log_app, name="log")
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


def _print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


@contextmanager
def _store(db: str | None) -> Iterator[Store]:
    settings = load_settings()
    target = db if db is not None else settings.database_target
    store = open_store(target)
    try:
        yield store
    finally:
        store.close()


@app.command()
def init(db: DbOption = None, json: JsonOption = False) -> None:
    """Create the database (or bring its schema up to date)."""
    with _store(db) as store:
        info = {
            "database": store.location,
            "dialect": store.dialect,
            "schema_version": store.schema_version(),
        }
    if json:
        _print_json(info)
    else:
        out.print(
            f"database ready: {info['database']} ({info['dialect']}, schema"
            f" v{info['schema_version']})"
        )


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
    since = _parse_date(whitelisted_since, "whitelisted_since") if whitelisted_since else None
    with _store(db) as store:
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
        _print_json(created.to_dict())
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
    with _store(db) as store:
        found = store.list_enterprises(role=role, province=province)
    if json:
        _print_json([e.to_dict() for e in found])
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
    with _store(db) as store:
        data = enterprise_service.enterprise_view(store, enterprise_id)
    _print_json(data) if json else _print_mapping(data)


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
    with _store(db) as store:
        change = enterprise_service.change_whitelist(
            store,
            enterprise_id,
            listed=listed,
            effective_date=_parse_date(effective, "date"),
            batch=batch,
            note=note,
        )
    if json:
        _print_json(change.to_dict())
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
    start = _parse_time(valid_from, "valid_from") if valid_from else None
    with _store(db) as store:
        key = keys_service.register_key(store, enterprise_id, public_key, valid_from=start)
    _print_json(key.to_dict()) if json else out.print(f"registered key {key.key_id}")


@key_app.command("revoke")
def key_revoke(
    key_id: str,
    at: Annotated[str | None, typer.Option(help="Revoked from (ISO 8601; default now).")] = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Revoke a key: signatures received from then on are refused."""
    when = _parse_time(at, "at") if at else None
    with _store(db) as store:
        key = keys_service.revoke_key(store, key_id, at=when)
    _print_json(key.to_dict()) if json else out.print(f"revoked {key.key_id} at {key.revoked_at}")


@key_app.command("list")
def key_list(enterprise_id: str, db: DbOption = None, json: JsonOption = False) -> None:
    """An enterprise's keys with their validity."""
    with _store(db) as store:
        found = [k.to_dict() for k in store.keys_of(enterprise_id)]
    if json:
        _print_json(found)
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
    """Make a signing key pair: the private key goes to --out (mode 600), the public key is
    printed for `battrace enterprise key add`."""
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
    _print_json(info) if json else out.print(f"public key {public} (key id {info['key_id']})")


def _signer(sign_key: Path | None, key_id: str | None) -> tuple[str, str] | None:
    if sign_key is None:
        return None
    from battrace.ledger.submission import key_id as id_of
    from battrace.ledger.submission import load_private_key, public_key_of

    text = sign_key.read_text(encoding="ascii")
    return text, key_id or id_of(public_key_of(load_private_key(text)))


def _parse_time(text: str, field: str) -> datetime:
    from battrace.domain.quantities import to_aware_datetime

    try:
        return to_aware_datetime(text)
    except ValueError as exc:
        raise ValidationError(f"{field}: {exc}", field=field, rule="datetime") from None


def _parse_date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{field}: {text!r} is not a YYYY-MM-DD date", field=field, rule="date"
        ) from None


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
        _import(file, "batteries", None, None, db, json)
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
        record["composition"] = _json_arg(composition, "composition")
    with _store(db) as store:
        stored = report_event(store, importing.battery_event(record), **_log_options())
    if json:
        _print_json(stored.to_dict())
    else:
        out.print(f"registered {code} (event {stored.id})")


def _json_arg(text: str, field: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(
            f"{field}: not valid JSON ({exc})", field=field, rule="json"
        ) from None


SignKeyOption = Annotated[
    Path | None, typer.Option(help="Sign with this private key file (battrace keygen).")
]


@app.command()
def report(
    event: Annotated[str, typer.Argument(help="The event as a JSON object, or - for stdin.")],
    sign_key: SignKeyOption = None,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Report one lifecycle event (signed with --sign-key)."""
    text = sys.stdin.read() if event == "-" else event
    data = _json_arg(text, "event")
    signer = _signer(sign_key, None)
    signed = keys_service.sign_events(signer[0], signer[1], [data]) if signer else None
    with _store(db) as store:
        stored = report_event(store, data, signed=signed, **_log_options())
    if json:
        _print_json(stored.to_dict())
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
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Import a file of events or batteries, streamed, all or nothing per batch."""
    _import(file, kind, fmt, batch_size, db, json, sign_key)


def _import(
    file: Path,
    kind: str,
    fmt: str | None,
    batch_size: int | None,
    db: str | None,
    json: bool,
    sign_key: Path | None = None,
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
    signer = _signer(sign_key, None)
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
    with _store(db) as store, _progress(show) as progress:
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
                **_log_options(),
            )
        finally:
            if not stdin:
                stream.close()
    if json:
        _print_json(outcome.to_dict())
    else:
        out.print(f"imported {outcome.accepted} events in {outcome.batches} batch(es)")


@contextmanager
def _progress(show: bool) -> Iterator[Progress]:
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


@app.command()
def show(code: str, db: DbOption = None, json: JsonOption = False) -> None:
    """Show a battery: state, holder, place, composition, links and full history."""
    with _store(db) as store:
        data = queries.battery_view(store, code)
    if json:
        _print_json(data)
        return
    history = data.pop("history")
    _print_mapping(data)
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
    with _store(db) as store:
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
        _print_json(page)
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
    with _store(db) as store:
        items = queries.pending_shipments(store, receiver)
    if json:
        _print_json(items)
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
    with _store(db) as store, _progress(not json and err.is_terminal) as progress:
        task = progress.add_task("loading demo", total=None)
        info = demo_service.load_demo(
            store,
            batteries,
            seed=seed,
            on_progress=lambda n: progress.update(task, completed=n),
            **_log_options(),
        )
    if json:
        _print_json(info)
    elif info["loaded"]:
        out.print(f"demo loaded: {info['events']} events")
    else:
        out.print(f"database already has {info['events']} events; demo not loaded again")


@code_app.command("parse")
def code_parse(code: str, json: JsonOption = False) -> None:
    """Parse a GB/T 34014 code into its fields (exit 1 naming position and rule if invalid)."""
    parsed = parse_battery_code(code).to_dict()
    _print_json(parsed) if json else _print_mapping(parsed)


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
    day = _parse_date(production_date, "production_date") if production_date else date.today()
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
        _print_json(codes)
    else:
        sys.stdout.write("\n".join(codes) + "\n")


def _log_options() -> dict[str, Any]:
    settings = load_settings()
    return {
        "log_key_file": settings.log_key_file,
        "log_policy": log_service.CheckpointPolicy(
            settings.checkpoint_leaves, settings.checkpoint_seconds
        ),
    }


@log_app.command("checkpoint")
def log_checkpoint(db: DbOption = None, json: JsonOption = False) -> None:
    """Print the current signed checkpoint note (published first if the log has grown)."""
    with _store(db) as store:
        found = log_service.current_checkpoint(store, load_settings().log_key_file)
    if json:
        _print_json({"size": found.size, "root": found.root.hex(), "note": found.note})
    else:
        sys.stdout.write(found.note)


@log_app.command("key")
def log_key(db: DbOption = None, json: JsonOption = False) -> None:
    """Print the log's verifier key (name+hash+base64key), all an auditor needs to trust."""
    with _store(db) as store:
        key = log_service.log_verifier_key(store, load_settings().log_key_file)
    if json:
        _print_json({"verifier_key": key})
    else:
        sys.stdout.write(key + "\n")


@log_app.command("leaf")
def log_leaf(index: int, db: DbOption = None, json: JsonOption = False) -> None:
    """Print leaf INDEX: its exact bytes (base64) and its event."""
    with _store(db) as store:
        data = log_service.leaf(store, index)
    _print_json(data) if json else _print_mapping(data)


@log_app.command("tile")
def log_tile(path: str, db: DbOption = None) -> None:
    """Write the bytes of a C2SP tile or entry bundle (e.g. tile/0/000.p/5) to stdout."""
    with _store(db) as store:
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
    with _store(db) as store:
        data = log_service.inclusion(store, index, size)
    _print_json(data) if json else _print_mapping(data)


@proof_app.command("consistency")
def proof_consistency(old: int, new: int, db: DbOption = None, json: JsonOption = False) -> None:
    """Consistency proof between tree sizes OLD and NEW (hex hashes)."""
    with _store(db) as store:
        data = log_service.consistency(store, old, new)
    _print_json(data) if json else _print_mapping(data)


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
        with _store(db) as store, _progress(not json and err.is_terminal) as progress:
            trusted = key or log_service.log_verifier_key(store, load_settings().log_key_file)
            task = progress.add_task("verifying", total=None)
            report = audit_service.verify_log(
                store,
                trusted,
                extra_checkpoints=notes,
                on_progress=lambda n: progress.update(task, completed=n),
            )
    if json:
        _print_json(report.to_dict())
    elif report.ok:
        out.print(f"ok: {report.leaves} leaves, {report.checkpoints} checkpoints verified")
    else:
        err.print(f"FAILED after {report.leaves} leaves: {report.problems[0]}", markup=False)
        for problem in report.problems[1:]:
            err.print(f"also: {problem}", markup=False)
    if not report.ok:
        raise typer.Exit(1)


def _print_mapping(data: dict[str, Any]) -> None:
    for key, value in data.items():
        shown = orjson.dumps(value).decode() if isinstance(value, dict | list) else value
        out.print(f"[bold]{key}[/bold]: {'' if shown is None else shown}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; the one place that turns errors into output and exit codes."""
    args = sys.argv[1:] if argv is None else argv
    try:
        # standalone mode: click prints usage errors itself and exits 2
        app(args=args, standalone_mode=True)
    except BattraceError as exc:
        if "--json" in args:
            _print_json(exc.to_dict())
        else:
            err.print(f"error: {exc.message}", markup=False)
        return 1
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


__all__ = ["app", "main"]


if __name__ == "__main__":
    raise SystemExit(main())
