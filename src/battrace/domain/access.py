"""Who may read and write what: the authorisation rules, pure (no I/O).

A caller is anonymous, an enterprise acting as itself, a provincial regulator or the national
regulator:

- an enterprise writes only as itself (an event's ``actor``, a battery's ``maker`` is its own
  credit code) and reads only its own data and its batteries': batteries it made, holds (or
  holds through the unit they are assembled into), is being sent, or that an event it reported
  or was the counterparty of names;
- a **provincial regulator** (an enterprise with the ``regulator`` role) reads everything in
  the province of its division: enterprises seated there, batteries whose current place or
  any of whose events is there, and manages those enterprises, their keys and tokens;
- the **national regulator** is a regulator whose credit code carries the division
  ``100000`` in positions 3-8, as GB 32100 codes central state organs (their seat division
  is Beijing's, so it cannot be told from the division); it reads and manages everything;
- anonymous callers read only the public log and a battery's public passport fields.

The HTTP API applies these rules (``docs/api.md`` has the route-by-caller matrix).
"""

from __future__ import annotations

from dataclasses import dataclass

from battrace.domain.entities import Enterprise
from battrace.domain.roles import Role

NATIONAL_DIVISION = "100000"
"""Positions 3-8 of the credit code of a central state organ (GB 32100)."""


def is_national_regulator(enterprise: Enterprise) -> bool:
    """Whether ``enterprise`` is a regulator of national jurisdiction (see module docstring)."""
    return Role.REGULATOR in enterprise.roles and enterprise.id[2:8] == NATIONAL_DIVISION


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sends a request: an authenticated enterprise, or nobody (``enterprise`` None)."""

    enterprise: Enterprise | None = None

    @property
    def id(self) -> str | None:
        return self.enterprise.id if self.enterprise is not None else None

    @property
    def is_regulator(self) -> bool:
        return self.enterprise is not None and Role.REGULATOR in self.enterprise.roles

    @property
    def is_national(self) -> bool:
        return self.enterprise is not None and is_national_regulator(self.enterprise)

    @property
    def province(self) -> str | None:
        """The province of the caller's seat (a provincial regulator's jurisdiction)."""
        return self.enterprise.province if self.enterprise is not None else None

    @property
    def kind(self) -> str:
        """``anonymous``, ``enterprise``, ``provincial_regulator`` or ``national_regulator``."""
        if self.enterprise is None:
            return "anonymous"
        if self.is_national:
            return "national_regulator"
        return "provincial_regulator" if self.is_regulator else "enterprise"


def governs(caller: Caller, province: str | None) -> bool:
    """Whether ``caller`` is a regulator with jurisdiction over ``province`` (``350000``)."""
    if not caller.is_regulator:
        return False
    return caller.is_national or (province is not None and province == caller.province)


@dataclass(frozen=True, slots=True)
class BatteryFacts:
    """What the rules need to know about a battery.

    ``parties``: its maker, holder, effective holder, pending receiver, and the actors and
    counterparties of its events; ``provinces``: the province of its current place and of
    every event's place.
    """

    parties: frozenset[str]
    provinces: frozenset[str]


def may_read_battery(caller: Caller, facts: BatteryFacts) -> bool:
    """Whether ``caller`` may read a battery's full record and history."""
    if caller.id is None:
        return False
    if caller.id in facts.parties:
        return True
    return caller.is_regulator and (
        caller.is_national or (caller.province is not None and caller.province in facts.provinces)
    )


def party_to_event(caller: Caller, actor: str, counterparty: str | None) -> bool:
    """Whether ``caller`` reported the event or is its counterparty."""
    return caller.id is not None and caller.id in (actor, counterparty)


def may_read_enterprise(caller: Caller, enterprise: Enterprise) -> bool:
    """An enterprise reads itself; a regulator reads enterprises in its jurisdiction."""
    return caller.id == enterprise.id or governs(caller, enterprise.province)


def may_manage_enterprise(caller: Caller, province: str) -> bool:
    """Only regulators register and manage enterprises (whitelist, keys, tokens), in their
    jurisdiction."""
    return governs(caller, province)


def may_write_as(caller: Caller, actor: str) -> bool:
    """An enterprise writes only as itself."""
    return caller.id is not None and caller.id == actor


__all__ = [
    "NATIONAL_DIVISION",
    "BatteryFacts",
    "Caller",
    "governs",
    "is_national_regulator",
    "may_manage_enterprise",
    "may_read_battery",
    "may_read_enterprise",
    "may_write_as",
    "party_to_event",
]
