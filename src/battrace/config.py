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

    @property
    def database_target(self) -> str:
        """What :func:`battrace.store.open_store` should open."""
        return self.database_url or self.db_path


def load_settings(environ: Mapping[str, str] | None = None, **overrides: str | None) -> Settings:
    """Settings from ``environ`` (default ``os.environ``), then ``overrides`` that are not None.

    Raises ``battrace.errors.ValidationError`` naming the variable when a value is malformed.
    """
    from battrace.errors import ValidationError

    env = os.environ if environ is None else environ
    values: dict[str, str | None] = {}
    for spec in SETTINGS:
        raw = env.get(spec.env)
        values[spec.name] = raw if raw not in (None, "") else spec.default
    for key, value in overrides.items():
        if value is not None:
            values[key] = value
    chunk_text = values["import_chunk"] or ""
    if not chunk_text.isdigit() or int(chunk_text) < 1:
        raise ValidationError(
            f"BATTRACE_IMPORT_CHUNK: must be a positive integer, not {chunk_text!r}",
            field="BATTRACE_IMPORT_CHUNK",
            rule="positive_integer",
        )
    return Settings(
        database_url=values["database_url"],
        db_path=values["db_path"] or "battrace.db",
        import_chunk=int(chunk_text),
    )
