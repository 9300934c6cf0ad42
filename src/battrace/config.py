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
        if spec.name in ("import_chunk", "checkpoint_leaves", "checkpoint_seconds")
    }
    return Settings(
        database_url=values["database_url"],
        db_path=values["db_path"] or "battrace.db",
        import_chunk=numbers["import_chunk"],
        log_key_file=values["log_key_file"],
        checkpoint_leaves=numbers["checkpoint_leaves"],
        checkpoint_seconds=numbers["checkpoint_seconds"],
    )


def _positive(env: str, text: str | None) -> int:
    from battrace.errors import ValidationError

    if text is None or not text.isdigit() or int(text) < 1:
        raise ValidationError(
            f"{env}: must be a positive integer, not {text!r}", field=env, rule="positive_integer"
        )
    return int(text)
