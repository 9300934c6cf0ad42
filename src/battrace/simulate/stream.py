"""The streaming generator: every event of a run, in an order the platform accepts.

Vehicles are taken in production-date order; each vehicle's story (its packs' whole lives,
:mod:`.lifecycle`) is emitted complete, in time order, before the next one starts, so memory
does not grow with the number of batteries and every event's prerequisites (the pack a swap
puts in, the code a repurposed product links to) come before it. How many vehicles are made
each year follows national NEV sales (exact shares, largest remainder), and within a year each
month's seasonal weight.

Every event gets ``ref`` ``sim-<n>`` (n counts from 1 in emission order) and a ``reported_at``
after its ``occurred_at``: on time (a few days at most) or, for an injected ``late_report``,
60 days to a year later.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any, NamedTuple

from battrace.simulate import clock
from battrace.simulate import parameters as params
from battrace.simulate.config import SimConfig
from battrace.simulate.lifecycle import VehicleLife
from battrace.simulate.story import PlannedEvent, Run
from battrace.simulate.violations import Label
from battrace.simulate.world import World, build_world


class SimEvent(NamedTuple):
    """One generated event: the JSON-ready dict, whether the platform should refuse it, and
    the breaches it shows (already carrying its ref)."""

    event: dict[str, Any]
    refused: bool
    labels: tuple[Label, ...]


def largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` into whole numbers summing to ``total``
    (largest remainders first, ties to the earlier item)."""
    weight_sum = sum(weights)
    shares = [total * w / weight_sum for w in weights]
    counts = [int(s) for s in shares]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - shares[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def yearly_counts(config: SimConfig) -> dict[int, int]:
    """Vehicles made each year: ``batteries`` split as national NEV sales were."""
    years = list(range(config.start_year, config.end_year + 1))
    counts = largest_remainder(config.batteries, [params.NEV_SALES_MILLIONS[y] for y in years])
    return dict(zip(years, counts, strict=True))


def daily_counts(year: int, count: int) -> Iterator[tuple[date, int]]:
    """``count`` vehicles of ``year`` spread over its days by month weight, in date order."""
    first = date(year, 1, 1)
    days = 366 if calendar.isleap(year) else 365
    weights = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        weights.append(
            params.MONTH_WEIGHTS[day.month - 1] / calendar.monthrange(year, day.month)[1]
        )
    for offset, n in enumerate(largest_remainder(count, weights)):
        if n:
            yield first + timedelta(days=offset), n


def simulate_events(config: SimConfig, world: World | None = None) -> Iterator[SimEvent]:
    """Every event of the run described by ``config``, as :class:`SimEvent` items.

    Deterministic: the same ``config`` gives the same items in the same order (all randomness
    comes from ``random.Random`` instances seeded from ``config.seed``; nothing reads the
    clock). ``world`` defaults to ``build_world(config.seed, config.batteries)``; pass it when
    the caller has it already. Events with ``refused`` set break a rule the platform refuses
    at the door (see :data:`battrace.simulate.violations.REFUSED_RULES`).
    """
    if world is None:
        world = build_world(config.seed, config.batteries)
    rng = random.Random(f"battrace-simulate/{config.seed}/life")
    run = Run(config, world, rng)
    late_rate = run.rates["late_report"]
    draw, timestamp, on_time, late = (
        rng.random,
        clock.timestamp,
        clock.on_time_delay,
        clock.late_delay,
    )
    no_labels: tuple[Label, ...] = ()
    for number, planned in enumerate(_planned_events(config, run), start=1):
        ref = f"sim-{number}"
        t = planned.t
        labels = planned.labels
        if late_rate and draw() < late_rate and planned.batteries and not planned.refused:
            reported = t + late(rng)
            labels = [*(labels or ()), _late_label(planned, reported)]
        else:
            reported = t + on_time(rng)
        if planned.counterparty is None:
            data: dict[str, Any] = {
                "type": planned.kind,
                "batteries": planned.batteries,
                "actor": planned.actor,
                "occurred_at": timestamp(t),
                "reported_at": timestamp(reported),
                "ref": ref,
            }
        else:
            data = {
                "type": planned.kind,
                "batteries": planned.batteries,
                "actor": planned.actor,
                "counterparty": planned.counterparty,
                "occurred_at": timestamp(t),
                "reported_at": timestamp(reported),
                "ref": ref,
            }
        if planned.body:
            data["body"] = planned.body
        if labels:
            found = tuple(lab._replace(event_ref=ref) for lab in labels)
            yield SimEvent(data, planned.refused, found)
        else:
            yield SimEvent(data, planned.refused, no_labels)


def _planned_events(config: SimConfig, run: Run) -> Iterator[PlannedEvent]:
    """The planned events of every vehicle's story, vehicle after vehicle."""
    story, horizon = VehicleLife(run).story, run.horizon
    for year, count in yearly_counts(config).items():
        for day, vehicles in daily_counts(year, count):
            for _ in range(vehicles):
                yield from story(day).in_order(horizon)


def _late_label(planned: PlannedEvent, reported: int) -> Label:
    days = (reported - planned.t) // clock.DAY
    deadline = params.DEADLINE_WORKING_DAYS[planned.role]
    return Label(
        "late_report",
        planned.batteries[0],
        planned.actor,
        "",
        f"{planned.kind} reported {days} days after it happened; deadline {deadline} working days",
    )
