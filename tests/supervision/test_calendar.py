"""The Chinese working-day calendar behind the 15/30-working-day reporting deadlines.

Every official date below was checked against ``chinese_calendar`` 1.11.0 itself
(``is_workday`` and ``get_holiday_detail``), which transcribes the State Council notices:

* Spring Festival 2024: 2024-02-10 (Sat) .. 2024-02-17 (Sat) off; Sunday 2024-02-04 and Sunday
  2024-02-18 worked.
* National Day 2024: 2024-10-01 (Tue) .. 2024-10-07 (Mon) off; Sunday 2024-09-29 and Saturday
  2024-10-12 worked.
* Tomb-Sweeping 2024: 2024-04-04 .. 2024-04-06 off; Sunday 2024-04-07 worked.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import chinese_calendar  # type: ignore[import-untyped]
import holidays
import pytest

from battrace.supervision.calendar import (
    FIRST_DAY,
    LAST_DAY,
    DayInfo,
    WorkingCalendar,
    day_number,
    default_calendar,
    from_day_number,
)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return default_calendar()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# -- day numbers ---------------------------------------------------------------------------------


def test_day_number_epoch_and_round_trip() -> None:
    assert day_number(date(1970, 1, 1)) == 0
    assert day_number(date(1970, 1, 2)) == 1
    assert day_number(date(1969, 12, 31)) == -1
    assert day_number(FIRST_DAY) == 10957
    for d in (FIRST_DAY, date(2024, 2, 29), LAST_DAY):
        assert from_day_number(day_number(d)) == d


def test_range_constants() -> None:
    assert date(2000, 1, 1) == FIRST_DAY
    assert date(2040, 12, 31) == LAST_DAY


# -- official days -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        # Spring Festival 2024
        (date(2024, 2, 4), True),  # Sunday worked
        (date(2024, 2, 9), True),  # Friday before the holiday
        *[(date(2024, 2, d), False) for d in range(10, 18)],  # 02-10 .. 02-17 off
        (date(2024, 2, 18), True),  # Sunday worked
        (date(2024, 2, 19), True),
        # National Day 2024
        (date(2024, 9, 29), True),  # Sunday worked
        (date(2024, 9, 30), True),
        *[(date(2024, 10, d), False) for d in range(1, 8)],  # 10-01 .. 10-07 off
        (date(2024, 10, 8), True),
        (date(2024, 10, 12), True),  # Saturday worked
        (date(2024, 10, 13), False),  # ordinary Sunday
        # Spring Festival 2026 (chinese_calendar 1.11.0): Saturdays 02-14 and 02-28 worked
        (date(2026, 2, 14), True),
        (date(2026, 2, 23), False),
        (date(2026, 2, 28), True),
    ],
)
def test_official_2024_and_2026_days(cal: WorkingCalendar, day: date, workday: bool) -> None:
    assert cal.is_workday(day) is workday
    assert cal.is_provisional(day) is False


def test_every_day_agrees_with_chinese_calendar(cal: WorkingCalendar) -> None:
    """The table reads chinese_calendar's tables directly: it must equal its is_workday()."""
    years = [
        y for y in range(FIRST_DAY.year, LAST_DAY.year + 1) if cal.source(y) == "chinese_calendar"
    ]
    assert years == list(range(2004, 2027))
    for d in _days(date(years[0], 1, 1), date(years[-1], 12, 31)):
        assert cal.is_workday(d) is chinese_calendar.is_workday(d), d


def test_known_years_and_sources(cal: WorkingCalendar) -> None:
    assert cal.known_years() == frozenset(range(2001, 2027))
    assert cal.source(2000) == "provisional"  # no notice for 2000 in either package
    assert cal.source(2001) == "holidays"  # chinese_calendar starts at 2004
    assert cal.source(2003) == "holidays"
    assert cal.source(2004) == "chinese_calendar"
    assert cal.source(2026) == "chinese_calendar"
    assert cal.source(2027) == "provisional"
    assert cal.source(2040) == "provisional"
    with pytest.raises(ValueError, match="2041"):
        cal.source(2041)


def test_2001_comes_from_the_holidays_notice(cal: WorkingCalendar) -> None:
    # 2001 notice: 10-04 and 10-05 off in exchange for Saturday 09-29 and Sunday 09-30 worked.
    assert cal.is_workday(date(2001, 9, 29)) is True
    assert cal.is_workday(date(2001, 9, 30)) is True
    assert cal.is_workday(date(2001, 10, 5)) is False
    assert cal.is_provisional(date(2001, 10, 5)) is False


