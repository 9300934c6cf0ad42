"""One error hierarchy for the whole platform.

Every error carries a stable machine-readable ``code``, the HTTP ``status`` an API answers
with, a human ``message``, and where it applies the ``field`` and the ``rule`` that failed.
The CLI turns any :class:`BattraceError` into one clean line (or a JSON object with
``--json``); the API turns it into one JSON error shape. Nothing else is caught.

::

    BattraceError                      500 internal
     +-- ValidationError               422 invalid       bad input: names field and rule
     |    +-- CodeError                422 invalid_code  a code (battery, VIN, credit, division)
     +-- NotFoundError                 404 not_found     an enterprise, battery or event is unknown
     +-- ConflictError                 409 conflict      a code registered twice, a duplicate ref
     +-- RuleViolation                 409 rule_violation  state machine, custody or role rule
     +-- Unauthenticated               401 unauthenticated  no valid API token where one is needed
     +-- PermissionDenied              403 forbidden     an actor may not do or see this
     +-- MethodNotAllowed              405 method_not_allowed  a route asked with a method it lacks
     +-- PayloadTooLarge               413 too_large     a request body or batch over the limit
     +-- UnsupportedMediaType          415 unsupported_media_type  a body type the API does not read
     +-- BatchError                    422 batch_rejected  an item failed; nothing written
     +-- StoreError                    503 store_unavailable  database unreachable
"""

from __future__ import annotations

from typing import Any


class BattraceError(Exception):
    """Base of every error the platform raises on purpose."""

    status: int = 500
    code: str = "internal"

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.rule = rule

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled whole (another process may raise it: the API's report writer): Exception's
        # own pickling would call ``__init__`` with the message alone, losing field and rule
        return (_rebuilt, (type(self), self.args, dict(self.__dict__)))

    def to_dict(self) -> dict[str, Any]:
        """The one JSON error shape: ``{"error": {"code", "message", "field", "rule"}}``."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.rule is not None:
            body["rule"] = self.rule
        return {"error": body}


def _rebuilt(
    cls: type[BattraceError], args: tuple[Any, ...], state: dict[str, Any]
) -> BattraceError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ValidationError(BattraceError):
    """Raised when input breaks a format or value rule; ``field`` and ``rule`` say which."""

    status = 422
    code = "invalid"


class CodeError(ValidationError):
    """Raised when a battery code, VIN, credit code or division code is malformed.

    ``position`` is the 1-based character position that broke the rule, when there is one.
    """

    code = "invalid_code"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        position: int | None = None,
    ) -> None:
        super().__init__(message, field=field, rule=rule)
        self.position = position

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        if self.position is not None:
            body["error"]["position"] = self.position
        return body


class NotFoundError(BattraceError):
    """Raised when a referenced enterprise, battery or event does not exist."""

    status = 404
    code = "not_found"


class ConflictError(BattraceError):
    """Raised when a write would duplicate something unique (a battery code, a reference)."""

    status = 409
    code = "conflict"


class RuleViolation(BattraceError):
    """Raised when an event breaks the state machine, custody or role rules.

    The message names the battery, the rule and the battery's state.
    """

    status = 409
    code = "rule_violation"


class Unauthenticated(BattraceError):
    """Raised when a request needs an API token and has none, or one that is unknown, revoked
    or expired (the API answers 401 with ``WWW-Authenticate: Bearer``)."""

    status = 401
    code = "unauthenticated"


class PermissionDenied(BattraceError):
    """Raised when an actor tries to write for another or read beyond its role."""

    status = 403
    code = "forbidden"


class MethodNotAllowed(BattraceError):
    """Raised when an API route exists but not for the HTTP method used."""

    status = 405
    code = "method_not_allowed"


class PayloadTooLarge(BattraceError):
    """Raised when a request body, or the number of items in a batch, exceeds its limit."""

    status = 413
    code = "too_large"


class UnsupportedMediaType(BattraceError):
    """Raised when a request body comes in a content type the endpoint does not read."""

    status = 415
    code = "unsupported_media_type"


class BatchError(BattraceError):
    """Raised when one item of an all-or-nothing batch fails; nothing of the batch is written.

    ``index`` is the 0-based item number (``line`` the 1-based line of a file, when read
    from one) and ``cause`` the error that item raised.
    """

    status = 422
    code = "batch_rejected"

    def __init__(self, index: int, cause: BattraceError, *, line: int | None = None) -> None:
        where = f"line {line}" if line is not None else f"item {index}"
        super().__init__(f"{where}: {cause.message}", field=cause.field, rule=cause.rule)
        self.index = index
        self.line = line
        self.cause = cause

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["error"]["index"] = self.index
        if self.line is not None:
            body["error"]["line"] = self.line
        body["error"]["cause"] = self.cause.to_dict()["error"]
        return body


class StoreError(BattraceError):
    """Raised when the database cannot be reached or answers with an unexpected failure."""

    status = 503
    code = "store_unavailable"
