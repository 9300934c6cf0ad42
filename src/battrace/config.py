"""Settings: one typed object, read from the environment (and command-line options).

Every setting is declared once in :data:`SETTINGS` with its environment variable, default and
help; ``docs/settings.md`` lists them and a test fails when one is missing there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SettingSpec:
    name: str
    env: str
    default: str | None
    help: str


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "database_url",
        "BATTRACE_DATABASE_URL",
        None,
        "PostgreSQL URL (postgresql://...). When set it is used instead of the SQLite file.",
    ),
    SettingSpec(
        "db_path",
        "BATTRACE_DB",
        "battrace.db",
        "Path of the embedded SQLite database, used when no database URL is set.",
    ),
    SettingSpec(
        "log_key_file",
        "BATTRACE_LOG_KEY_FILE",
        None,
        "File holding the log's Ed25519 signer key (PRIVATE+KEY+...). Default: a key made on"
        " first use and kept in the database.",
    ),
    SettingSpec(
        "checkpoint_leaves",
        "BATTRACE_CHECKPOINT_LEAVES",
        "1000",
        "Publish a new signed checkpoint after this many new leaves.",
    ),
    SettingSpec(
        "checkpoint_seconds",
        "BATTRACE_CHECKPOINT_SECONDS",
        "60",
        "Publish a new signed checkpoint when the last is this old and the log has grown.",
    ),
    SettingSpec(
        "import_chunk",
        "BATTRACE_IMPORT_CHUNK",
        "5000",
        "Events checked and written per chunk inside one import transaction (memory bound).",
    ),
    SettingSpec(
        "api_host",
        "BATTRACE_API_HOST",
        "127.0.0.1",
        "Address `battrace serve` listens on (--host wins).",
    ),
    SettingSpec(
        "api_port",
        "BATTRACE_API_PORT",
        "8000",
        "Port `battrace serve` listens on (--port wins).",
    ),
    SettingSpec(
        "api_max_body",
        "BATTRACE_API_MAX_BODY",
        "1048576",
        "Largest request body in bytes the API reads, except on batch endpoints (413 beyond).",
    ),
    SettingSpec(
        "api_max_batch_body",
        "BATTRACE_API_MAX_BATCH_BODY",
        "33554432",
        "Largest request body in bytes on the batch endpoints (413 beyond).",
    ),
    SettingSpec(
        "api_max_batch_items",
        "BATTRACE_API_MAX_BATCH_ITEMS",
        "10000",
        "Most items one batch request may carry (413 beyond).",
    ),
    SettingSpec(
        "api_token_days",
        "BATTRACE_API_TOKEN_DAYS",
        "365",
        "Days a new API token stays valid unless its creator asks otherwise.",
    ),
    SettingSpec(
        "api_idempotency_hours",
        "BATTRACE_API_IDEMPOTENCY_HOURS",
        "24",
        "Hours the API remembers an Idempotency-Key and the answer it gave.",
    ),
    SettingSpec(
        "api_readers",
        "BATTRACE_API_READERS",
        "8",
        "Read connections the API keeps open beside its one writer connection.",
    ),
    SettingSpec(
        "api_report_writer",
        "BATTRACE_API_REPORT_WRITER",
        "process",
        "Who writes single-event reports (POST /api/v1/events): `process`, a worker process of"
        " the server's (its own interpreter, beside the one answering HTTP), or `thread`, a"
        " thread of the server's process. An in-memory database always uses `thread`.",
    ),
    SettingSpec(
        "web_figure_seconds",
        "BATTRACE_WEB_FIGURE_SECONDS",
        "60",
        "While dashboard pages are viewed, their figures are rebuilt this often at most (when"
        " new events arrived).",
    ),
    SettingSpec(
        "web_figure_worker",
        "BATTRACE_WEB_FIGURE_WORKER",
        "process",
        "Where the dashboard computes its figures: `process`, a worker process of the server's"
        " at a lower CPU priority, or `thread`, a thread of the server's process. An in-memory"
        " database always uses `thread`.",
    ),
    SettingSpec(
        "epcis_schema",
        "BATTRACE_EPCIS_SCHEMA",
        None,
        "The GS1 EPCIS 2.0 JSON schema file (or a folder holding schema/EPCIS-JSON-Schema.json)."
        " Default: ../shared/schemas/epcis beside the repository.",
    ),
    SettingSpec(
        "supervision_rules",
        "BATTRACE_SUPERVISION_RULES",
        None,
        "TOML file changing the supervision rules' settings (deadlines, days, minimums,"
        " severities; docs/supervision.md). Default: the regulations' values.",
    ),
    SettingSpec(
        "supervision_seconds",
        "BATTRACE_SUPERVISION_SECONDS",
        "30",
        "The server updates the alerts of batteries touched by new events this often.",
    ),
    SettingSpec(
        "supervision_sweep_hours",
        "BATTRACE_SUPERVISION_SWEEP_HOURS",
        "24",
        "The server recomputes every alert (a full sweep) this often, and once at start.",
    ),
    SettingSpec(
        "cache_dir",
        "BATTRACE_CACHE_DIR",
        None,
        "Folder for what battrace computes once and reuses across processes (the supervision"
        " rules' compiled SQL, the working-day calendar). Default: the user's cache folder.",
    ),
)

REPORT_WRITERS = ("process", "thread")
FIGURE_WORKERS = ("process", "thread")

_NUMBERS = (
    "import_chunk",
    "checkpoint_leaves",
    "checkpoint_seconds",
    "api_port",
    "api_max_body",
    "api_max_batch_body",
    "api_max_batch_items",
    "api_token_days",
    "api_idempotency_hours",
    "api_readers",
    "supervision_seconds",
    "supervision_sweep_hours",
    "web_figure_seconds",
)


@dataclass(frozen=True, slots=True)
class Settings:
    """The platform's settings. Build with :func:`load_settings`.

    >>> s = load_settings({"BATTRACE_DB": "/tmp/x.db"})
    >>> s.database_target
    '/tmp/x.db'
    """

    database_url: str | None
    db_path: str
    import_chunk: int
    log_key_file: str | None
    checkpoint_leaves: int
    checkpoint_seconds: int
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_max_body: int = 1_048_576
    api_max_batch_body: int = 33_554_432
    api_max_batch_items: int = 10_000
    api_token_days: int = 365
    api_idempotency_hours: int = 24
    api_readers: int = 8
    api_report_writer: str = "process"  # or "thread" (battrace.api.report_process)
    epcis_schema: str | None = None  # read by battrace.epcis.validate.schema_path
    supervision_rules: str | None = None  # read by battrace.supervision.service
    supervision_seconds: int = 30
    supervision_sweep_hours: int = 24
    web_figure_seconds: int = 60  # read by battrace.web.routes (the FigureCache's ttl)
    web_figure_worker: str = "process"  # or "thread" (battrace.web.figcache)
    cache_dir: str | None = None  # read by battrace.supervision.sqlcache

    @property
    def database_target(self) -> str:
        """What :func:`battrace.store.open_store` should open."""
        return self.database_url or self.db_path


def load_settings(environ: Mapping[str, str] | None = None, **overrides: str | None) -> Settings:
    """Settings from ``environ`` (default ``os.environ``), then ``overrides`` that are not None.

    Raises ``battrace.errors.ValidationError`` naming the variable when a value is malformed.
    """
    env = os.environ if environ is None else environ
    values: dict[str, str | None] = {}
    for spec in SETTINGS:
        raw = env.get(spec.env)
        values[spec.name] = raw if raw not in (None, "") else spec.default
    for key, value in overrides.items():
        if value is not None:
            values[key] = value
    numbers = {
        spec.name: _positive(spec.env, values[spec.name])
        for spec in SETTINGS
        if spec.name in _NUMBERS
    }
    if numbers["api_port"] > 65535:
        from battrace.errors import ValidationError

        raise ValidationError(
            f"BATTRACE_API_PORT: {numbers['api_port']} is not a TCP port (1-65535)",
            field="BATTRACE_API_PORT",
            rule="port",
        )
    return Settings(
        database_url=values["database_url"],
        api_report_writer=_one_of(
            "BATTRACE_API_REPORT_WRITER", values["api_report_writer"], REPORT_WRITERS
        ),
        web_figure_worker=_one_of(
            "BATTRACE_WEB_FIGURE_WORKER", values["web_figure_worker"], FIGURE_WORKERS
        ),
        db_path=values["db_path"] or "battrace.db",
        log_key_file=values["log_key_file"],
        api_host=values["api_host"] or "127.0.0.1",
        epcis_schema=values["epcis_schema"],
        supervision_rules=values["supervision_rules"],
        cache_dir=values["cache_dir"],
        **numbers,
    )


def _one_of(env: str, text: str | None, choices: tuple[str, ...]) -> str:
    """``text`` (the first choice when unset), which must be one of ``choices``."""
    value = text or choices[0]
    if value not in choices:
        from battrace.errors import ValidationError

        raise ValidationError(
            f"{env}: {value!r} is not one of {', '.join(choices)}", field=env, rule="one_of"
        )
    return value


def _positive(env: str, text: str | None) -> int:
    from battrace.errors import ValidationError

    if text is None or not text.isdigit() or int(text) < 1:
        raise ValidationError(
            f"{env}: must be a positive integer, not {text!r}", field=env, rule="positive_integer"
        )
    return int(text)
