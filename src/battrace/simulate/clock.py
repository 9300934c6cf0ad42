"""Simulated time: whole minutes since 2000-01-01 00:00 China Standard Time.

Integers are cheap to add and compare, and a timestamp is formatted only when an event is
written. Every time is in UTC+08:00, the calendar reporting deadlines are counted in.
"""

from __future__ import annotations

import functools
import random
from datetime import date
from typing import Final

from battrace.simulate import parameters as params

DAY: Final = 1440
YEAR: Final = 525_960  # minutes in 365.25 days
_EPOCH: Final = date(2000, 1, 1).toordinal()
_CLOCK: Final = tuple(f"T{h:02d}:{m:02d}:00+08:00" for h in range(24) for m in range(60))


def at_day(day: date | int, minute_of_day: int = 0) -> int:
    """The time of ``minute_of_day`` on ``day`` (a date or a proleptic ordinal)."""
    ordinal = day.toordinal() if isinstance(day, date) else day
    return (ordinal - _EPOCH) * DAY + minute_of_day


def ordinal(t: int) -> int:
    """The proleptic ordinal of the day ``t`` falls on."""
    return _EPOCH + t // DAY


def day_of(t: int) -> date:
    return date.fromordinal(ordinal(t))


@functools.lru_cache(maxsize=1 << 15)
def _day_text(day: int) -> str:
    return date.fromordinal(_EPOCH + day).isoformat()


def timestamp(t: int) -> str:
    """ISO 8601 text with the +08:00 offset, e.g. ``2024-04-01T09:30:00+08:00``."""
    day, minute = divmod(t, DAY)
    return _day_text(day) + _CLOCK[minute]


def day_text(t: int) -> str:
    """The ``YYYY-MM-DD`` of ``t``."""
    return _day_text(t // DAY)


def after(rng: random.Random, t: int, low_days: int, high_days: int) -> int:
    """A working-hours time ``low_days`` to ``high_days`` days after ``t`` (always later).

    Zero days means later the same day (10 minutes to 4 hours on); otherwise a time between
    08:00 and 18:00 of the day drawn.
    """
    days = low_days + int(rng.random() * (high_days - low_days + 1))
    if days <= 0:
        return t + 10 + int(rng.random() * 230)
    return (t // DAY + days) * DAY + 480 + int(rng.random() * 600)


def on_time_delay(rng: random.Random) -> int:
    """Minutes from a fact to its report when the reporter is on time: mostly the same day or
    within three days, at most ``ON_TIME_MAX_DAYS`` days (well inside 15 working days)."""
    r = rng.random()
    if r < 0.55:
        return 5 + int(rng.random() * 595)
    if r < 0.9:
        return DAY + int(rng.random() * 2 * DAY)
    return 3 * DAY + int(rng.random() * (params.ON_TIME_MAX_DAYS - 3) * DAY)


def late_delay(rng: random.Random) -> int:
    """Minutes from a fact to a late report: beyond every deadline, whatever the holidays."""
    low, high = params.LATE_MIN_DAYS * DAY, params.LATE_MAX_DAYS * DAY
    return low + int(rng.random() * (high - low))
