"""Compliance figures (battrace.supervision.figures) on a small hand-built log with answers
worked out by hand, on each engine: the SQLite store, DuckDB over its Parquet export, and the
PostgreSQL store. Every exact expectation below holds on all three, so they agree; a
simulated log checks that they agree on messier data too.

The story (all 2024 unless said; places are the actors' seats):

==== ====== ===========================================================================
pack chem.  life
==== ====== ===========================================================================
P1   LFP    installed by VM (VIN1); replaced by RP 06-03 (new pack P5); shipped to OUT,
            collected by OUT 06-05; shipped to ECH, received 06-07; repurposed into SL1
P2   NCM    installed by VM2 (VIN2); vehicle scrapped by DM 2025-01-10, removed 01-13;
            shipped to REC, received 01-15, recycled 01-20
P3   LFP    installed by VM (VIN3); removed by RP 07-01; shipped to REC2 (a recycler on
            the whitelist only from 08-01), received 07-03, recycled 07-10
P4   LFP    installed by VM (VIN4); in service
P5   LFP    shipped to RP; put into VIN1 by the replacement (belongs to VM)
P6   LFP    in stock at the battery maker
P7   LFP    shipped to SW; swapped into VIN8 08-01 (belongs to VM2, VIN8's installer)
P8   LFP    installed by VM2 (VIN8), sold; swapped out 08-01, in the station's stock
P9   LFP    installed by VM (VIN9); removed by RP 09-02; shipped to VM, collected by VM
            09-04; shipped to ECH, received 09-06 (no end yet)
P10  LFP    installed by VM2 (VIN10); vehicle scrapped by DM 10-01 (pack inside)
SL1  LFP    the second-life product of P1 (380 kg), in stock at ECH
==== ====== ===========================================================================

Every pack was produced on 2024-03-01 (a Friday of a March without holidays) and every event
reported on its day, except four production reports: P2 15 working days later (03-22, on
time), P3 on Saturday 03-23 (15 working days but a rest day after the deadline: late), P4 on
03-25 (16: late), P5 on 03-04 (1).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from battrace.cli.figures import figures_app
from battrace.codes import generate_credit_code
from battrace.errors import CodeError, ValidationError
from battrace.services.demo import DemoFirm, demo_firms, register_demo_firms
from battrace.services.enterprises import register_enterprise
from battrace.services.reporting import report_event
from battrace.simulate import SimConfig, ingest_simulation
from battrace.store import Store, open_store
from battrace.supervision.export import export_parquet
from battrace.supervision.figures import (
    FIGURE_KINDS,
    FLOW_LINKS,
    FLOW_NODES,
    build_facts,
    evaluate_figure,
    figures,
    nearest_rank,
)
from battrace.supervision.service import open_engine
from tests.builders import LFP_PACK, code, vin
from tests.conftest import _fresh_pg

NCM_PACK = {
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
    },
}
SL_SPEC = {**LFP_PACK, "mass_kg": "380"}
REC2 = generate_credit_code("510100", 4242)


@dataclass(frozen=True)
class Cast:
    """The firms of the story, by their part."""

    bm: DemoFirm
    vm: DemoFirm
    vm2: DemoFirm
    rp: DemoFirm
    sw: DemoFirm
    dm: DemoFirm
    out: DemoFirm
    ech: DemoFirm
    rec: DemoFirm
    rec2: DemoFirm


def _cast() -> Cast:
    by_name = {f.name: f for f in demo_firms()}
    first = {}
    for f in demo_firms():
        first.setdefault(f.roles[0], f)
    return Cast(
        bm=first["battery_maker"],
        vm=by_name["Shanghai Demo Motors"],
        vm2=by_name["Hefei Demo Auto"],
        rp=first["repairer"],
        sw=first["swap_operator"],
        dm=first["dismantler"],
        out=first["collection_outlet"],
        ech=first["echelon_firm"],
        rec=first["recycler"],
        rec2=DemoFirm(REC2, "Chengdu Late Recycler", ("recycler",), "510100"),
    )


C = _cast()
P = {n: code(n=n, letter="E" if n == 2 else "B", day=date(2024, 3, 1)) for n in range(1, 11)}
SL1 = code(maker="E7L", n=1, second_life=True)
VIN = {n: vin(n) for n in (1, 2, 3, 4, 8, 9, 10)}


def _ev(
    kind: str,
    actor: DemoFirm,
    packs: list[int],
    when: str,
    *,
    reported: str | None = None,
    to: DemoFirm | None = None,
    **body: Any,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": kind,
        "batteries": [P[n] for n in packs],
        "actor": actor.credit_code,
        "occurred_at": when,
        "reported_at": (reported or when) + "T12:00:00+08:00",
        "body": body,
    }
    if to is not None:
        data["counterparty"] = to.credit_code
    return data


def _story() -> list[dict[str, Any]]:
    c = C
    late = {2: "2024-03-22", 3: "2024-03-23", 4: "2024-03-25", 5: "2024-03-04"}
    events = [
        _ev(
            "produced",
            c.bm,
            [n],
            "2024-03-01",
            reported=late.get(n),
            **(NCM_PACK if n == 2 else LFP_PACK),
        )
        for n in range(1, 11)
    ]

    def ship(sender: DemoFirm, receiver: DemoFirm, packs: list[int], sent: str, got: str) -> None:
        events.append(_ev("shipped", sender, packs, sent, to=receiver))
        events.append(_ev("received", receiver, packs, got, to=sender))

    def install(maker: DemoFirm, n: int) -> None:
        events.append(
            _ev("installed", maker, [n], "2024-03-07", vin=VIN[n], certificate_date="2024-03-07")
        )

    ship(c.bm, c.vm, [1, 3, 4, 9], "2024-03-05", "2024-03-06")
    ship(c.bm, c.vm2, [2, 8, 10], "2024-03-05", "2024-03-06")
    ship(c.bm, c.rp, [5], "2024-03-05", "2024-03-06")
    ship(c.bm, c.sw, [7], "2024-03-05", "2024-03-06")
    for n in (1, 3, 4, 9):
        install(c.vm, n)
    for n in (2, 8, 10):
        install(c.vm2, n)
    events.append(_ev("vehicle_sold", c.vm2, [8], "2024-03-08", vin=VIN[8], buyer_region="340100"))
    # P1: replaced, collected by the outlet, on to the echelon firm, repurposed
    events.append(_ev("replaced", c.rp, [1], "2024-06-03", vin=VIN[1], new=P[5]))
    events.append(_ev("shipped", c.rp, [1], "2024-06-04", to=c.out))
    events.append(_ev("collected", c.out, [1], "2024-06-05", to=c.rp))
    ship(c.out, c.ech, [1], "2024-06-06", "2024-06-07")
    events.append(
        _ev("repurposed", c.ech, [1], "2024-06-10", product=SL1, spec=SL_SPEC, application="ESS")
    )
    # P3: removed, straight to a recycler not yet on the whitelist, recycled
    events.append(_ev("removed", c.rp, [3], "2024-07-01", vin=VIN[3], reason="fade"))
    ship(c.rp, c.rec2, [3], "2024-07-02", "2024-07-03")
    outputs3 = {"li": "3.69", "cu": "21", "al": "66.5"}
    events.append(_ev("recycled", c.rec2, [3], "2024-07-10", input_mass_kg="400", outputs=outputs3))
    # P8 swapped out, P7 in
    events.append(_ev("swapped", c.sw, [8], "2024-08-01", vin=VIN[8], new=P[7]))
    # P9: removed, collected by a vehicle maker, on to the echelon firm
    events.append(_ev("removed", c.rp, [9], "2024-09-02", vin=VIN[9]))
    events.append(_ev("shipped", c.rp, [9], "2024-09-03", to=c.vm))
    events.append(_ev("collected", c.vm, [9], "2024-09-04", to=c.rp))
    ship(c.vm, c.ech, [9], "2024-09-05", "2024-09-06")
    # P10: its vehicle scrapped, the pack still inside
    events.append(_ev("vehicle_scrapped", c.dm, [10], "2024-10-01", vin=VIN[10]))
    # P2: scrapped, removed, straight to the whitelisted recycler, recycled
    events.append(_ev("vehicle_scrapped", c.dm, [2], "2025-01-10", vin=VIN[2]))
    events.append(_ev("removed", c.dm, [2], "2025-01-13", vin=VIN[2]))
    ship(c.dm, c.rec, [2], "2025-01-14", "2025-01-15")
    outputs2 = {"li": "6.21", "ni": "33.066", "co": "6.633", "mn": "6.138", "cu": "24", "al": "76"}
    events.append(_ev("recycled", c.rec, [2], "2025-01-20", input_mass_kg="450", outputs=outputs2))
    return events


def fill(store: Store) -> None:
    """The story's enterprises and events in ``store``."""
    register_demo_firms(store)
    register_enterprise(
        store,
        credit_code=REC2,
        name=C.rec2.name,
        roles=["recycler"],
        division="510100",
        whitelisted_since=date(2024, 8, 1),
    )
    for data in _story():
        report_event(store, data, trust_reported_at=True)