# -- deadlines -----------------------------------------------------------------------------------


def test_deadline_across_spring_festival_2024(cal: WorkingCalendar) -> None:
    # Fact on Monday 2024-02-05. Working days after it: 02-06..02-09 (4), holiday 02-10..02-17,
    # Sunday 02-18 (5), 02-19..02-23 (10), 02-26..02-29 (14), Friday 03-01 (15).
    start = date(2024, 2, 5)
    assert cal.deadline(start, 15) == date(2024, 3, 1)
    assert cal.working_days_between(start, date(2024, 3, 1)) == 15
    assert cal.working_days_between(start, date(2024, 2, 17)) == 4  # nothing during the holiday
    # Weekends only would have given Monday 2024-02-26.
    assert cal.deadline(start, 15) != date(2024, 2, 26)


def test_deadline_in_an_ordinary_week_is_three_weeks(cal: WorkingCalendar) -> None:
    start = date(2024, 1, 8)  # Monday, no holiday until Spring Festival
    assert cal.deadline(start, 15) == date(2024, 1, 29)
    assert cal.deadline(start, 15) - start == timedelta(weeks=3)
    assert cal.working_days_between(start, date(2024, 1, 29)) == 15


def test_30_working_days_across_tomb_sweeping_2024(cal: WorkingCalendar) -> None:
    # Fact on Monday 2024-03-04: 03-05..03-08 (4), 03-11..15 (9), 03-18..22 (14), 03-25..29 (19),
    # 04-01..03 (22), 04-04..06 off, Sunday 04-07 worked (23), 04-08..12 (28), 04-15 (29),
    # Tuesday 04-16 (30).
    assert cal.deadline(date(2024, 3, 4), 30) == date(2024, 4, 16)


def test_fact_on_a_holiday_counts_from_the_next_working_day(cal: WorkingCalendar) -> None:
    # Fact on 2024-10-03 (National Day): 10-08..10-11 (4), Saturday 10-12 (5), 10-14..18 (10),
    # 10-21..25 (15).
    assert cal.deadline(date(2024, 10, 3), 15) == date(2024, 10, 25)
    assert cal.deadline(date(2024, 10, 3), 1) == date(2024, 10, 8)
    assert cal.working_days_between(date(2024, 10, 1), date(2024, 10, 7)) == 0
    assert cal.working_days_between(date(2024, 9, 28), date(2024, 9, 29)) == 1  # worked Sunday


def test_working_days_between_empty_and_reversed(cal: WorkingCalendar) -> None:
    d = date(2024, 5, 6)
    assert cal.working_days_between(d, d) == 0
    assert cal.working_days_between(d, date(2024, 4, 1)) == 0
    assert cal.working_days_between(d, d + timedelta(days=1)) == 1


def test_deadline_zero_and_negative(cal: WorkingCalendar) -> None:
    assert cal.deadline(date(2024, 10, 3), 0) == date(2024, 10, 3)
    with pytest.raises(ValueError, match="non-negative"):
        cal.deadline(date(2024, 10, 3), -1)
    with pytest.raises(ValueError, match="non-negative"):
        cal.is_late(date(2024, 10, 3), date(2024, 10, 9), -1)


def test_is_late_fires_one_day_after_the_deadline(cal: WorkingCalendar) -> None:
    start = date(2024, 1, 8)  # deadline Monday 2024-01-29
    assert not cal.is_late(start, date(2024, 1, 26), 15)
    assert not cal.is_late(start, date(2024, 1, 29), 15)  # on the deadline day
    assert cal.is_late(start, date(2024, 1, 30), 15)  # the day after
    assert not cal.is_late(start, start, 15)
    assert not cal.is_late(start, date(2024, 1, 1), 15)  # reported before the fact


def test_is_late_on_the_rest_day_after_a_friday_deadline(cal: WorkingCalendar) -> None:
    # Fact on Friday 2024-01-05: 01-08..12 (5), 01-15..19 (10), 01-22..26 (15): deadline Friday
    # 2024-01-26. Saturday 01-27 is one day after it: late, although no further working day has
    # passed (working_days_between is still 15).
    start = date(2024, 1, 5)
    assert cal.deadline(start, 15) == date(2024, 1, 26)
    assert not cal.is_late(start, date(2024, 1, 26), 15)
    assert cal.is_late(start, date(2024, 1, 27), 15)
    assert cal.working_days_between(start, date(2024, 1, 27)) == 15


