from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from battrace.domain.quantities import (
    CHINA_TZ,
    decimal_text,
    timestamp_text,
    to_aware_datetime,
    to_decimal,
)


@given(st.decimals(min_value=0, max_value=10**9, places=6, allow_nan=False))
def test_decimal_text_round_trips(value: Decimal) -> None:
    assert to_decimal(decimal_text(value)) == value


def test_decimal_text_is_canonical() -> None:
    assert decimal_text(Decimal("1.50")) == "1.5"
    assert decimal_text(Decimal("100")) == "100"
    assert decimal_text(Decimal("1E+2")) == "100"
    assert decimal_text(Decimal("0.000001")) == "0.000001"


@pytest.mark.parametrize("bad", ["abc", "-1", "NaN", "Infinity", True, None, [1], "0.0000001"])
def test_bad_quantities(bad: object) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        to_decimal(bad)


def test_dates_and_times() -> None:
    assert to_aware_datetime("2024-05-01") == datetime(2024, 5, 1, tzinfo=CHINA_TZ)
    assert to_aware_datetime(date(2024, 5, 1)) == datetime(2024, 5, 1, tzinfo=CHINA_TZ)
    utc = to_aware_datetime("2024-05-01T01:02:03Z")
    assert utc.utcoffset() is not None
    assert timestamp_text(utc) == "2024-05-01T01:02:03Z"
    with pytest.raises(ValueError, match="UTC offset"):
        to_aware_datetime("2024-05-01T01:02:03")
    with pytest.raises(ValueError, match="ISO 8601"):
        to_aware_datetime("2024-13-01")
    with pytest.raises(ValueError, match="ISO 8601"):
        to_aware_datetime(20240501)
    aware = datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert to_aware_datetime(aware) is aware


def test_option_fields_parse_or_name_the_field() -> None:
    from battrace.domain.quantities import date_field, time_field
    from battrace.errors import ValidationError

    assert date_field("2024-02-29", "until") == date(2024, 2, 29)
    assert time_field("2024-02-29", "at").utcoffset() is not None
    with pytest.raises(ValidationError) as bad_date:
        date_field("2024-02-30", "until")
    assert (bad_date.value.field, bad_date.value.rule) == ("until", "date")
    with pytest.raises(ValidationError) as bad_time:
        time_field("2024-02-29T10:00", "valid_from")  # no offset
    assert (bad_time.value.field, bad_time.value.rule) == ("valid_from", "datetime")