Figure = Callable[..., list[dict[str, Any]]]
ENGINES = ["sqlite", "duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=ENGINES)
def fig(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Figure]:
    """``fig(kind, **filters)``: a figure of the story on one engine."""
    folder = tmp_path_factory.mktemp("figures")
    if request.param == "postgres":
        target = request.getfixturevalue("pg_database")
        _fresh_pg(target)
    else:
        target = str(folder / "story.db")
    store = open_store(target)
    fill(store)
    engine, parquet = "store", None
    if request.param == "duckdb":
        export_parquet(store, folder / "pq")
        engine, parquet = "duckdb", folder / "pq"

    def run(kind: str, **filters: Any) -> list[dict[str, Any]]:
        return figures(store, kind, engine=engine, parquet_dir=parquet, **filters)

    try:
        yield run
    finally:
        store.close()


def by(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in rows}


# -- collection ---------------------------------------------------------------------------------
VM_ROW = {
    "maker": C.vm.credit_code,
    "province": "310000",
    "packs": 5,  # P1, P3, P4, P9 installed; P5 put into VIN1
    "retired": 3,  # P1 replaced, P3 and P9 removed
    "compliant": 2,  # P1 (ECH received it), P9 (ECH received it); not P3 (REC2 not listed yet)
    "rate": 0.666667,
    "retired_t": 1.2,
    "compliant_t": 0.8,
}
VM2_ROW = {
    "maker": C.vm2.credit_code,
    "province": "340000",
    "packs": 4,  # P2, P8, P10 installed; P7 swapped into VIN8
    "retired": 1,  # P2 removed (P8 swapped out and P10 in a scrapped vehicle are not)
    "compliant": 1,
    "rate": 1.0,
    "retired_t": 0.45,
    "compliant_t": 0.45,
}


def test_collection(fig: Figure) -> None:
    assert fig("collection") == sorted([VM_ROW, VM2_ROW], key=lambda r: r["maker"])


def test_collection_filters(fig: Figure) -> None:
    in_2024 = by(fig("collection", year=2024), "maker")
    assert in_2024[C.vm.credit_code] == VM_ROW
    assert in_2024[C.vm2.credit_code] == {
        **VM2_ROW,
        "retired": 0,
        "compliant": 0,
        "rate": None,
        "retired_t": 0.0,
        "compliant_t": 0.0,
    }
    in_2025 = by(fig("collection", year=2025), "maker")
    assert in_2025[C.vm.credit_code]["retired"] == 0
    assert in_2025[C.vm2.credit_code] == VM2_ROW
    assert fig("collection", chemistry="NCM") == [{**VM2_ROW, "packs": 1}]
    lfp = by(fig("collection", chemistry="LFP"), "maker")
    assert lfp[C.vm.credit_code] == VM_ROW
    assert lfp[C.vm2.credit_code]["packs"] == 3
    assert lfp[C.vm2.credit_code]["retired"] == 0
    assert fig("collection", province="31") == [VM_ROW]
    assert fig("collection", province="310000") == [VM_ROW]
    assert fig("collection", province="44") == []
    assert fig("collection", enterprise=C.vm2.credit_code) == [VM2_ROW]
    assert fig("collection", chemistry="LTO") == []


def test_collection_as_of(fig: Figure) -> None:
    """Events after as_of are left out: by 2024-06-30 only P1 retired (and was received by
    the echelon firm), P7 was not yet swapped in."""
    rows = by(fig("collection", as_of=date(2024, 6, 30)), "maker")
    assert rows[C.vm.credit_code] == {
        **VM_ROW,
        "retired": 1,
        "compliant": 1,
        "rate": 1.0,
        "retired_t": 0.4,
        "compliant_t": 0.4,
    }
    assert rows[C.vm2.credit_code]["packs"] == 3
    assert rows[C.vm2.credit_code]["retired"] == 0


# -- provinces ----------------------------------------------------------------------------------
CATEGORIES = ("in_stock", "in_service", "retired", "collected", "second_life", "repurposed")


def _province(code6: str, name: str, **counts: tuple[int, float]) -> dict[str, Any]:
    row: dict[str, Any] = {"province": code6, "name": name}
    total, tonnes = 0, 0.0
    for cat in (*CATEGORIES, "recycled"):
        n, t = counts.get(cat, (0, 0.0))
        row[cat], row[f"{cat}_t"] = n, t
        total += n
        tonnes += t
    row["total"], row["total_t"] = total, round(tonnes, 3)
    return row


PROVINCE_ROWS = [
    _province("120000", "Tianjin", retired=(1, 0.4)),  # P10 in the scrapped vehicle
    _province("310000", "Shanghai", in_service=(1, 0.4)),  # P4
    _province("330000", "Zhejiang", in_stock=(1, 0.4), in_service=(1, 0.4)),  # P8, P7
    _province("350000", "Fujian", in_stock=(1, 0.4)),  # P6
    _province("360000", "Jiangxi", recycled=(1, 0.45)),  # P2
    # P9 collected; P1 repurposed into SL1 (second life)
    _province("430000", "Hunan", collected=(1, 0.4), second_life=(1, 0.38), repurposed=(1, 0.4)),
    _province("440000", "Guangdong", in_service=(1, 0.4)),  # P5, placed by the replacement
    _province("510000", "Sichuan", recycled=(1, 0.4)),  # P3
]
TOTAL_ROW = _province(
    "total",
    "national total",
    in_stock=(2, 0.8),
    in_service=(3, 1.2),
    retired=(1, 0.4),
    collected=(1, 0.4),
    second_life=(1, 0.38),
    repurposed=(1, 0.4),
    recycled=(2, 0.85),
)


def test_provinces(fig: Figure) -> None:
    assert fig("provinces") == [*PROVINCE_ROWS, TOTAL_ROW]
    assert TOTAL_ROW["total"] == 11
    assert TOTAL_ROW["total_t"] == 4.43


def test_provinces_filters(fig: Figure) -> None:
    hunan = PROVINCE_ROWS[5]
    assert fig("provinces", province="43") == [
        hunan,
        {**hunan, "province": "total", "name": "total of 430000"},
    ]
    ncm = fig("provinces", chemistry="NCM")
    assert ncm == [
        PROVINCE_ROWS[4],
        {**PROVINCE_ROWS[4], "province": "total", "name": "national total"},
    ]
    # no modules in the story: only an empty total
    assert fig("provinces", level="module") == [_province("total", "national total")]
    assert fig("provinces", level="pack") == [*PROVINCE_ROWS, TOTAL_ROW]


# -- recovery -----------------------------------------------------------------------------------
def _metal(content: float, output: float, rate: float) -> dict[str, Any]:
    return {"content_kg": content, "output_kg": output, "rate": rate}


REC_ROW = {
    "recycler": C.rec.credit_code,
    "province": "360000",
    "year": None,
    "events": 1,
    "units": 1,
    "input_t": 0.45,
    "content_t": 0.45,
    "materials": {
        "li": _metal(6.9, 6.21, 0.9),
        "ni": _metal(33.4, 33.066, 0.99),
        "co": _metal(6.7, 6.633, 0.99),
        "mn": _metal(6.2, 6.138, 0.99),
        "cu": _metal(25.0, 24.0, 0.96),
        "al": _metal(80.0, 76.0, 0.95),
    },
}
REC2_ROW = {
    "recycler": REC2,
    "province": "510000",
    "year": None,
    "events": 1,
    "units": 1,
    "input_t": 0.4,
    "content_t": 0.4,
    "materials": {  # the LFP pack holds no ni, co or mn
        "li": _metal(4.1, 3.69, 0.9),
        "cu": _metal(22.0, 21.0, 0.954545),
        "al": _metal(70.0, 66.5, 0.95),
    },
}


def test_recovery(fig: Figure) -> None:
    assert fig("recovery") == sorted([REC_ROW, REC2_ROW], key=lambda r: str(r["recycler"]))


def test_recovery_filters(fig: Figure) -> None:
    assert fig("recovery", year=2025) == [{**REC_ROW, "year": 2025}]
    assert fig("recovery", year=2024) == [{**REC2_ROW, "year": 2024}]
    assert fig("recovery", year=2023) == []
    assert fig("recovery", province="36") == [REC_ROW]
    assert fig("recovery", enterprise=REC2) == [REC2_ROW]
    assert fig("recovery", enterprise=C.vm.credit_code) == []
    assert fig("recovery", as_of=date(2024, 12, 31)) == [REC2_ROW]


# -- timeliness ---------------------------------------------------------------------------------
def _on_time(firm: DemoFirm, province: str, events: int) -> dict[str, Any]:
    return {
        "enterprise": firm.credit_code,
        "province": province,
        "events": events,
        "late": 0,
        "on_time_share": 1.0,
        "median_delay": 0,
        "p90_delay": 0,
    }


BM_ROW = {
    "enterprise": C.bm.credit_code,
    "province": "350000",
    "events": 14,  # 10 produced, 4 shipped
    "late": 2,  # P3 (Saturday after the 15th working day), P4 (16 working days)
    "on_time_share": 0.857143,  # 12 / 14
    "median_delay": 0,  # delays 0 x 10, 1, 15, 15, 16: the 7th is 0
    "p90_delay": 15,  # the 13th (ceil(0.9 x 14)) is 15
}
TIMELINESS = sorted(
    [
        BM_ROW,
        _on_time(C.vm, "310000", 7),  # received, installed x 4, collected, shipped
        _on_time(C.vm2, "340000", 5),  # received, installed x 3, sold
        _on_time(C.rp, "440000", 7),  # received, replaced, removed x 2, shipped x 3
        _on_time(C.sw, "330000", 2),  # received, swapped
        _on_time(C.dm, "120000", 4),  # scrapped x 2, removed, shipped
        _on_time(C.out, "420000", 2),  # collected, shipped
        _on_time(C.ech, "430000", 3),  # received x 2, repurposed
        _on_time(C.rec, "360000", 2),  # received, recycled
        _on_time(C.rec2, "510000", 2),  # received, recycled
    ],
    key=lambda r: str(r["enterprise"]),
)


def test_timeliness(fig: Figure) -> None:
    assert fig("timeliness") == TIMELINESS


def test_timeliness_filters(fig: Figure) -> None:
    assert fig("timeliness", enterprise=C.bm.credit_code) == [BM_ROW]
    assert fig("timeliness", province="35") == [BM_ROW]
    assert fig("timeliness", province="11") == []
    rows_2025 = by(fig("timeliness", year=2025), "enterprise")
    assert set(rows_2025) == {C.dm.credit_code, C.rec.credit_code}
    assert rows_2025[C.dm.credit_code]["events"] == 3
    # the late reports were of facts of 2024-03-01: cut them off and nothing is late
    early = by(fig("timeliness", as_of=date(2024, 2, 29)), "enterprise")
    assert early == {}


def test_timeliness_agrees_with_the_late_report_rule(tmp_path: Path) -> None:
    """The same events are late for the figure and for rules.late_report."""
    from battrace.supervision.service import evaluate

    store = open_store(tmp_path / "story.db")
    fill(store)
    engine = open_engine(store)
    try:
        alerts = evaluate(engine, rules=["late_report"])
    finally:
        engine.close()
    per_firm: dict[str, int] = {}
    for alert in alerts:
        assert alert.enterprise is not None
        per_firm[alert.enterprise] = per_firm.get(alert.enterprise, 0) + 1
    figure = {r["enterprise"]: r["late"] for r in figures(store, "timeliness") if r["late"]}
    assert figure == per_firm == {C.bm.credit_code: 2}
    store.close()


def test_nearest_rank() -> None:
    assert nearest_rank([], 0.5) is None
    assert nearest_rank([(3, 0)], 0.5) is None
    assert nearest_rank([(5, 1)], 0.9) == 5
    assert nearest_rank([(1, 1), (2, 1), (3, 1), (4, 1)], 0.5) == 2
    assert nearest_rank([(4, 1), (1, 1), (3, 1), (2, 1)], 0.9) == 4
    assert nearest_rank([(0, 9), (7, 1)], 0.9) == 0
    assert nearest_rank([(0, 8), (7, 2)], 0.9) == 7


# -- trend --------------------------------------------------------------------------------------
def _month(month: str, **counts: int) -> dict[str, Any]:
    groups = ("produced", "installed", "retired", "collected", "repurposed", "recycled")
    return {"month": month, **{g: counts.get(g, 0) for g in groups}}


TREND = [
    _month("2024-03", produced=10, installed=7),
    _month("2024-04"),
    _month("2024-05"),
    _month("2024-06", retired=1, collected=1, repurposed=1),
    _month("2024-07", retired=1, recycled=1),
    _month("2024-08"),  # a swap only
    _month("2024-09", retired=1, collected=1),
    _month("2024-10"),  # a vehicle scrapped only
    _month("2024-11"),
    _month("2024-12"),
    _month("2025-01", retired=1, recycled=1),
]


def test_trend(fig: Figure) -> None:
    assert fig("trend") == TREND


def test_trend_filters(fig: Figure) -> None:
    assert fig("trend", year=2025) == [TREND[-1]]
    assert fig("trend", year=2024) == TREND[:7]  # months from the first to the last event
    assert fig("trend", province="36") == [_month("2025-01", recycled=1)]
    assert fig("trend", province="51") == [_month("2024-07", recycled=1)]
    assert fig("trend", province="11") == []
    assert fig("trend", enterprise=C.rp.credit_code) == [
        _month("2024-06", retired=1),
        _month("2024-07", retired=1),
        _month("2024-08"),
        _month("2024-09", retired=1),
    ]
    assert fig("trend", as_of=date(2024, 6, 30)) == TREND[:4]


# -- flows --------------------------------------------------------------------------------------
def _links(**counts: int) -> list[dict[str, Any]]:
    out = []
    for source, target in FLOW_LINKS:
        n = counts.get(f"{source}__{target}", 0)
        out.append({"source": source, "target": target, "count": n})
    return out


FLOWS = _links(
    maker__vehicle=9,  # all but P6 (P5 and P7 through exchanges)
    vehicle__retired=4,  # P1, P2, P3, P9
    retired__outlet=1,  # P1
    retired__vehicle_maker=1,  # P9
    retired__direct=2,  # P2 (REC), P3 (REC2)
    outlet__echelon_firm=1,
    vehicle_maker__echelon_firm=1,
    direct__recycler=2,
    echelon_firm__repurposed=1,  # P1 (P9 not yet)
    recycler__recycled=2,
)


def test_flows(fig: Figure) -> None:
    assert fig("flows") == FLOWS
    nodes = {r["source"] for r in FLOWS} | {r["target"] for r in FLOWS}
    assert nodes == set(FLOW_NODES)


def test_flows_filters(fig: Figure) -> None:
    assert fig("flows", chemistry="NCM") == _links(
        maker__vehicle=1,
        vehicle__retired=1,
        retired__direct=1,
        direct__recycler=1,
        recycler__recycled=1,
    )
    assert fig("flows", province="43") == _links(  # P1 and P9, now in Hunan
        maker__vehicle=2,
        vehicle__retired=2,
        retired__outlet=1,
        retired__vehicle_maker=1,
        outlet__echelon_firm=1,
        vehicle_maker__echelon_firm=1,
        echelon_firm__repurposed=1,
    )
    assert fig("flows", year=2024) == FLOWS
    assert fig("flows", year=2023, year_to=2024) == FLOWS
    assert fig("flows", year_to=2024) == FLOWS
    assert fig("flows", year=2025) == _links()
    assert fig("flows", year=2020, year_to=2023) == _links()
    assert fig("flows", as_of=date(2024, 6, 5)) == _links(
        maker__vehicle=8, vehicle__retired=1, retired__outlet=1
    )


# -- validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "filters", "field", "rule"),
    [
        ("nope", {}, "kind", "enum"),
        ("provinces", {"year": 2024}, "year", "not_applicable"),
        ("provinces", {"as_of": date(2024, 1, 1)}, "as_of", "not_applicable"),
        ("trend", {"chemistry": "LFP"}, "chemistry", "not_applicable"),
        ("flows", {"enterprise": C.vm.credit_code}, "enterprise", "not_applicable"),
        ("collection", {"year_to": 2024}, "year_to", "not_applicable"),
        ("collection", {"level": "pack"}, "level", "not_applicable"),
        ("collection", {"year": 1999}, "year", "range"),
        ("flows", {"year": 2024, "year_to": 2023}, "year_to", "range"),
        ("collection", {"chemistry": "lfp"}, "chemistry", "enum"),
        ("provinces", {"level": "box"}, "level", "enum"),
        ("collection", {"enterprise": "91310000100000000X"}, "enterprise", None),
        ("collection", {"province": "99"}, "province", None),
        ("collection", {"province": "4"}, "province", None),
    ],
)
def test_bad_kind_or_filter(
    tmp_path: Path, kind: str, filters: dict[str, Any], field: str, rule: str | None
) -> None:
    store = open_store(tmp_path / "empty.db")
    try:
        with pytest.raises(ValidationError) as caught:
            figures(store, kind, **filters)
    finally:
        store.close()
    assert caught.value.field == field
    if rule is not None:
        assert caught.value.rule == rule
    else:
        assert isinstance(caught.value, CodeError)


