"""The supervision rules' settings: deadlines, waiting periods, legal minimums, severities.

Every number a rule uses is here with its source, and each can be changed in a TOML file named
by ``BATTRACE_SUPERVISION_RULES`` (see ``docs/supervision.md``)::

    collect_days = 45
    [deadlines]
    dealer = 20
    [severity]
    late_report = "medium"

Unknown keys and bad values are refused with the key named.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import Any, Final

from battrace.errors import ValidationError
from battrace.supervision.findings import Severity

#: Rules in the order they are evaluated, with their default severity.
RULE_SEVERITY: Final[dict[str, Severity]] = {
    "late_report": Severity.LOW,
    "retired_not_collected": Severity.HIGH,
    "shipment_not_received": Severity.HIGH,
    "not_forwarded": Severity.MEDIUM,
    "vanished": Severity.MEDIUM,
    "off_whitelist_flow": Severity.HIGH,
    "mass_balance": Severity.HIGH,
    "low_recovery": Severity.MEDIUM,
    "low_reuse_share": Severity.MEDIUM,
    "reused_code": Severity.CRITICAL,
    "unknown_code": Severity.MEDIUM,
    "event_after_end": Severity.HIGH,
    "vin_two_packs": Severity.HIGH,
    "scrapped_without_battery": Severity.CRITICAL,
}

#: Rules judged per battery: an incremental evaluation over the batteries new events touched
#: gives exactly their findings. The others (per firm and year) are left to sweeps.
BATTERY_RULES: Final = tuple(r for r in RULE_SEVERITY if r != "low_reuse_share")

#: 2018 Interim Provisions on Traceability Management of NEV Power Batteries: working days
#: each party has to report a fact (battery makers 15 as vehicle makers; the sale deadline of
#: Art. 9 is not confirmed, 30 assumed).
DEADLINES: Final[dict[str, int]] = {
    "battery_maker": 15,
    "vehicle_maker": 15,
    "importer": 15,
    "dealer": 30,
    "repairer": 30,
    "swap_operator": 30,
    "collection_outlet": 30,
    "dismantler": 15,
    "echelon_firm": 15,
    "recycler": 30,
}

#: Minimum recovery by smelting, 2024 industry standard conditions for the comprehensive
#: utilisation of waste NEV power batteries (Li >= 90 %, Ni/Co/Mn >= 98 %).
CHINA_MIN_RECOVERY: Final[dict[str, float]] = {"li": 0.90, "ni": 0.98, "co": 0.98, "mn": 0.98}

#: EU Battery Regulation 2023/1542 Annex XII part C, material recovery targets: (first day
#: they apply, shares). "By 31 December 2027" applies to recycling from 2028 on.
EU_MIN_RECOVERY: Final[tuple[tuple[date, dict[str, float]], ...]] = (
    (date(2028, 1, 1), {"co": 0.90, "ni": 0.90, "cu": 0.90, "li": 0.50}),
    (date(2032, 1, 1), {"co": 0.95, "ni": 0.95, "cu": 0.95, "li": 0.80}),
)


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """What the rules check. Defaults follow the regulations; see each field's comment."""

    rules: tuple[str, ...] = tuple(RULE_SEVERITY)
    severity: dict[str, Severity] = field(default_factory=lambda: dict(RULE_SEVERITY))
    deadlines: dict[str, int] = field(default_factory=lambda: dict(DEADLINES))
    # event types that carry no reporting duty of their own
    exempt_types: tuple[str, ...] = ("correction",)
    # a retired pack (taken out by a repairer or dismantler) must be shipped or collected
    # within this many days (2026 Interim Measures: waste batteries are handed in; the number
    # of days is not set by the text: configurable)
    collect_days: int = 60
    retirement_types: tuple[str, ...] = ("replaced", "removed")
    # a shipment must be received (goods in reported) within this many days
    receive_days: int = 30
    # an outlet or vehicle maker passes what it collected to a whitelisted firm within this
    # many days, counted from when the first firm was on the whitelist at the earliest
    forward_days: int = 90
    # a battery held by an echelon firm or recycler with no event for this long has vanished
    vanish_days: int = 365
    # firms that must be on the whitelist to take in waste batteries
    treating_roles: tuple[str, ...] = ("echelon_firm", "recycler")
    # outputs above the input's content by more than this share break the mass balance
    mass_tolerance: float = 0.005
    china_min_recovery: dict[str, float] = field(default_factory=lambda: dict(CHINA_MIN_RECOVERY))
    eu_min_recovery: tuple[tuple[date, dict[str, float]], ...] = EU_MIN_RECOVERY
    # industry standard conditions: echelon firms reuse >= 60 % of their intake by weight,
    # judged per completed year for firms taking in at least min_reuse_intake_kg
    min_reuse_share: float = 0.60
    min_reuse_intake_kg: float = 10_000.0

    def minimum_recovery(self, year: int) -> dict[str, float]:
        """The strictest minimum per metal for recycling done in ``year``."""
        minimum = dict(self.china_min_recovery)
        for start, shares in self.eu_min_recovery:
            if date(year, 12, 31) >= start:
                for metal, share in shares.items():
                    minimum[metal] = max(minimum.get(metal, 0.0), share)
        return minimum


