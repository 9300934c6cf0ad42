"""One vehicle's story: the events of its packs, collected before they are put in time order.

The life generator appends events as it walks through a vehicle's life (and the lives of the
packs that pass through it); :meth:`Story.in_order` sorts them by time, stable, so that events
made in order at the same minute stay in order, and drops those after the horizon. Because every
event's prerequisites happen earlier in time, cutting at the horizon keeps each battery's
history valid. :class:`Run` holds what every part of the generator shares: the random source,
the world, the code mint, the rates and the horizon.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from battrace.simulate import clock
from battrace.simulate.config import SimConfig
from battrace.simulate.identities import Mint
from battrace.simulate.violations import Label
from battrace.simulate.world import World

# a breach that means "never" (never collected, never received...) is injected only this long
# before the horizon, so that its absence is visible in the data
GRACE = 90 * clock.DAY


@dataclass(slots=True)
class PlannedEvent:
    """An event before it gets its ref and report time.

    ``labels`` are breaches shown in this event (their ``event_ref`` is filled in when the
    event is numbered); ``refused`` marks an event the platform is expected to refuse.
    """

    t: int
    kind: str
    batteries: list[str]
    actor: str
    counterparty: str | None
    body: dict[str, Any] | None
    role: str
    labels: list[Label] | None = None
    refused: bool = False


@dataclass(slots=True)
class Story:
    """The events of one vehicle's story, in the order they were made."""

    events: list[PlannedEvent] = field(default_factory=list)

    def add(
        self,
        t: int,
        kind: str,
        batteries: list[str],
        actor: str,
        role: str,
        *,
        counterparty: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> PlannedEvent:
        event = PlannedEvent(t, kind, batteries, actor, counterparty, body, role)
        self.events.append(event)
        return event

    def in_order(self, horizon: int) -> list[PlannedEvent]:
        """The events up to ``horizon`` (included), sorted by time (stable)."""
        kept = [e for e in self.events if e.t <= horizon]
        kept.sort(key=_time)
        return kept


def _time(event: PlannedEvent) -> int:
    return event.t


def label(event: PlannedEvent, rule: str, battery: str, enterprise: str, detail: str) -> None:
    """Attach a breach to ``event``; its ``event_ref`` is set when the event is numbered."""
    found = Label(rule, battery, enterprise, "", detail)
    if event.labels is None:
        event.labels = [found]
    else:
        event.labels.append(found)


class Run:
    """What every part of the life generator shares during one run."""

    def __init__(self, config: SimConfig, world: World, rng: random.Random) -> None:
        self.config = config
        self.world = world
        self.rng = rng
        self.mint = Mint()
        self.rates = dict(config.rates)
        self.horizon = clock.at_day(config.horizon, clock.DAY - 1)
        self.first_listing = world.first_listing()

    def breach(self, rule: str, when: int | None = None) -> bool:
        """Roll for one opportunity of ``rule``; a breach that means "never" passes the time
        of its last event as ``when`` and is only injected well before the horizon."""
        rate = self.rates[rule]
        if rate <= 0.0:
            return False
        if when is not None and when + GRACE > self.horizon:
            return False
        return self.rng.random() < rate