def test_is_late_on_holiday_after_deadline(cal: WorkingCalendar) -> None:
    # Fact on Friday 2024-01-19: 01-22..26 (5), 01-29..02-02 (10), Sunday 02-04 worked (11),
    # 02-05..08 (15), Friday 02-09 (16), the last working day before Spring Festival.
    start = date(2024, 1, 19)
    assert cal.deadline(start, 15) == date(2024, 2, 8)
    assert cal.deadline(start, 16) == date(2024, 2, 9)
    assert not cal.is_late(start, date(2024, 2, 9), 16)
    assert cal.is_late(start, date(2024, 2, 10), 16)  # first day of the holiday
    assert cal.is_late(start, date(2024, 2, 17), 16)  # last day of the holiday
    assert cal.working_days_between(start, date(2024, 2, 17)) == 16


def test_is_late_matches_deadline_and_the_sql_formula(cal: WorkingCalendar) -> None:
    """is_late == (reported > deadline), and equals the formula the module documents for SQL."""
    rows = {r.day: r for r in cal.rows()}
    for start in _days(date(2024, 1, 1), date(2024, 12, 31)):
        for n in (0, 1, 15, 30):
            deadline = cal.deadline(start, n)
            s = rows[day_number(start)]
            for reported in _days(start - timedelta(days=2), start + timedelta(days=60)):
                late = cal.is_late(start, reported, n)
                assert late is (reported > deadline), (start, n, reported)
                r = rows[day_number(reported)]
                elapsed = r.workday_index - s.workday_index
                sql = r.day > s.day and (elapsed > n or (elapsed == n and not r.workday))
                assert late is sql, (start, n, reported)


# -- years without an official schedule ----------------------------------------------------------


def test_holidays_package_has_no_official_2027_schedule() -> None:
    """Precondition of the 2027 tests: holidays 0.109 lists no 2027 adjusted working weekend,
    so its 2027 days off are estimates. If this fails, a newer release has the 2027 notice:
    2027 becomes official in the calendar and the 2027 tests must be rewritten from it."""
    cn = holidays.country_holidays("CN", years=2027)
    assert not [d for d in cn.weekend_workdays if d.year == 2027]
    assert date(2027, 2, 6) in cn  # the statutory Spring Festival it still knows


def test_deadline_in_2027_is_provisional_with_estimated_holidays(cal: WorkingCalendar) -> None:
    # Provisional 2027 from holidays 0.109: Spring Festival eve 02-05 (Fri) and 02-06..08, plus
    # 02-09 and 02-10 made up for the weekend days 02-06 and 02-07. Fact on Monday 2027-02-01:
    # 02-02..04 (3), 02-11..12 (5), 02-15..19 (10), 02-22..26 (15).
    start = date(2027, 2, 1)
    assert cal.is_provisional(start)
    assert 2027 not in cal.known_years()
    assert not cal.is_workday(date(2027, 2, 5))
    assert not cal.is_workday(date(2027, 2, 8))
    assert not cal.is_workday(date(2027, 2, 10))
    deadline = cal.deadline(start, 15)
    assert deadline == date(2027, 2, 26)
    assert cal.is_provisional(deadline)
    # Weekends only would have given Monday 2027-02-22.
    assert deadline != date(2027, 2, 22)


def test_deadline_from_2026_into_2027_is_provisional(cal: WorkingCalendar) -> None:
    # Fact on Monday 2026-12-21: 12-22..25 (4), 12-28..31 (8), 2027-01-01 is New Year's Day,
    # 01-04..08 (13), 01-11..12 (15).
    start = date(2026, 12, 21)
    assert not cal.is_provisional(start)
    deadline = cal.deadline(start, 15)
    assert deadline == date(2027, 1, 12)
    assert cal.is_provisional(deadline)


