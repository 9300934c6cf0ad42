"""What a supervision rule finds: one breach, with its evidence and a stable id.

A rule returns :class:`Finding` rows; :mod:`battrace.supervision.alerts` turns them into alerts
with a lifecycle. The id is derived from what the breach *is* (rule, battery, enterprise and a
subject that tells apart two breaches of the same rule by the same parties, e.g. the event
that was reported late), never from when it was found: a sweep that finds the same breach
again finds the same id, so one breach never raises two alerts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


SEVERITY_ORDER = {s: i for i, s in enumerate(Severity)}


def finding_id(rule: str, battery: str | None, enterprise: str | None, subject: str) -> str:
    """16 hex characters of SHA-256 over the breach's identity."""
    text = "\x1f".join((rule, battery or "", enterprise or "", subject))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Finding:
    """One breach found by one rule.

    ``evidence`` lists the ids of the events that show it (may be empty when the breach is an
    absence, e.g. a refused report or a yearly share); ``province`` is where it happened (for
    the regulators' jurisdiction); ``day`` the ISO date the breach became a breach (the missed
    deadline, the event date).
    """

    rule: str
    severity: Severity
    battery: str | None
    enterprise: str | None
    subject: str
    evidence: tuple[int, ...]
    detail: str
    province: str | None
    day: str | None

    @property
    def id(self) -> str:
        return finding_id(self.rule, self.battery, self.enterprise, self.subject)