def test_bad_engine(tmp_path: Path) -> None:
    store = open_store(tmp_path / "empty.db")
    try:
        with pytest.raises(ValidationError) as caught:
            figures(store, "trend", engine="spark")
        assert caught.value.field == "engine"
        with pytest.raises(ValidationError) as caught:
            figures(store, "trend", engine="duckdb")
        assert caught.value.field == "parquet"
    finally:
        store.close()


def test_empty_log(tmp_path: Path) -> None:
    store = open_store(tmp_path / "empty.db")
    try:
        for kind in ("collection", "recovery", "timeliness", "trend"):
            assert figures(store, kind) == []
        assert figures(store, "provinces") == [_province("total", "national total")]
        assert figures(store, "flows") == _links()
    finally:
        store.close()


def test_one_engine_many_figures(tmp_path: Path) -> None:
    """An open engine is built on and left open; build_facts once, evaluate many."""
    store = open_store(tmp_path / "story.db")
    fill(store)
    engine = open_engine(store)
    try:
        assert figures(engine, "trend") == TREND
        facts = build_facts(engine)
        rows = evaluate_figure(facts, "flows")
        assert [r.to_dict() for r in rows] == FLOWS
        assert figures(engine, "flows") == FLOWS
    finally:
        engine.close()
        store.close()


