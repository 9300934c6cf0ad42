"""Reading request bodies at the edge: JSON, NDJSON batches, the signature header.

Whatever arrives, the answer is a ``ValidationError`` naming field and rule (or 413/415),
never a crash deeper in: bodies must be UTF-8 JSON (orjson refuses bad UTF-8, lone
surrogates, NaN and infinities), nested at most :data:`MAX_DEPTH` levels, with integers
that fit 64 bits and no NUL characters in any text (PostgreSQL cannot store them).
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
import pydantic

from battrace.errors import BattraceError, PayloadTooLarge, UnsupportedMediaType, ValidationError
from battrace.services.keys import SignedSubmission
from battrace.services.reporting import SourceItem

MAX_DEPTH = 32
_INT_LIMIT = 2**63 - 1
SIGNATURE_HEADER = "Battrace-Signature"
JSON = "application/json"
NDJSON = "application/x-ndjson"
_NDJSON_TYPES = frozenset({NDJSON, "application/jsonl", "application/ndjson"})

Model = TypeVar("Model", bound=pydantic.BaseModel)


def media_type(header: str | None) -> str | None:
    """The media type of a Content-Type header, lower case, without parameters."""
    if header is None:
        return None
    kind = header.split(";", 1)[0].strip().lower()
    return kind or None


def _is_json(kind: str | None) -> bool:
    return kind is None or kind == JSON or kind.endswith("+json")


def check_json_value(value: Any, field: str) -> None:
    """Refuse JSON the platform cannot hold: too deep, 64-bit overflow, NUL in text.

    Walks iteratively, so no input can exhaust the Python stack.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise _too_deep(field)
            if isinstance(item, dict):
                for key, child in item.items():
                    if "\x00" in key:
                        raise _nul(field)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise _nul(field)
        elif (
            isinstance(item, int)
            and not isinstance(item, bool)
            and not -_INT_LIMIT <= item <= _INT_LIMIT
        ):
            raise ValidationError(
                f"{field}: integer {item} does not fit 64 bits; send large quantities as"
                " decimal strings",
                field=field,
                rule="integer_range",
            )


def _too_deep(field: str) -> ValidationError:
    return ValidationError(
        f"{field}: JSON nested deeper than {MAX_DEPTH} levels", field=field, rule="max_depth"
    )


def _nul(field: str) -> ValidationError:
    return ValidationError(f"{field}: text may not contain NUL (\\u0000)", field=field, rule="text")


def _decode(raw: bytes, field: str) -> Any:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(
            f"{field}: not valid JSON ({exc})", field=field, rule="json"
        ) from None
    check_json_text(raw, data, field)
    return data


# JSON text carries NUL only as the escape \\u0000 (a raw control character is invalid JSON,
# and orjson refuses it), and an integer outside 64 bits has at least 19 digits
_NUL_ESCAPE = b"\\u0000"
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_NUMBER = b"0" * 19


def check_json_text(raw: bytes, value: Any, field: str) -> None:
    """:func:`check_json_value` for ``value`` decoded from the JSON text ``raw``, faster: when
    the text shows no NUL escape and no run of 19 digits, only the nesting depth is walked (a
    batch of 5,000 events: about a quarter of the full walk's time)."""
    if _NUL_ESCAPE in raw or _LONG_NUMBER in raw.translate(_DIGITS_AS_ZERO):
        check_json_value(value, field)
    elif type(value) is dict or type(value) is list:
        _check_depth(value, 1, field)


def _check_depth(item: dict[str, Any] | list[Any], depth: int, field: str) -> None:
    # recursion is bounded: it stops at MAX_DEPTH
    if depth > MAX_DEPTH:
        raise _too_deep(field)
    for child in item.values() if type(item) is dict else item:
        if type(child) is dict or type(child) is list:
            _check_depth(child, depth + 1, field)


def json_body(raw: bytes, content_type: str | None, *, required: bool = True) -> Any:
    """The decoded JSON body. An empty body is ``None`` unless ``required``."""
    kind = media_type(content_type)
    if not _is_json(kind):
        raise UnsupportedMediaType(
            f"Content-Type: {kind} is not read here; send application/json",
            field="Content-Type",
            rule="media_type",
        )
    if not raw.strip():
        if required:
            raise ValidationError("body: a JSON body is required", field="body", rule="required")
        return None
    return _decode(raw, "body")


def json_object(raw: bytes, content_type: str | None) -> dict[str, Any]:
    data = json_body(raw, content_type)
    if not isinstance(data, dict):
        raise ValidationError("body: must be a JSON object", field="body", rule="object")
    return data


def batch_items(raw: bytes, content_type: str | None, max_items: int) -> list[SourceItem]:
    """The items of a batch body: a JSON array, or NDJSON (one JSON value a line; blank
    lines skipped; a bad line becomes an error item carrying its line number).

    Raises ``PayloadTooLarge`` past ``max_items`` items.
    """
    kind = media_type(content_type)
    items: list[SourceItem] = []
    if kind in _NDJSON_TYPES:
        for number, line in enumerate(raw.split(b"\n"), start=1):
            if not line.strip():
                continue
            if len(items) >= max_items:
                raise _too_many(max_items)
            try:
                items.append(SourceItem(_decode(line, "line"), number))
            except BattraceError as exc:
                items.append(SourceItem(exc, number))
        return items
    data = json_body(raw, content_type)
    if not isinstance(data, list):
        raise ValidationError(
            "body: a batch is a JSON array (or NDJSON with Content-Type: application/x-ndjson)",
            field="body",
            rule="array",
        )
    if len(data) > max_items:
        raise _too_many(max_items)
    return [SourceItem(item) for item in data]


def _too_many(max_items: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"items: a batch holds at most {max_items} items (BATTRACE_API_MAX_BATCH_ITEMS)",
        field="items",
        rule="max_items",
    )


def signature(header: str | None) -> SignedSubmission | None:
    """The signed submission of ``Battrace-Signature: key=<id>, nonce=<b64>, signature=<b64>``."""
    if header is None:
        return None
    parts: dict[str, str] = {}
    for piece in header.split(","):
        name, sep, value = piece.strip().partition("=")
        if not sep:
            raise ValidationError(
                f"{SIGNATURE_HEADER}: expected key=..., nonce=..., signature=...",
                field=SIGNATURE_HEADER,
                rule="format",
            )
        parts[name.strip().lower()] = value.strip().strip('"')
    try:
        return SignedSubmission.from_json(parts)
    except ValidationError as exc:
        raise ValidationError(
            f"{SIGNATURE_HEADER}: {exc.message}", field=SIGNATURE_HEADER, rule=exc.rule
        ) from None


def validated(model: type[Model], data: Any) -> Model:
    """``data`` as ``model``; the first problem as a ``ValidationError`` naming the field."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise ValidationError(
            f"{field}: {first['msg']}", field=field, rule=str(first["type"])
        ) from None


__all__ = [
    "JSON",
    "MAX_DEPTH",
    "NDJSON",
    "SIGNATURE_HEADER",
    "batch_items",
    "check_json_text",
    "check_json_value",
    "json_body",
    "json_object",
    "media_type",
    "signature",
    "validated",
]
