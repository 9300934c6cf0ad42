"""Test helpers: battery codes, VINs and event dicts with little typing."""

from __future__ import annotations

from datetime import date
from typing import Any

from battrace.codes import generate_battery_code, generate_vin
from battrace.services.demo import DemoFirm

LFP_PACK = {
    "chemistry": "LFP",
    "rated_capacity_ah": "150",
    "nominal_voltage_v": "384",
    "energy_kwh": "57.6",
    "mass_kg": "400",
    "composition": {"li": "4.1", "fe": "36.5", "cu": "22", "al": "70", "graphite": "52"},
}
LFP_CELL = {
    "chemistry": "LFP",
    "rated_capacity_ah": "150",
    "nominal_voltage_v": "3.2",
    "energy_kwh": "0.48",
    "mass_kg": "2.8",
    "composition": {"li": "0.03"},
}
LFP_MODULE = {
    "chemistry": "LFP",
    "rated_capacity_ah": "150",
    "nominal_voltage_v": "38.4",
    "energy_kwh": "5.76",
    "mass_kg": "36",
}


def code(
    maker: str = "N1D",
    n: int = 1,
    *,
    level: str = "pack",
    letter: str = "B",
    day: date = date(2024, 3, 15),
    second_life: bool = False,
) -> str:
    return generate_battery_code(
        manufacturer=maker,
        product_type=level,
        battery_type=letter,
        spec="A1",
        traceability=None if second_life else "TEST001",
        production_date=day,
        serial=n,
        second_life=second_life,
    )


def vin(n: int = 1) -> str:
    return generate_vin("LDM", "TESTB", f"{n:08d}")


def event(
    kind: str,
    actor: DemoFirm,
    batteries: list[str],
    *,
    when: str = "2024-04-01",
    counterparty: DemoFirm | None = None,
    **body: Any,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": kind,
        "batteries": batteries,
        "actor": actor.credit_code,
        "occurred_at": when,
        "body": body,
    }
    if counterparty is not None:
        data["counterparty"] = counterparty.credit_code
    return data


def produced(
    maker: DemoFirm, codes: list[str], spec: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return event("produced", maker, codes, when="2024-03-15", **(spec or LFP_PACK), **extra)