# -- engines agree on simulated data ------------------------------------------------------------
SIM = SimConfig(batteries=400, seed=5)
SIM_FILTERS: list[tuple[str, dict[str, Any]]] = [
    *((kind, {}) for kind in FIGURE_KINDS),
    ("collection", {"year": 2024}),
    ("provinces", {"chemistry": "LFP"}),
    ("recovery", {"year": 2024}),
    ("timeliness", {"year": 2023}),
    ("trend", {"province": "44"}),
    ("flows", {"year": 2018, "year_to": 2020}),
]


def _simulated(target: str) -> Store:
    store = open_store(target)
    ingest_simulation(store, SIM)
    return store


def _all_figures(store: Store, **engine: Any) -> dict[str, list[dict[str, Any]]]:
    return {
        f"{kind} {sorted(flt.items())}": figures(store, kind, **flt, **engine)
        for kind, flt in SIM_FILTERS
    }


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Path]]:
    folder = tmp_path_factory.mktemp("sim")
    store = _simulated(str(folder / "sim.db"))
    export_parquet(store, folder / "pq")
    try:
        yield store, folder / "pq"
    finally:
        store.close()


@pytest.fixture(scope="module")
def sim_sqlite(simulated: tuple[Store, Path]) -> dict[str, list[dict[str, Any]]]:
    return _all_figures(simulated[0])