_NUMBERS = {
    "collect_days",
    "receive_days",
    "forward_days",
    "vanish_days",
    "mass_tolerance",
    "min_reuse_share",
    "min_reuse_intake_kg",
}


def _bad(key: str, rule: str, message: str) -> ValidationError:
    return ValidationError(f"{key}: {message}", field=key, rule=rule)


def load_settings(path: str | Path | None) -> RuleSettings:
    """Settings from a TOML file over the defaults (``None``: the defaults)."""
    settings = RuleSettings()
    if path is None:
        return settings
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise _bad("supervision_rules", "readable", f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise _bad("supervision_rules", "toml", f"{path} is not TOML: {exc}") from None
    return apply_overrides(settings, data)


def apply_overrides(settings: RuleSettings, data: dict[str, Any]) -> RuleSettings:
    """``settings`` with the keys of ``data`` changed; refuses unknown keys and bad values."""
    known = {f.name for f in fields(RuleSettings)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise _bad(
                key, "known_setting", f"is not a supervision setting ({', '.join(sorted(known))})"
            )
        if key in _NUMBERS:
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise _bad(key, "non_negative_number", f"must be a number >= 0, got {value!r}")
            changes[key] = type(getattr(settings, key))(value)
        elif key == "rules":
            unknown = (
                [r for r in value if r not in RULE_SEVERITY] if isinstance(value, list) else [value]
            )
            if unknown:
                raise _bad(key, "known_rule", f"unknown rule {unknown[0]!r}")
            changes[key] = tuple(value)
        elif key == "deadlines":
            merged = dict(settings.deadlines)
            for role, days in _table(key, value).items():
                if not isinstance(days, int) or isinstance(days, bool) or days < 1:
                    raise _bad(
                        f"deadlines.{role}", "positive_integer", f"must be >= 1, got {days!r}"
                    )
                merged[role] = days
            changes[key] = merged
        elif key == "severity":
            sev = dict(settings.severity)
            for rule, level in _table(key, value).items():
                if rule not in RULE_SEVERITY:
                    raise _bad(f"severity.{rule}", "known_rule", f"unknown rule {rule!r}")
                try:
                    sev[rule] = Severity(level)
                except ValueError:
                    levels = ", ".join(s.value for s in Severity)
                    raise _bad(f"severity.{rule}", "enum", f"must be one of {levels}") from None
            changes[key] = sev
        elif key == "china_min_recovery":
            table = {}
            for metal, share in _table(key, value).items():
                if not isinstance(share, int | float) or not 0 <= share <= 1:
                    raise _bad(f"{key}.{metal}", "share", f"must be between 0 and 1, got {share!r}")
                table[metal] = float(share)
            changes[key] = table
        else:
            raise _bad(key, "settable", "cannot be set from a file")
    return replace(settings, **changes)


def _table(key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(key, "table", "must be a TOML table")
    return value
