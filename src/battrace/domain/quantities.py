"""Quantities and timestamps as the platform stores them: exact decimals, aware times.

Quantities are kept as :class:`decimal.Decimal` and written as decimal strings, never floats, so
the canonical encoding of an event (and its ledger commitment) is the same on every machine.
Times are timezone-aware; a bare date means midnight China Standard Time (UTC+08:00), the
calendar every reporting deadline is counted in.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

CHINA_TZ = timezone(timedelta(hours=8), "CST")

# Enough for kg to the gram at national totals; more would be noise, not precision.
MAX_DECIMAL_PLACES = 6
# Far above any battery or national total in kg, kWh or Ah; bigger is a typo or an attack.
MAX_QUANTITY = Decimal(10) ** 12


def to_decimal(value: Any) -> Decimal:
    """Read a quantity from an int, a decimal string or a JSON number.

    Returns a finite, non-negative :class:`Decimal` of at most 10**12 with at most six decimal
    places.
    Raises ``ValueError`` (turned into a field error by pydantic) for anything else.
    """
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    if isinstance(value, str | int):
        # a maker registers thousands of packs of one model: the same texts come again and again
        return _cached_decimal(value)
    return _read_decimal(value)


@functools.lru_cache(maxsize=1 << 14)
def _cached_decimal(value: str | int) -> Decimal:
    return _read_decimal(value)


def _read_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # repr gives the shortest string that round-trips, so 0.1 stays 0.1
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number") from None
    else:
        raise ValueError("must be a number or a decimal string")
    if not number.is_finite():
        raise ValueError("must be a finite number")
    if number < 0:
        raise ValueError("must not be negative")
    if number > MAX_QUANTITY:
        raise ValueError("must be at most 1000000000000")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMAL_PLACES:
        raise ValueError(f"has more than {MAX_DECIMAL_PLACES} decimal places")
    if isinstance(exponent, int) and exponent == 0:
        return number
    text = str(number)
    if "E" not in text and not text.endswith("0"):
        return number
    # normalised so that str() is already the canonical text (no exponent, no trailing zeros)
    return Decimal(decimal_text(number))


def decimal_text(value: Decimal) -> str:
    """The canonical text of a quantity: no exponent, no trailing zeros ("1.50" -> "1.5")."""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


# to_decimal normalises, so pydantic's own Decimal serialisation (str) is canonical text.
Quantity = Annotated[Decimal, BeforeValidator(to_decimal)]


def to_aware_datetime(value: Any) -> datetime:
    """Read a timestamp: ISO 8601 with a UTC offset, or a bare ``YYYY-MM-DD`` date.

    A bare date is midnight China Standard Time. A datetime without an offset is rejected,
    because a report's deadline depends on which day it happened.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=CHINA_TZ)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            try:
                day = date.fromisoformat(text)
            except ValueError:
                raise ValueError(f"{value!r} is not an ISO 8601 date") from None
            parsed = datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ)
            return _in_utc_range(parsed, value)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
    else:
        raise ValueError("must be an ISO 8601 date-time string")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("must include a UTC offset (for example +08:00)")
    return _in_utc_range(parsed, value)


def _in_utc_range(parsed: datetime, value: Any) -> datetime:
    # year 1 or 9999 with an offset may fall outside what UTC can express; stored times are
    # UTC text, so such a time would fail at the edge of the database instead of here
    if parsed.year in (1, 9999):
        try:
            parsed.astimezone(UTC)
        except OverflowError:
            raise ValueError(f"{value!r} is outside the years 1-9999 in UTC") from None
    return parsed


def timestamp_text(value: datetime) -> str:
    """The canonical text of a timestamp: UTC, seconds precision or finer, ``Z`` suffix."""
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


Timestamp = Annotated[
    datetime,
    BeforeValidator(to_aware_datetime),
    PlainSerializer(timestamp_text, return_type=str),
]


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def date_field(text: str, field: str) -> date:
    """A ``YYYY-MM-DD`` date given for ``field`` (a command option or request field).

    Raises ``ValidationError`` naming ``field`` (rule ``date``) otherwise.
    """
    from battrace.errors import ValidationError

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{field}: {text!r} is not a YYYY-MM-DD date", field=field, rule="date"
        ) from None


def time_field(text: str, field: str) -> datetime:
    """An ISO 8601 time with an offset (or a bare date: midnight in China) given for ``field``.

    Raises ``ValidationError`` naming ``field`` (rule ``datetime``) otherwise.
    """
    from battrace.errors import ValidationError

    try:
        return to_aware_datetime(text)
    except ValueError as exc:
        raise ValidationError(f"{field}: {exc}", field=field, rule="datetime") from None
