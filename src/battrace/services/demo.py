"""A small deterministic demo world: enterprises and batteries walked through their whole life.

Used by ``make run`` (``battrace demo``), by the tests and by the benchmarks. It is not the
national simulator (that one models sales, chemistry mix, lifetimes and violations); it only
makes valid, varied lifecycles quickly: produced -> shipped -> received -> installed -> sold,
then for most packs scrapping, removal, collection at an outlet, and either second-life use or
recycling, with tests, repairs, pack replacements and swaps along the way.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from battrace.codes import generate_battery_code, generate_credit_code, generate_vin
from battrace.domain.quantities import CHINA_TZ
from battrace.services.enterprises import register_firm
from battrace.services.reporting import SourceItem, report_events
from battrace.store.base import Store


@dataclass(frozen=True, slots=True)
class DemoFirm:
    credit_code: str
    name: str
    roles: tuple[str, ...]
    division: str
    manufacturer_code: str | None = None
    whitelisted: bool = False


_FIRMS: tuple[tuple[str, tuple[str, ...], str, str | None, bool], ...] = (
    ("Ningde Demo Battery Co.", ("battery_maker",), "350900", "N1D", False),
    ("Shenzhen Demo Cells Co.", ("battery_maker",), "440300", "S2C", False),
    ("Shanghai Demo Motors", ("vehicle_maker",), "310000", None, False),
    ("Hefei Demo Auto", ("vehicle_maker", "dealer"), "340100", None, False),
    ("Beijing Demo Dealer", ("dealer",), "110000", None, False),
    ("Guangzhou Demo Repair", ("repairer",), "440100", None, False),
    ("Hangzhou Demo Swap", ("swap_operator",), "330100", None, False),
    ("Tianjin Demo Dismantling", ("dismantler",), "120000", None, False),
    ("Wuhan Demo Collection Outlet", ("collection_outlet",), "420100", None, False),
    ("Changsha Demo Second Life", ("echelon_firm",), "430100", "E7L", True),
    ("Ganzhou Demo Recycling", ("recycler",), "360700", None, True),
    ("MIIT Demo Regulator", ("regulator",), "110000", None, False),
)


def demo_firms() -> list[DemoFirm]:
    """The demo enterprises, one or two per role, with valid credit codes."""
    return [
        DemoFirm(generate_credit_code(division, i + 1), name, roles, division, mcode, listed)
        for i, (name, roles, division, mcode, listed) in enumerate(_FIRMS)
    ]


def _by_role(firms: list[DemoFirm], role: str) -> list[DemoFirm]:
    return [f for f in firms if role in f.roles]


_SPECS: dict[str, dict[str, Any]] = {
    "B": {  # LFP pack, 60 kWh class
        "chemistry": "LFP",
        "rated_capacity_ah": "150",
        "nominal_voltage_v": "384",
        "energy_kwh": "57.6",
        "mass_kg": "400",
        "composition": {
            "li": "4.1",
            "fe": "36.5",
            "p": "20.1",
            "cu": "22",
            "al": "70",
            "graphite": "52",
            "other": "120",
        },
    },
    "E": {  # NCM pack, 75 kWh class
        "chemistry": "NCM",
        "rated_capacity_ah": "200",
        "nominal_voltage_v": "375",
        "energy_kwh": "75",
        "mass_kg": "450",
        "composition": {
            "li": "6.9",
            "ni": "33.4",
            "co": "6.7",
            "mn": "6.2",
            "cu": "25",
            "al": "80",
            "graphite": "60",
            "other": "120",
        },
    },
}


def _ts(day: datetime) -> str:
    return day.isoformat()


def demo_events(
    batteries: int, seed: int = 7, start: date = date(2021, 1, 4)
) -> Iterator[dict[str, Any]]:
    """Lifecycle events for ``batteries`` packs, as JSON-ready dicts, in a valid report order.

    Deterministic for a given ``seed``. Events carry ``reported_at`` (a few days after the
    fact) so the demo has realistic reporting delays; import them with trusted report times.
    """
    rng = random.Random(seed)
    firms = demo_firms()
    makers = _by_role(firms, "battery_maker")
    vehicle_makers = _by_role(firms, "vehicle_maker")
    (repairer,) = _by_role(firms, "repairer")
    (_swapper,) = _by_role(firms, "swap_operator")
    (dismantler,) = _by_role(firms, "dismantler")
    (outlet,) = _by_role(firms, "collection_outlet")
    (echelon,) = _by_role(firms, "echelon_firm")
    (recycler,) = _by_role(firms, "recycler")
    regions = ["110000", "310000", "440300", "330100", "510100", "420100", "320500", "370200"]
    second_life_serial = 0
    for n in range(batteries):
        maker = makers[n % len(makers)]
        assert maker.manufacturer_code is not None
        letter = "B" if rng.random() < 0.7 else "E"
        made = datetime.combine(start + timedelta(days=n % 900), datetime.min.time(), CHINA_TZ)
        code = generate_battery_code(
            manufacturer=maker.manufacturer_code,
            product_type="pack",
            battery_type=letter,
            spec="A1",
            traceability="DEMO001",
            production_date=made.date(),
            serial=n + 1,
        )
        t = made

        def event(
            kind: str,
            actor: DemoFirm,
            days: float,
            *,
            counterparty: DemoFirm | None = None,
            body: dict[str, Any] | None = None,
            codes: list[str] | None = None,
            pack: str = code,
        ) -> dict[str, Any]:
            nonlocal t
            t = t + timedelta(days=days)
            data: dict[str, Any] = {
                "type": kind,
                "batteries": codes if codes is not None else [pack],
                "actor": actor.credit_code,
                "occurred_at": _ts(t),
                "reported_at": _ts(t + timedelta(days=rng.choice((0, 1, 2, 3, 5, 9)))),
                "body": body or {},
            }
            if counterparty is not None:
                data["counterparty"] = counterparty.credit_code
            return data

        vm = vehicle_makers[n % len(vehicle_makers)]
        vin = generate_vin("LDM", f"DMS1{letter}", f"{n:08d}"[-8:])
        yield event("produced", maker, 0, body=dict(_SPECS[letter]))
        yield event("shipped", maker, 2, counterparty=vm)
        yield event("received", vm, 3, counterparty=maker)
        yield event(
            "installed", vm, 5, body={"vin": vin, "certificate_date": (t.date()).isoformat()}
        )
        yield event("vehicle_sold", vm, 20, body={"vin": vin, "buyer_region": rng.choice(regions)})
        fate = rng.random()
        if fate < 0.25:
            if fate < 0.05:
                yield event("repaired", repairer, 300, body={"vin": vin, "description": "BMS"})
            continue
        if fate < 0.35:
            yield event("removed", repairer, 900, body={"vin": vin, "reason": "capacity fade"})
        else:
            yield event("vehicle_scrapped", dismantler, 1500, body={"vin": vin})
            yield event("removed", dismantler, 4, body={"vin": vin})
        holder = repairer if fate < 0.35 else dismantler
        yield event("shipped", holder, 5, counterparty=outlet)
        yield event("collected", outlet, 2, counterparty=holder)
        soh = rng.randint(55, 85)
        if soh >= 72:
            yield event("shipped", outlet, 10, counterparty=echelon)
            yield event("received", echelon, 2, counterparty=outlet)
            yield event("tested", echelon, 3, body={"soh_percent": str(soh), "grade": "A"})
            second_life_serial += 1
            product = generate_battery_code(
                manufacturer="E7L",
                product_type="pack",
                battery_type=letter,
                spec="R1",
                traceability=None,
                production_date=(t + timedelta(days=10)).date(),
                serial=second_life_serial,
                second_life=True,
            )
            spec = dict(_SPECS[letter])
            spec["rated_capacity_ah"] = str(int(spec["rated_capacity_ah"]) * soh // 100)
            spec["energy_kwh"] = f"{float(spec['energy_kwh']) * soh / 100:.1f}"
            yield event(
                "repurposed",
                echelon,
                10,
                body={"product": product, "spec": spec, "application": "energy storage"},
            )
        else:
            yield event("shipped", outlet, 10, counterparty=recycler)
            yield event("received", recycler, 2, counterparty=outlet)
            yield event("tested", recycler, 1, body={"soh_percent": str(soh)})
            spec = _SPECS[letter]
            comp = spec["composition"]
            assert isinstance(comp, dict)
            outputs = {
                k: f"{float(v) * 0.95:.2f}"
                for k, v in comp.items()
                if k in ("li", "ni", "co", "mn", "cu", "al")
            }
            yield event(
                "recycled",
                recycler,
                20,
                body={"input_mass_kg": spec["mass_kg"], "outputs": outputs},
            )


def register_demo_firms(store: Store) -> int:
    """Register the demo enterprises that are not there yet; returns how many were added."""
    added = 0
    for firm in demo_firms():
        if store.enterprise(firm.credit_code) is not None:
            continue
        register_demo_firm(store, firm)
        added += 1
    return added


def register_demo_firm(store: Store, firm: DemoFirm) -> None:
    """Register ``firm`` (whitelisted, when it is, since 2018-08-01)."""
    register_firm(store, firm, date(2018, 8, 1) if firm.whitelisted else None)


def load_demo(
    store: Store,
    batteries: int,
    *,
    seed: int = 7,
    on_progress: Callable[[int], None] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Fill an empty store with the demo world; a store that has events is left as it is."""
    firms = register_demo_firms(store)
    if store.count("events"):
        return {"loaded": False, "enterprises_added": firms, "events": store.count("events")}
    result = report_events(
        store,
        (SourceItem(e) for e in demo_events(batteries, seed)),
        trust_reported_at=True,
        on_progress=on_progress,
        **options,
    )
    return {"loaded": True, "enterprises_added": firms, "events": result.accepted}
