"""The rule breaches the simulator injects, their rates, and the ground-truth labels.

Each injected breach is labelled with the rule it breaks, the battery and the enterprise at
fault, so a supervision rule can be scored against the truth. Labels are written as CSV with the
columns ``rule,battery,enterprise,event_ref,detail`` (``event_ref`` is the ``ref`` of the event
the breach shows in, ``sim-<n>``).

Rates are probabilities per opportunity: per event for ``late_report``, per pack for the
others (see :data:`RATE_UNITS`). ``REFUSED_RULES`` are breaches the platform's state machine
refuses at the door: their events are kept apart and submitted one by one after the valid
stream, where they are expected to fail.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Final, NamedTuple

from battrace.errors import ValidationError


class Label(NamedTuple):
    """One injected breach: the ground truth a supervision rule should find."""

    rule: str
    battery: str
    enterprise: str
    event_ref: str
    detail: str


LABEL_COLUMNS: Final = ("rule", "battery", "enterprise", "event_ref", "detail")

#: Every rule, with where it comes from (the legal source or the platform rule it breaks).
RULES: Final[dict[str, str]] = {
    "late_report": "2018 Interim Provisions on Traceability Management: 15/30 working days",
    "retired_not_collected": "2026 Interim Measures: waste batteries must be handed in",
    "shipment_not_received": "2018 Interim Provisions: goods in and out are reported",
    "not_forwarded": "2018 Interim Provisions: outlets pass batteries on to echelon/recyclers",
    "off_whitelist_flow": "Industry standard conditions: only whitelisted firms treat batteries",
    "mass_balance": "Recycler outputs cannot exceed what the battery contains",
    "low_recovery": "2024 industry standard conditions: Li >= 90 %, Ni/Co/Mn >= 98 %",
    "reused_code": "GB/T 34014-2017: a code is unique (platform rule registered_once)",
    "event_after_end": "Nothing follows recycling or disposal (platform rule after_end_of_life)",
    "vin_two_packs": "2018 Interim Provisions: the battery codes bound to a vehicle are exact",
    "scrapped_without_battery": "2026 Interim Measures: vehicle and battery scrapped together",
}

#: What one unit of each rate counts.
RATE_UNITS: Final[dict[str, str]] = {
    "late_report": "event",
    "retired_not_collected": "retired pack",
    "shipment_not_received": "retired pack",
    "not_forwarded": "pack collected by an outlet or vehicle maker",
    "off_whitelist_flow": "flow of a pack to an echelon firm or recycler",
    "mass_balance": "recycled pack",
    "low_recovery": "recycled pack",
    "reused_code": "original pack produced",
    "event_after_end": "recycled or disposed pack",
    "vin_two_packs": "vehicle",
    "scrapped_without_battery": "scrapped vehicle",
}

#: Rates used when none is given: small enough to be realistic, large enough to show up in a
#: few thousand batteries.
DEFAULT_RATES: Final[dict[str, float]] = {
    "late_report": 0.01,
    "retired_not_collected": 0.02,
    "shipment_not_received": 0.01,
    "not_forwarded": 0.01,
    "off_whitelist_flow": 0.02,
    "mass_balance": 0.01,
    "low_recovery": 0.03,
    "reused_code": 0.0005,
    "event_after_end": 0.005,
    "vin_two_packs": 0.001,
    "scrapped_without_battery": 0.01,
}

#: Breaches the state machine refuses: reusing a registered code, an event after recycling.
REFUSED_RULES: Final = frozenset({"reused_code", "event_after_end"})


def check_rates(rates: Mapping[str, float]) -> dict[str, float]:
    """Return a full rate table: ``rates`` over the defaults.

    Raises ``ValidationError`` (field ``violation``) naming an unknown rule or a rate outside
    0 to 1.
    """
    table = dict(DEFAULT_RATES)
    for rule, rate in rates.items():
        if rule not in RULES:
            raise ValidationError(
                f"violation: unknown rule {rule!r} (known: {', '.join(RULES)})",
                field="violation",
                rule="known_rule",
            )
        if not 0.0 <= rate <= 1.0:
            raise ValidationError(
                f"violation: rate of {rule} must be between 0 and 1, got {rate}",
                field="violation",
                rule="range",
            )
        table[rule] = float(rate)
    return table


def parse_rates(every: float | None, overrides: Iterable[str]) -> dict[str, float]:
    """Rates from the command line: ``every`` for all rules, then ``RULE=RATE`` overrides.

    Raises ``ValidationError`` naming the option (``violation_rate`` or ``violation``).
    """
    rates: dict[str, float] = {}
    if every is not None:
        if not 0.0 <= every <= 1.0:
            raise ValidationError(
                f"violation_rate: must be between 0 and 1, got {every}",
                field="violation_rate",
                rule="range",
            )
        rates = dict.fromkeys(RULES, every)
    for text in overrides:
        rule, sep, value = text.partition("=")
        try:
            rate = float(value) if sep else None
        except ValueError:
            rate = None
        if rate is None or rate != rate:  # NaN is not a rate
            raise ValidationError(
                f"violation: {text!r} is not RULE=RATE, e.g. late_report=0.05",
                field="violation",
                rule="format",
            )
        rates[rule.strip()] = rate
    return check_rates(rates)


def label_writer(stream: IO[str]) -> Callable[[Label], None]:
    """Write the labels CSV header to ``stream``; returns a function that writes one label."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(LABEL_COLUMNS)
    return writer.writerow


def read_labels(stream: IO[str]) -> list[Label]:
    """Labels back from a CSV written through :func:`label_writer` (for tests and tools)."""
    return [Label(*(row[c] for c in LABEL_COLUMNS)) for row in csv.DictReader(stream)]
