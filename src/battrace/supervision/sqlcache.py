"""What supervision computes once and reuses across processes, kept on disk.

- The rules' **compiled SQL**: turning the Ibis expressions of :mod:`.rules` into SQL takes
  about 1.5 s, and importing Ibis's DuckDB backend (which imports pandas) about 0.5 s more.
  A process compiles once, but the incremental path runs in short processes too (the alert
  update at the end of ``battrace import``): with the SQL on disk such a flush never imports
  Ibis. The SQL depends only on the rule settings, the SQL dialect, the code of the rules and
  of the fact tables (``rules.py``, ``engine.py``, ``tables.py``, ``config.py``), battrace's
  version and the versions of Ibis, sqlglot and DuckDB: the file is named by a
  hash of all of these and holds that key again.
- The **working-day calendar** table (``sv_cal``): building it from the ``chinese-calendar``
  and ``holidays`` packages takes about 0.5 s; keyed by ``calendar.py``, the packages'
  versions and battrace's.

The folder is ``BATTRACE_CACHE_DIR`` or the user's cache folder (``docs/settings.md``). Files
are written whole under a temporary name, then renamed. A file is used only when it is a
regular file of this user that nobody else may write (POSIX), parses, holds the expected key
and format, and its content matches the SHA-256 it stores; anything else (stale, truncated,
edited, someone else's) is ignored and replaced. Caching is best effort: a folder that cannot
be read or written only costs the time to recompute.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import stat
import sys
import tempfile
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Final

import orjson

import battrace

LOGGER = logging.getLogger(__name__)

FORMAT: Final = 1
_HERE = Path(__file__).resolve().parent
#: the code the compiled SQL follows from (besides the settings)
RULE_SOURCES: Final = ("rules.py", "engine.py", "tables.py", "config.py")
CALENDAR_SOURCES: Final = ("calendar.py",)


def cache_dir() -> Path | None:
    """``BATTRACE_CACHE_DIR``, else the platform's user cache folder (None: no cache)."""
    configured = os.environ.get("BATTRACE_CACHE_DIR")
    if configured:
        return Path(configured)
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "battrace"
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return Path(local) / "battrace" / "Cache" if local else None
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".cache") / "battrace"


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


@functools.cache
def _source_digest(names: tuple[str, ...]) -> str | None:
    """SHA-256 over the named modules' source (None when a source cannot be read)."""
    digest = hashlib.sha256()
    for name in names:
        try:
            digest.update(name.encode() + b"\0" + (_HERE / name).read_bytes() + b"\0")
        except OSError:
            return None
    return digest.hexdigest()


def _key(parts: Mapping[str, str]) -> str:
    return hashlib.sha256(orjson.dumps(dict(parts), option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


@functools.cache
def _versions(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((name, _package_version(name)) for name in names)


def rules_key(dialect: str, settings_repr: str) -> str | None:
    """The key of the compiled SQL of every rule for ``dialect`` and these settings (None when
    the rules' source cannot be read: nothing is cached then)."""
    source = _source_digest(RULE_SOURCES)
    if source is None:
        return None
    parts = {
        "what": "rules",
        "dialect": dialect,
        "settings": settings_repr,
        "source": source,
        "battrace": battrace.__version__,
        **dict(_versions(("ibis-framework", "sqlglot", "duckdb"))),
    }
    return _key(parts)


def calendar_key(first: str, last: str) -> str | None:
    """The key of the working-day calendar table from ``first`` to ``last`` (ISO dates)."""
    source = _source_digest(CALENDAR_SOURCES)
    if source is None:
        return None
    parts = {
        "what": "calendar",
        "range": f"{first}/{last}",
        "source": source,
        "battrace": battrace.__version__,
        **dict(_versions(("chinese-calendar", "holidays"))),
    }
    return _key(parts)


def _path(kind: str, key: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / f"{kind}-{key}.json"


def _trusted(path: Path) -> bool:
    """A regular file of this user that no one else may write (always true off POSIX)."""
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode):
        return False
    return not hasattr(os, "getuid") or (
        info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def _digest(payload: Any) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def load(kind: str, key: str | None) -> Any | None:
    """The payload stored under ``kind`` and ``key``, or None when there is none that can be
    trusted (missing, stale, corrupt, or not this user's own)."""
    if key is None:
        return None
    path = _path(kind, key)
    if path is None:
        return None
    try:
        if not _trusted(path):
            LOGGER.warning("ignoring %s: not a file of this user only", path)
            return None
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, orjson.JSONDecodeError) as exc:
        LOGGER.warning("ignoring the unreadable cache file %s: %s", path, exc)
        return None
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or data.get("kind") != kind
        or data.get("key") != key
        or "payload" not in data
        or data.get("sha256") != _digest(data["payload"])
    ):
        LOGGER.warning("ignoring the stale or corrupt cache file %s", path)
        return None
    return data["payload"]


def save(kind: str, key: str | None, payload: Any) -> bool:
    """Store ``payload`` (JSON data) under ``kind`` and ``key``; False when it could not be."""
    if key is None:
        return False
    path = _path(kind, key)
    if path is None:
        return False
    record = {
        "format": FORMAT,
        "kind": kind,
        "key": key,
        "battrace": battrace.__version__,
        "sha256": _digest(payload),
        "payload": payload,
    }
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{kind}-", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(orjson.dumps(record))
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        LOGGER.info("not caching %s in %s: %s", kind, path.parent, exc)
        return False
    return True


def load_rules(dialect: str, settings_repr: str) -> dict[str, str]:
    """The cached SQL of the rules for ``dialect`` and these settings (possibly none)."""
    payload = load("rules", rules_key(dialect, settings_repr))
    if not isinstance(payload, dict):
        return {}
    return {k: v for k, v in payload.items() if isinstance(k, str) and isinstance(v, str)}


def save_rules(dialect: str, settings_repr: str, sql: Mapping[str, str]) -> bool:
    """Cache the SQL of rules for ``dialect`` and these settings (adding to what is there)."""
    merged = {**load_rules(dialect, settings_repr), **sql}
    return save("rules", rules_key(dialect, settings_repr), merged)


__all__ = [
    "cache_dir",
    "calendar_key",
    "load",
    "load_rules",
    "rules_key",
    "save",
    "save_rules",
]
