"""Each supervision rule fires on its breach and stays quiet when the rule is kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from battrace.services.enterprises import change_whitelist
from battrace.store.base import Store
from battrace.supervision.calendar import default_calendar
from battrace.supervision.config import RuleSettings
from battrace.supervision.findings import Finding
from tests.builders import LFP_PACK, code, vin
from tests.supervision.scenario import Scenario

D = date(2024, 6, 3)  # a Monday, far from any holiday


@pytest.fixture
def sc(sqlite_store: Store) -> Scenario:
    return Scenario(sqlite_store)


def _only(found: list[Finding], rule: str) -> list[Finding]:
    return [f for f in found if f.rule == rule]


# -- late reports ----------------------------------------------------------------------------


def _install(sc: Scenario, n: int, day: date, reported: date) -> int:
    return sc.install(n, day, reported)[1]


def test_late_report_across_spring_festival(sc: Scenario) -> None:
    # a vehicle maker has 15 working days; from Monday 2024-02-05 the Spring Festival
    # holiday (02-10..17 off, Sunday 02-04 and 02-18 worked) moves the deadline to 03-01
    fact = date(2024, 2, 5)
    assert default_calendar().deadline(fact, 15) == date(2024, 3, 1)
    on_time = _install(sc, 1, fact, reported=date(2024, 3, 1))
    # counting weekends only, 02-27 would already be late: the holidays make it on time
    holiday_aware = _install(sc, 2, fact, reported=date(2024, 2, 27))
    late = _install(sc, 3, fact, reported=date(2024, 3, 4))
    saturday_after = _install(sc, 4, fact, reported=date(2024, 3, 2))
    found = sc.findings(["late_report"], date(2024, 4, 1))
    flagged = {f.evidence[0] for f in found}
    assert late in flagged
    assert saturday_after in flagged  # the deadline was Friday: Saturday is after it
    assert on_time not in flagged
    assert holiday_aware not in flagged
    (one,) = [f for f in found if f.evidence == (late,)]
    assert one.enterprise == sc.f["vehicle_maker"].credit_code
    assert one.battery == code(n=3)
    assert "deadline 15 working days" in one.detail


def test_late_report_adjusted_working_weekend_counts(sc: Scenario) -> None:
    # National Day 2024: 10-01..07 off, Sunday 09-29 and Saturday 10-12 worked. From Friday
    # 09-20, 15 working days end on 10-16 (09-29 and 10-12 count, the holiday does not)
    fact = date(2024, 9, 20)
    deadline = default_calendar().deadline(fact, 15)
    assert deadline == date(2024, 10, 16)
    on_time = _install(sc, 1, fact, reported=deadline)
    late = _install(sc, 2, fact, reported=deadline + timedelta(days=1))
    flagged = {f.evidence[0] for f in sc.findings(["late_report"], date(2024, 11, 1))}
    assert late in flagged
    assert on_time not in flagged


def test_installation_deadline_runs_from_the_conformity_certificate(sc: Scenario) -> None:
    # 2018 Interim Provisions: a vehicle maker binds the codes within 15 working days of
    # issuing the vehicle conformity certificate, whenever it records the installation
    vm = sc.f["vehicle_maker"]
    certified = date(2024, 5, 6)  # the Monday after Labour Day (Saturday 05-11 is worked)
    early, late = sc.pack(1, D - timedelta(days=60)), sc.pack(2, D - timedelta(days=60))
    installed = certified + timedelta(days=2)
    ok = sc.report(
        "installed",
        vm,
        [early],
        installed,
        reported=date(2024, 5, 24),
        vin=vin(1),
        certificate_date=certified.isoformat(),
    )
    bad = sc.report(
        "installed",
        vm,
        [late],
        installed,
        reported=date(2024, 5, 27),
        vin=vin(2),
        certificate_date=certified.isoformat(),
    )
    assert ok
    assert bad
    assert default_calendar().deadline(certified, 15) == date(2024, 5, 24)
    flagged = {f.evidence[0] for f in sc.findings(["late_report"], date(2024, 7, 1))}
    # counted from the installation (05-08) both would be on time
    assert default_calendar().deadline(installed, 15) >= date(2024, 5, 27)
    assert bad in flagged
    assert ok not in flagged


def test_late_report_deadline_per_role_and_setting(sc: Scenario) -> None:
    # a dealer has 30 working days; a sale reported 20 working days later is on time
    pack, v = sc.in_use(1, D)
    dealer = sc.f["dealer"]
    assert dealer.roles == ("dealer",)
    fact = D + timedelta(days=30)
    reported = default_calendar().deadline(fact, 20)
    sc.report("repaired", sc.f["repairer"], [pack], fact, reported=reported, vin=v)
    assert sc.findings(["late_report"], date(2025, 1, 1)) == []
    strict = replace(RuleSettings(), deadlines={**RuleSettings().deadlines, "repairer": 10})
    (found,) = sc.findings(["late_report"], date(2025, 1, 1), strict)
    assert found.enterprise == sc.f["repairer"].credit_code


# -- leaks -------------------------------------------------------------------------------------


def test_retired_not_collected(sc: Scenario) -> None:
    kept, _ = sc.retired(1, D)
    sc.report(
        "shipped",
        sc.f["dismantler"],
        [kept],
        D + timedelta(days=10),
        counterparty=sc.f["collection_outlet"],
    )
    left, removal = sc.retired(2, D)
    late, _ = sc.retired(3, D)
    sc.report(
        "shipped",
        sc.f["dismantler"],
        [late],
        D + timedelta(days=70),
        counterparty=sc.f["collection_outlet"],
    )
    found = sc.findings(["retired_not_collected"], D + timedelta(days=100))
    assert {f.battery for f in found} == {left, late}
    (one,) = [f for f in found if f.battery == left]
    assert one.evidence == (removal,)
    assert one.enterprise == sc.f["dismantler"].credit_code
    assert one.day == (D + timedelta(days=60)).isoformat()
    # before the 60 days have run out nothing is due yet
    assert sc.findings(["retired_not_collected"], D + timedelta(days=59)) == []


def test_shipment_not_received(sc: Scenario) -> None:
    lost = sc.collected(1, D)
    outlet, recycler = sc.f["collection_outlet"], sc.f["recycler"]
    shipment = sc.report("shipped", outlet, [lost], D + timedelta(days=5), counterparty=recycler)
    fine = sc.at_recycler(2, D)
    found = sc.findings(["shipment_not_received"], D + timedelta(days=40))
    assert [(f.battery, f.enterprise, f.evidence) for f in found] == [
        (lost, recycler.credit_code, (shipment,))
    ]
    assert fine not in {f.battery for f in found}
    assert sc.findings(["shipment_not_received"], D + timedelta(days=30)) == []


def test_not_forwarded(sc: Scenario) -> None:
    stuck = sc.collected(1, D)
    passed = sc.at_recycler(2, D)
    found = sc.findings(["not_forwarded"], D + timedelta(days=100))
    assert [(f.battery, f.enterprise) for f in found] == [
        (stuck, sc.f["collection_outlet"].credit_code)
    ]
    assert passed not in {f.battery for f in found}
    assert sc.findings(["not_forwarded"], D + timedelta(days=80)) == []


def test_vanished_at_a_treating_firm(sc: Scenario) -> None:
    gone = sc.at_recycler(1, D)
    done = sc.at_recycler(2, D)
    sc.report(
        "recycled",
        sc.f["recycler"],
        [done],
        D + timedelta(days=30),
        input_mass_kg="400",
        outputs={"li": "3.8"},
    )
    found = sc.findings(["vanished"], D + timedelta(days=400))
    assert [(f.battery, f.enterprise) for f in found] == [(gone, sc.f["recycler"].credit_code)]
    assert sc.findings(["vanished"], D + timedelta(days=300)) == []


# -- whitelist ---------------------------------------------------------------------------------


def test_off_whitelist_flow_one_alert_per_battery_and_firm(sc: Scenario) -> None:
    rogue = sc.at_recycler(1, D, recycler=sc.rogue)
    listed = sc.at_recycler(2, D)
    (found,) = sc.findings(["off_whitelist_flow"], D + timedelta(days=30))
    assert (found.battery, found.enterprise) == (rogue, sc.rogue.credit_code)
    assert len(found.evidence) == 2  # the shipment to it and its receipt: one breach
    assert listed != found.battery


def test_off_whitelist_flow_follows_the_whitelist_history(sc: Scenario) -> None:
    recycler = sc.f["recycler"]
    change_whitelist(
        sc.store, recycler.credit_code, listed=False, effective_date=D + timedelta(days=5)
    )
    before = sc.collected(1, D - timedelta(days=20))
    o = sc.f["collection_outlet"]
    sc.report("shipped", o, [before], D, counterparty=recycler)
    sc.report("received", recycler, [before], D + timedelta(days=1), counterparty=o)
    after = sc.at_recycler(2, D)  # shipped on D + 9, after it left the list
    found = sc.findings(["off_whitelist_flow"], D + timedelta(days=30))
    assert [f.battery for f in found] == [after]


# -- mass balance ------------------------------------------------------------------------------


def test_mass_balance_and_recovery(sc: Scenario) -> None:
    r = sc.f["recycler"]
    li = float(LFP_PACK["composition"]["li"])  # type: ignore[index]
    honest = sc.at_recycler(1, D)
    sc.report(
        "recycled",
        r,
        [honest],
        D + timedelta(days=20),
        input_mass_kg="400",
        outputs={"li": f"{li * 0.95:.3f}"},
    )
    inflated = sc.at_recycler(2, D)
    sc.report(
        "recycled",
        r,
        [inflated],
        D + timedelta(days=20),
        input_mass_kg="400",
        outputs={"li": f"{li * 0.95:.3f}", "cu": "30"},
    )
    poor = sc.at_recycler(3, D)
    sc.report(
        "recycled",
        r,
        [poor],
        D + timedelta(days=20),
        input_mass_kg="400",
        outputs={"li": f"{li * 0.80:.3f}"},
    )
    found = sc.findings(["mass_balance", "low_recovery"], D + timedelta(days=30))
    assert [(f.rule, f.battery) for f in found] == [
        ("low_recovery", poor),
        ("mass_balance", inflated),
    ]
    assert "cu 136 %" in _only(found, "mass_balance")[0].detail
    assert "li 800 per mille" in _only(found, "low_recovery")[0].detail


def test_eu_targets_apply_from_2028(sc: Scenario) -> None:
    settings = RuleSettings()
    assert "cu" not in settings.minimum_recovery(2027)
    assert settings.minimum_recovery(2028)["cu"] == 0.90
    assert settings.minimum_recovery(2032)["li"] == 0.90  # China's 90 % stays the stricter
    assert settings.minimum_recovery(2032)["co"] == 0.98


def test_low_reuse_share_of_an_echelon_firm(sc: Scenario) -> None:
    e, o = sc.f["echelon_firm"], sc.f["collection_outlet"]
    settings = replace(RuleSettings(), min_reuse_intake_kg=1000.0)
    for n in (1, 2, 3):
        pack = sc.collected(n, D)
        sc.report("shipped", o, [pack], D + timedelta(days=9), counterparty=e)
        sc.report("received", e, [pack], D + timedelta(days=10), counterparty=o)
    product = code("E7L", 1, second_life=True)
    spec = {**LFP_PACK, "mass_kg": "380", "rated_capacity_ah": "120", "energy_kwh": "46"}
    sc.report("repurposed", e, [code(n=1)], D + timedelta(days=30), product=product, spec=spec)
    (found,) = sc.findings(["low_reuse_share"], date(2025, 2, 1), settings)
    assert (found.battery, found.enterprise, found.subject) == (None, e.credit_code, "2024")
    assert "reused 33.3 %" in found.detail
    # the year is not over yet: no judgement
    assert sc.findings(["low_reuse_share"], date(2024, 12, 1), settings) == []
    # two of three reused: 66.7 % >= 60 %
    sc.report(
        "repurposed",
        e,
        [code(n=2)],
        D + timedelta(days=31),
        product=code("E7L", 2, second_life=True),
        spec=spec,
    )
    assert sc.findings(["low_reuse_share"], date(2025, 2, 1), settings) == []


# -- identity ----------------------------------------------------------------------------------


def test_reused_code_and_unknown_code(sc: Scenario) -> None:
    maker = sc.f["battery_maker"]
    pack = sc.pack(1, D)
    made = sc.store.battery(pack)
    assert made is not None
    assert sc.report("produced", maker, [pack], D + timedelta(days=5), **LFP_PACK) == 0
    ghost = code(n=99)
    vm = sc.f["vehicle_maker"]
    assert sc.report("shipped", maker, [ghost], D, counterparty=vm) == 0
    found = sc.findings(["reused_code", "unknown_code"], D + timedelta(days=30))
    assert [(f.rule, f.battery, f.enterprise) for f in found] == [
        ("reused_code", pack, maker.credit_code),
        ("unknown_code", ghost, maker.credit_code),
    ]
    assert found[0].evidence == (made.produced_event,)


def test_no_identity_alert_for_clean_reports(sc: Scenario) -> None:
    sc.pack(1, D)
    sc.pack(2, D)
    assert sc.findings(["reused_code", "unknown_code", "event_after_end"], D + timedelta(30)) == []


def test_event_after_end(sc: Scenario) -> None:
    r, o = sc.f["recycler"], sc.f["collection_outlet"]
    pack = sc.at_recycler(1, D)
    end = sc.report(
        "recycled", r, [pack], D + timedelta(days=20), input_mass_kg="400", outputs={"li": "3.9"}
    )
    assert sc.report("shipped", r, [pack], D + timedelta(days=40), counterparty=o) == 0
    (found,) = sc.findings(["event_after_end"], D + timedelta(days=60))
    assert (found.battery, found.enterprise, found.evidence) == (pack, r.credit_code, (end,))


def test_vin_bound_to_two_packs(sc: Scenario) -> None:
    vm = sc.f["vehicle_maker"]
    _, v = sc.in_use(1, D)
    second = sc.pack(2, D)
    bind = sc.report(
        "installed",
        vm,
        [second],
        D + timedelta(days=40),
        vin=v,
        certificate_date=(D + timedelta(days=40)).isoformat(),
    )
    assert bind
    (found,) = sc.findings(["vin_two_packs"], D + timedelta(days=60))
    assert (found.battery, found.enterprise, found.evidence) == (second, vm.credit_code, (bind,))


def test_replacement_and_swap_do_not_bind_two_packs(sc: Scenario) -> None:
    repairer, swap = sc.f["repairer"], sc.f["swap_operator"]
    maker = sc.f["battery_maker"]
    old, v = sc.in_use(1, D)
    spare = code(n=2)
    sc.report("produced", maker, [spare], D, **LFP_PACK)
    sc.report("shipped", maker, [spare], D + timedelta(days=1), counterparty=repairer)
    sc.report("received", repairer, [spare], D + timedelta(days=2), counterparty=maker)
    assert sc.report("replaced", repairer, [old], D + timedelta(days=50), vin=v, new=spare)
    other, v2 = sc.in_use(3, D)
    spare2 = code(n=4)
    sc.report("produced", maker, [spare2], D, **LFP_PACK)
    sc.report("shipped", maker, [spare2], D + timedelta(days=1), counterparty=swap)
    sc.report("received", swap, [spare2], D + timedelta(days=2), counterparty=maker)
    assert sc.report("swapped", swap, [other], D + timedelta(days=50), vin=v2, new=spare2)
    assert sc.refused == []
    assert sc.findings(["vin_two_packs"], D + timedelta(days=60)) == []


def test_scrapped_without_battery(sc: Scenario) -> None:
    d = sc.f["dismantler"]
    kept, v = sc.in_use(1, D)
    scrap = sc.report("vehicle_scrapped", d, [], D + timedelta(days=30), vin=v)
    assert scrap
    fine, _ = sc.retired(2, D + timedelta(days=30))
    (found,) = sc.findings(["scrapped_without_battery"], D + timedelta(days=60))
    assert (found.battery, found.enterprise, found.evidence) == (kept, d.credit_code, (scrap,))
    assert fine != found.battery