def test_deadline_in_2035_is_provisional_weekends_and_statutory_days(cal: WorkingCalendar) -> None:
    # No statutory holiday between Spring Festival (02-08) and Tomb-Sweeping (04-05) in 2035:
    # from Thursday 2035-03-01, 15 working days are exactly three weeks of Monday-Friday.
    start = date(2035, 3, 1)
    assert cal.is_provisional(start)
    deadline = cal.deadline(start, 15)
    assert deadline == date(2035, 3, 22)
    assert cal.is_provisional(deadline)
    assert cal.is_late(start, date(2035, 3, 23), 15)
    for d in _days(date(2035, 3, 1), date(2035, 3, 31)):
        assert cal.is_workday(d) is (d.weekday() < 5), d
    assert not cal.is_workday(date(2035, 10, 1))  # National Day, Monday: a known statutory day


def test_2000_is_provisional(cal: WorkingCalendar) -> None:
    assert cal.is_provisional(FIRST_DAY)
    assert not cal.is_workday(FIRST_DAY)  # Saturday and New Year's Day


# -- range ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", [date(1999, 12, 31), date(2041, 1, 1)])
def test_outside_range_raises_value_error(cal: WorkingCalendar, day: date) -> None:
    pattern = rf"{day.isoformat()}.*2000-01-01 to 2040-12-31"
    with pytest.raises(ValueError, match=pattern):
        cal.is_workday(day)
    with pytest.raises(ValueError, match=pattern):
        cal.is_provisional(day)
    with pytest.raises(ValueError, match=pattern):
        cal.deadline(day, 15)
    with pytest.raises(ValueError, match=pattern):
        cal.working_days_between(date(2024, 1, 1), day)
    with pytest.raises(ValueError, match=pattern):
        cal.is_late(date(2024, 1, 1), day, 15)


def test_range_edges_are_inside(cal: WorkingCalendar) -> None:
    assert cal.is_workday(LAST_DAY) is True  # Monday 2040-12-31
    assert cal.working_days_between(FIRST_DAY, LAST_DAY) == cal.rows()[-1].workday_index


def test_deadline_after_the_end_of_the_calendar(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match=r"2040-12-20.*after 2040-12-31"):
        cal.deadline(date(2040, 12, 20), 15)
    # Nothing reported within the calendar can be after that deadline.
    assert not cal.is_late(date(2040, 12, 20), LAST_DAY, 15)


def test_empty_range_rejected() -> None:
    with pytest.raises(ValueError, match="empty"):
        WorkingCalendar(date(2024, 1, 2), date(2024, 1, 1))


# -- the table -----------------------------------------------------------------------------------


def test_rows_are_consistent(cal: WorkingCalendar) -> None:
    rows = cal.rows()
    assert len(rows) == (LAST_DAY - FIRST_DAY).days + 1 == 14976
    assert all(isinstance(r, DayInfo) for r in rows)
    assert rows[0].day == day_number(FIRST_DAY)
    assert rows[-1].day == day_number(LAST_DAY)
    previous_index = 0
    for i, r in enumerate(rows):
        d = from_day_number(r.day)
        assert r.day == rows[0].day + i
        assert r.workday is cal.is_workday(d)
        assert r.provisional is cal.is_provisional(d)
        assert r.workday_index == previous_index + (1 if r.workday else 0), d
        previous_index = r.workday_index
    assert rows[0].workday_index == 0  # 2000-01-01 is a Saturday
    assert rows[-1].workday_index == sum(r.workday for r in rows)


def test_rows_returns_a_fresh_list(cal: WorkingCalendar) -> None:
    rows = cal.rows()
    rows.clear()
    assert len(cal.rows()) == 14976


def test_custom_range_counts_from_its_own_first_day() -> None:
    small = WorkingCalendar(date(2024, 2, 4), date(2024, 12, 31))
    rows = small.rows()
    assert len(rows) == 332
    assert rows[0].workday_index == 1  # Sunday 2024-02-04 was worked
    assert small.deadline(date(2024, 2, 5), 15) == date(2024, 3, 1)
    assert small.known_years() == frozenset({2024})
    with pytest.raises(ValueError, match="2024-02-03"):
        small.is_workday(date(2024, 2, 3))


def test_default_calendar_is_built_once() -> None:
    assert default_calendar() is default_calendar()
    assert default_calendar().first == FIRST_DAY
    assert default_calendar().last == LAST_DAY


def test_build_is_fast() -> None:
    started = time.perf_counter()
    WorkingCalendar()
    assert time.perf_counter() - started < 1.0
