"""Check EPCIS documents against the GS1 EPCIS 2.0 JSON schema, read from disk at run time.

The schema is GS1's inlined draft-07 ``EPCIS-JSON-Schema.json``. It is not copied into this
repository (GS1's terms: see ``shared/schemas/epcis/GS1-LICENSE-DISCLAIMER.txt``); it is found

1. at ``$BATTRACE_EPCIS_SCHEMA`` when set: the schema file itself, or a folder holding
   ``schema/EPCIS-JSON-Schema.json`` (the layout of ``shared/schemas/epcis``);
2. otherwise at ``../shared/schemas/epcis/schema/EPCIS-JSON-Schema.json`` beside the
   repository root (the source checkout this package runs from).

A missing or unreadable schema raises :class:`SchemaUnavailable` naming the path tried.
Formats are checked (``FormatChecker``): without them the schema lets any string through
as a ``date-time`` or a bizStep URI, so the ``date-time`` and ``uri`` checkers (packages
``rfc3339-validator`` and ``rfc3986-validator``) must be installed, or validation refuses to
run rather than pass documents it did not check.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import jsonschema  # type: ignore[import-untyped]  # no type information shipped

from battrace.errors import BattraceError, ValidationError

SCHEMA_ENV: Final = "BATTRACE_EPCIS_SCHEMA"
SCHEMA_IN_FOLDER: Final = Path("schema") / "EPCIS-JSON-Schema.json"
REQUIRED_FORMATS: Final = ("date-time", "uri")
_MAX_MESSAGE: Final = 300
# keywords that only say "some branch failed": the branch's own error says more, when deeper
_COMBINATORS: Final = frozenset({"anyOf", "oneOf", "allOf", "if", "then", "else", "not"})


class SchemaUnavailable(BattraceError):
    """Raised when the GS1 EPCIS JSON schema cannot be read, or formats cannot be checked.

    A deployment problem, not the caller's: the message names the file and the variable.
    """

    status = 500
    code = "epcis_schema_unavailable"


def default_schema_folder() -> Path:
    """``shared/schemas/epcis`` beside the repository root this package is checked out in."""
    return Path(__file__).resolve().parents[3].parent / "shared" / "schemas" / "epcis"


def schema_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where the EPCIS JSON schema is (see the module docstring).

    Raises :class:`SchemaUnavailable` naming the missing file.
    """
    env = os.environ if environ is None else environ
    override = env.get(SCHEMA_ENV)
    if override:
        path = Path(override)
        if path.is_dir():
            path = path / SCHEMA_IN_FOLDER
        origin = f"from {SCHEMA_ENV}"
    else:
        path = default_schema_folder() / SCHEMA_IN_FOLDER
        origin = f"the default; set {SCHEMA_ENV} to the schema file to use another"
    if not path.is_file():
        raise SchemaUnavailable(
            f"EPCIS JSON schema not found: {path} ({origin})", field=SCHEMA_ENV, rule="missing"
        )
    return path


@functools.lru_cache(maxsize=4)
def _validator(path: Path, mtime_ns: int) -> Any:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.Draft7Validator.check_schema(schema)
    except (OSError, ValueError, jsonschema.SchemaError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise SchemaUnavailable(
            f"EPCIS JSON schema {path} cannot be used: {message[:_MAX_MESSAGE]}",
            field=SCHEMA_ENV,
            rule="unreadable",
        ) from None
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    missing = [name for name in REQUIRED_FORMATS if name not in checker.checkers]
    if missing:
        raise SchemaUnavailable(
            f"cannot check the {', '.join(missing)} format(s) of EPCIS documents: install"
            " rfc3339-validator and rfc3986-validator (battrace's dependencies)",
            rule="format_checker",
        )
    return jsonschema.Draft7Validator(schema, format_checker=checker)


def load_validator(path: Path | None = None) -> Any:
    """A draft-07 validator with a format checker for the schema at ``path`` (default:
    :func:`schema_path`). Loaded once per file version."""
    path = path or schema_path()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        raise SchemaUnavailable(
            f"EPCIS JSON schema not found: {path}", field=SCHEMA_ENV, rule="missing"
        ) from None
    return _validator(path, mtime)


def _error(error: Any) -> ValidationError:
    path = error.json_path
    rule = str(error.validator)
    message = error.message
    if error.validator in ("anyOf", "oneOf") and error.context:
        # "<whole instance> is not valid under any of the given schemas" names nothing useful;
        # the branches' own complaints at this level do
        depth = len(error.absolute_path)
        branches = [c.message for c in error.context if len(c.absolute_path) == depth]
        if branches:
            message = "fits none of the allowed forms: " + "; or ".join(dict.fromkeys(branches))
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    return ValidationError(f"{path}: {message} [EPCIS schema rule {rule}]", field=path, rule=rule)


def schema_errors(document: Any, *, schema: Path | None = None) -> list[ValidationError]:
    """Every way ``document`` breaks the EPCIS JSON schema, as errors naming the JSON path
    (``$.epcisBody.eventList[0].eventTime``) and the schema keyword that failed."""
    validator = load_validator(schema)
    return [_error(e) for e in validator.iter_errors(document)]


def validate_document(document: Any, *, schema: Path | None = None) -> None:
    """Check an EPCIS document (or a single event) against the GS1 EPCIS 2.0 JSON schema.

    Raises ``ValidationError`` (HTTP 422) for the most precise failure (the deepest in the
    document; at equal depth a plain rule before one of its ``anyOf`` branches), with
    ``field`` the JSON path and ``rule`` the schema keyword (``required``, ``format``,
    ``enum``...), and
    :class:`SchemaUnavailable` when the schema cannot be read.
    """
    validator = load_validator(schema)
    candidates: list[tuple[tuple[int, bool, bool], int, Any]] = []
    for top in validator.iter_errors(document):
        for error in _with_context(top):
            key = (len(error.absolute_path), error is top, error.validator not in _COMBINATORS)
            candidates.append((key, -len(candidates), error))
    if candidates:
        raise _error(max(candidates, key=lambda c: c[:2])[2])


def _with_context(error: Any) -> list[Any]:
    found = [error]
    for inner in error.context or ():
        found.extend(_with_context(inner))
    return found