def test_sqlite_and_duckdb_agree_on_simulated_data(
    simulated: tuple[Store, Path], sim_sqlite: dict[str, list[dict[str, Any]]]
) -> None:
    store, parquet = simulated
    assert sum(len(rows) for rows in sim_sqlite.values()) > 100
    flows = {(r["source"], r["target"]): r["count"] for r in sim_sqlite["flows []"]}
    assert flows["maker", "vehicle"] > 0
    assert flows["vehicle", "retired"] > 0
    assert _all_figures(store, engine="duckdb", parquet_dir=parquet) == sim_sqlite


@pytest.mark.postgres
def test_postgres_agrees_on_simulated_data(
    pg_database: str, sim_sqlite: dict[str, list[dict[str, Any]]]
) -> None:
    _fresh_pg(pg_database)
    store = _simulated(pg_database)
    try:
        assert _all_figures(store) == sim_sqlite
    finally:
        store.close()


# -- the command line ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def story_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("cli") / "story.db")
    store = open_store(path)
    fill(store)
    store.close()
    return path


def test_cli_json(story_db: str) -> None:
    result = CliRunner().invoke(figures_app, ["flows", "--db", story_db, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == FLOWS
    result = CliRunner().invoke(
        figures_app,
        ["collection", "--db", story_db, "--json", "--year", "2025", "--province", "34"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [VM2_ROW]


def test_cli_duckdb(story_db: str, tmp_path: Path) -> None:
    args = [
        "trend",
        "--db",
        story_db,
        "--json",
        "--engine",
        "duckdb",
        "--parquet",
        str(tmp_path / "pq"),
    ]
    result = CliRunner().invoke(figures_app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == TREND


@pytest.mark.parametrize("kind", FIGURE_KINDS)
def test_cli_table(story_db: str, kind: str) -> None:
    result = CliRunner().invoke(figures_app, [kind, "--db", story_db], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert f"{kind}:" in result.output
    if kind == "recovery":
        assert "li %" in result.output
        assert "95.5" in result.output  # REC2's copper
    if kind == "timeliness":
        assert "85.7" not in result.output  # shares as fractions
        assert "0.857143" in result.output


def test_cli_errors(story_db: str) -> None:
    result = CliRunner().invoke(figures_app, ["nope", "--db", story_db])
    assert isinstance(result.exception, ValidationError)
    assert result.exception.field == "kind"
    result = CliRunner().invoke(figures_app, ["trend", "--db", story_db, "--as-of", "2024-13-01"])
    assert isinstance(result.exception, ValidationError)
    assert result.exception.field == "as_of"
