"""Working days of mainland China, for reporting deadlines.

Legal source: the *Interim Provisions on the Traceability Management of New Energy Vehicle Power
Batteries* (新能源汽车动力蓄电池回收利用溯源管理暂行规定, MIIT and others, 2018, in force
2018-08-01) set the reporting deadlines of every party as **15 or 30 working days** (工作日) after
the fact: e.g. a vehicle maker binds battery codes to the vehicle within 15 working days of issuing
the conformity certificate, a dismantler reports within 15 working days of receiving the scrapped
vehicle, a recycler within 30 working days of goods in. Working days are those of the official
Chinese calendar: Monday to Friday, minus the public holidays, plus the adjusted working weekends
(调休: Saturdays or Sundays worked in exchange for a day off), both fixed each year by a notice of
the General Office of the State Council.

Where each day comes from, in this order of priority:

1. ``chinese_calendar`` (package ``chinese-calendar`` 1.11.0): the years it holds data for, i.e.
   the years for which its ``is_workday`` does not raise ``NotImplementedError`` (2004-2026 in
   1.11.0). Official. For speed the table reads the package's exported ``holidays`` and
   ``workdays`` tables with the exact rule of its ``is_workday``; the tests check that every day
   agrees with ``is_workday``.
2. ``holidays`` (package ``holidays`` 0.109, ``holidays.country_holidays("CN")``): a year counts
   as official in this package only if it lists at least one **adjusted working weekend**
   (``weekend_workdays``) in that year. Rationale: the package computes China's statutory
   holidays (Spring Festival, National Day, ...) from the lunar calendar for *every* year from
   1950 to 2100, so "it lists the Spring Festival" proves nothing; the adjusted working weekends
   come only from the State Council notices the maintainers have transcribed
   (``special_public_holidays``), and every notice since 2001 has at least one. In 0.109 that is
   2001-2026, so this source adds 2001-2003 (before ``chinese_calendar``). **2027 is not
   official in 0.109**: its 2027 days off are the statutory holidays plus days "observed" by a
   mechanical weekend-to-next-workday rule, with no adjusted working weekend, i.e. an estimate,
   not the notice. When a later release transcribes the 2027 notice, 2027 becomes official here
   without code changes.
3. Every other year in range (2000 and 2027-2040 with the packages above) is **provisional**:
   weekends, plus the statutory holidays and the weekend make-up days that ``holidays`` estimates
   for it (``is_working_day``); weekends only where it knows nothing. Because days off given in
   exchange for a worked weekend net out, the estimate usually loses the right number of working
   days around a holiday, but the dates may move once the notice is published: a deadline that
   depends on a provisional day is marked as such (``is_provisional``), never refused.

Known disagreement between the sources: 2005-12-31 (Saturday) is a working day in ``holidays``
(2006 notice) and a rest day in ``chinese_calendar``; the latter wins by priority. No other day of
2004-2026 differs.

Deadlines count the working days *after* the day of the fact: the deadline of a fact on day ``s``
due within ``n`` working days is the ``n``-th working day after ``s`` (a fact on a holiday starts
counting at the next working day). A report is late when it is made on a day after the deadline,
including a rest day right after it. In terms of :meth:`WorkingCalendar.rows` (``wi`` the
``workday_index``, ``w`` the ``workday`` flag), for ``n >= 0`` a report on day ``r`` of a fact of
day ``s`` is late exactly when::

    r > s AND (wi(r) - wi(s) > n OR (wi(r) - wi(s) = n AND NOT w(r)))

A deadline is provisional when a day it counts over is: since the provisional years lie at the
ends of the range, check ``is_provisional`` on the deadline (and on the day of the fact). The last
days of a known year can still change when the next year's notice makes one of its weekends a
working day (as the 2002 notice did with 2001-12-29 and 2001-12-30).

Build cost, measured on the development machine (Python 3.11, ``time.perf_counter``): the first
construction of the table for 2000-01-01..2040-12-31 (14,976 days) in a fresh process takes
0.05-0.07 s, nearly all of it ``holidays`` loading its China data and computing 2000-2003 and
2027-2040 (``chinese_calendar``'s tables are read directly); later constructions take about
0.01 s; importing this module about 0.06 s; :meth:`WorkingCalendar.rows` about 0.01 s on first
call. :func:`default_calendar` builds it once per process.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import chinese_calendar  # type: ignore[import-untyped]
import holidays

FIRST_DAY: date = date(2000, 1, 1)
LAST_DAY: date = date(2040, 12, 31)

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

Source = Literal["chinese_calendar", "holidays", "provisional"]


def day_number(d: date) -> int:
    """Days since 1970-01-01 (``date(1970, 1, 1)`` is 0)."""
    return d.toordinal() - _EPOCH_ORDINAL


def from_day_number(n: int) -> date:
    """The date ``n`` days after 1970-01-01; inverse of :func:`day_number`."""
    return date.fromordinal(n + _EPOCH_ORDINAL)


@dataclass(frozen=True, slots=True)
class DayInfo:
    """One row of the calendar table."""

    day: int  # day_number
    workday: bool  # a working day in mainland China
    workday_index: int  # working days from the calendar's first day up to and including this day
    provisional: bool  # the year's official schedule is not known (weekends only / partial)


def _chinese_calendar_years(years: range) -> frozenset[int]:
    """The years ``chinese_calendar`` holds data for (it raises NotImplementedError otherwise)."""
    known: set[int] = set()
    for year in years:
        try:
            chinese_calendar.is_workday(date(year, 1, 1))
        except NotImplementedError:
            continue
        known.add(year)
    return frozenset(known)


class WorkingCalendar:
    """Working days of mainland China between FIRST_DAY and LAST_DAY (built once, cached)."""

    def __init__(self, first: date = FIRST_DAY, last: date = LAST_DAY) -> None:
        if last < first:
            raise ValueError(f"working calendar range is empty: {first} is after {last}")
        self._first = first
        self._last = last
        self._first_ordinal = first.toordinal()
        years = range(first.year, last.year + 1)

        cc_years = _chinese_calendar_years(years)
        other_years = [y for y in years if y not in cc_years]
        hol = (
            holidays.country_holidays("CN", years=other_years, expand=False)
            if other_years
            else None
        )
        hol_official = (
            frozenset(d.year for d in hol.weekend_workdays if d.year in other_years)
            if hol is not None
            else frozenset()
        )
        self._sources: dict[int, Source] = {
            y: "chinese_calendar"
            if y in cc_years
            else "holidays"
            if y in hol_official
            else "provisional"
            for y in years
        }
        self._known_years = frozenset(y for y, s in self._sources.items() if s != "provisional")

        cc_holidays = chinese_calendar.holidays
        cc_workdays = chinese_calendar.workdays
        n_days = last.toordinal() - self._first_ordinal + 1
        flags = bytearray(n_days)
        index: list[int] = [0] * n_days
        count = 0
        one_day = timedelta(days=1)
        d = first
        for i in range(n_days):
            if self._sources[d.year] == "chinese_calendar":
                # The rule of chinese_calendar.is_workday, without its per-call range check.
                work = d in cc_workdays or (d.weekday() <= 4 and d not in cc_holidays)
            elif hol is not None:
                work = hol.is_working_day(d)
            else:  # pragma: no cover - every year is either chinese_calendar's or in `hol`
                work = d.weekday() <= 4
            if work:
                flags[i] = 1
                count += 1
            index[i] = count
            d += one_day
        self._workday = bytes(flags)
        self._index = index
        self._rows: tuple[DayInfo, ...] | None = None

    # -- range ----------------------------------------------------------------------------------

    @property
    def first(self) -> date:
        return self._first

    @property
    def last(self) -> date:
        return self._last

    def _offset(self, d: date) -> int:
        if not self._first <= d <= self._last:
            raise ValueError(
                f"date {d.isoformat()} is outside the working calendar, "
                f"which covers {self._first.isoformat()} to {self._last.isoformat()}"
            )
        return d.toordinal() - self._first_ordinal

    # -- single days ----------------------------------------------------------------------------

    def is_workday(self, d: date) -> bool:
        return self._workday[self._offset(d)] == 1

    def is_provisional(self, d: date) -> bool:
        self._offset(d)
        return self._sources[d.year] == "provisional"

    def source(self, year: int) -> Source:
        """Where the year's days come from: chinese_calendar, holidays or provisional."""
        try:
            return self._sources[year]
        except KeyError:
            raise ValueError(
                f"year {year} is outside the working calendar, "
                f"which covers {self._first.year} to {self._last.year}"
            ) from None

    def known_years(self) -> frozenset[int]:
        """Years in range with an official schedule (not provisional)."""
        return self._known_years

    # -- deadlines ------------------------------------------------------------------------------

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: after the day of the fact, up to and including `end`.
        0 when end <= start."""
        s = self._offset(start)
        e = self._offset(end)
        if e <= s:
            return 0
        return self._index[e] - self._index[s]

    def deadline(self, start: date, working_days: int) -> date:
        """The last day to report a fact of `start` due within `working_days` working days:
        the working_days-th working day after start (`start` itself for 0).

        Raises ValueError when `working_days` is negative or the deadline falls after the end
        of the calendar."""
        _check_working_days(working_days)
        s = self._offset(start)
        if working_days == 0:
            return start
        j = bisect_left(self._index, self._index[s] + working_days, lo=s + 1)
        if j >= len(self._index):
            raise ValueError(
                f"the deadline of {working_days} working days after {start.isoformat()} falls "
                f"after {self._last.isoformat()}, the end of the working calendar"
            )
        return date.fromordinal(self._first_ordinal + j)

    def is_late(self, start: date, reported: date, working_days: int) -> bool:
        """reported after deadline(start, working_days): on a day after the working_days-th
        working day after start (a rest day right after the deadline is already late).

        Unlike :meth:`deadline`, this works when the deadline itself falls after the end of
        the calendar (nothing reported within the calendar is then late)."""
        _check_working_days(working_days)
        s = self._offset(start)
        r = self._offset(reported)
        if r <= s:
            return False
        elapsed = self._index[r] - self._index[s]
        return elapsed > working_days or (elapsed == working_days and not self._workday[r])

    # -- table ----------------------------------------------------------------------------------

    def rows(self) -> list[DayInfo]:
        """Every day first..last in order (the calendar table other code loads into SQL)."""
        if self._rows is None:
            first_number = day_number(self._first)
            sources = self._sources
            first_year = self._first.year
            rows: list[DayInfo] = []
            year_end = date(first_year, 12, 31).toordinal() - self._first_ordinal
            year = first_year
            provisional = sources[year] == "provisional"
            for i, (flag, wi) in enumerate(zip(self._workday, self._index, strict=True)):
                if i > year_end:
                    year += 1
                    year_end = date(year, 12, 31).toordinal() - self._first_ordinal
                    provisional = sources[year] == "provisional"
                rows.append(DayInfo(first_number + i, flag == 1, wi, provisional))
            self._rows = tuple(rows)
        return list(self._rows)


def _check_working_days(working_days: int) -> None:
    if working_days < 0:
        raise ValueError(f"a deadline needs a non-negative number of working days: {working_days}")


@functools.cache
def default_calendar() -> WorkingCalendar:
    """The shared calendar for FIRST_DAY..LAST_DAY, built on first use."""
    return WorkingCalendar()
