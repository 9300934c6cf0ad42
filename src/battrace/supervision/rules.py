"""The supervision rules, written once as Ibis expressions over the fact tables.

Each rule is a function of :class:`Facts` returning a table with the columns ``battery``,
``enterprise``, ``subject`` (tells two breaches of the rule by the same parties apart),
``evidence`` (event ids separated by spaces), ``day`` (local day number the breach became a
breach) and ``detail`` (text; ``{day}`` in it is replaced by the ISO date of ``day``). The
same expression runs on SQLite, PostgreSQL and DuckDB (:mod:`.engine`). Each rule's docstring
names the legal source it enforces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import ibis

from battrace.supervision.config import BATTERY_RULES as BATTERY_RULES
from battrace.supervision.config import RuleSettings
from battrace.supervision.engine import MATERIALS, Engine

T = Any  # an ibis Table (Ibis ships no precise static types for expressions)

_LEVEL_RANK: Final = {"pack": 0, "module": 1, "cell": 2}


@dataclass(frozen=True, slots=True)
class Facts:
    """The tables and settings one evaluation reads.

    The evaluation day and the day the first firm entered the whitelist are read from the
    one-row table ``sv_param``, not written into the query: a rule's SQL then depends only on
    the settings and is compiled once per process (the incremental path evaluates often).
    """

    engine: Engine
    settings: RuleSettings

    @property
    def as_of(self) -> Any:
        """Local day number the evaluation is made on (a scalar expression)."""
        return self.t("sv_param").as_of.max().as_scalar()

    @property
    def first_listing(self) -> Any:
        """Day the first firm entered the whitelist (a scalar; far past when none did)."""
        return self.t("sv_param").first_listing.max().as_scalar()

    def t(self, name: str) -> T:
        table = self.engine.table(name)
        if name == "sv_ev":  # what had happened by the evaluation day
            table = table.filter(table.occ_day <= self.as_of)
        return table

    def seq(self) -> T:
        """Every (battery, event) pair with the event's columns; ``named`` marks a battery
        named in the body (the pack put in by an exchange, a second-life product) rather
        than listed."""
        j = self.t("sv_seq")
        j = j.filter(j.occ_day <= self.as_of)
        return j.mutate(
            named=(j.code == j.new_code.coalesce("")) | (j.code == j.product.coalesce(""))
        )


def _text(value: Any) -> Any:
    return value.cast("string")


def _out(
    t: T,
    *,
    battery: Any,
    enterprise: Any,
    subject: Any,
    evidence: Any,
    day: Any,
    detail: Any,
) -> T:
    if isinstance(detail, str):
        detail = ibis.literal(detail)
    return t.select(
        battery=battery,
        enterprise=enterprise,
        subject=_text(subject),
        evidence=_text(evidence),
        day=day.cast("int64"),
        detail=detail,
    )


def reporting_delays(f: Facts) -> T:
    """Every event with a reporting duty (its type not exempt, its actor holding a deadline),
    with its actor's deadline ``days``, ``late_by`` (working days from the fact to the report)
    and ``late`` (the working-day rule of :func:`late_report`). Shared with the timeliness
    figure (:func:`battrace.supervision.figures.timeliness`)."""
    ev, dl, cal = f.t("sv_ev"), f.t("sv_deadline"), f.t("sv_cal")
    occ = cal.select(fact_day=cal.day, occ_wd=cal.wd, occ_prov=cal.provisional)
    rep = cal.select(rep_day=cal.day, rep_wd=cal.wd, rep_prov=cal.provisional, rep_work=cal.workday)
    x = ev.filter(~ev.type.isin(f.settings.exempt_types))
    # the deadline runs from the triggering fact: the conformity certificate of an
    # installation, the event itself otherwise
    x = x.mutate(fact_day=x.trigger_day.coalesce(x.occ_day))
    x = x.join(dl, x.actor == dl.enterprise).join(occ, "fact_day").join(rep, "rep_day")
    late_by = x.rep_wd - x.occ_wd
    # reported after the deadline day: more working days than allowed, or exactly as many
    # and reported on a rest day after the deadline (calendar.WorkingCalendar.is_late)
    on_rest_day_after = (x.rep_work == 0) & (x.rep_day > x.fact_day)
    late = (late_by > x.days) | ((late_by == x.days) & on_rest_day_after)
    return x.mutate(late_by=late_by, late=late)


def late_report(f: Facts) -> T:
    """2018 Interim Provisions on Traceability Management, Arts. 8-16: each party reports
    within 15 or 30 working days of the fact (Chinese calendar, holidays and adjusted working
    weekends; a vehicle maker's installation from the conformity certificate's date); an
    actor with several roles is held to the shortest deadline."""
    x = reporting_delays(f)
    x = x.filter(x.late)
    late_by = x.late_by
    provisional = ibis.ifelse((x.occ_prov + x.rep_prov) > 0, " (provisional calendar)", "")
    detail = (
        x.type
        + " of {day} reported "
        + _text(late_by)
        + " working days after the fact it reports; deadline "
        + _text(x.days)
        + " working days"
        + provisional
    )
    return _out(
        x,
        battery=x.first_battery,
        enterprise=x.actor,
        subject=x.id,
        evidence=x.id,
        day=x.occ_day,
        detail=detail,
    )


def _next_in(f: Facts, types: tuple[str, ...], *, listed_only: bool = True) -> T:
    """The battery-event pairs of ``types`` with the type, actor and day of the battery's
    next such event (by day, then acceptance order)."""
    s = f.seq()
    s = s.filter(s.type.isin(types))
    if listed_only:
        s = s.filter(~s.named)
    w = ibis.window(group_by=s.code, order_by=[s.occ_day, s.id])
    return s.mutate(
        nxt_type=s.type.lead().over(w),
        nxt_actor=s.actor.lead().over(w),
        nxt_day=s.occ_day.lead().over(w),
    )


def _missed(x: T, ok: Any, start: Any, days: int, as_of: Any) -> Any:
    """The next event did not come in time: it is not ``ok``, or it came after ``days``, or
    none came and ``days`` have passed by ``as_of``."""
    came_in_time = ok & ((x.nxt_day - start) <= days)
    still_waiting = x.nxt_type.isnull() & ((as_of - start) <= days)
    return ~(came_in_time.fill_null(False) | still_waiting)


def retired_not_collected(f: Facts) -> T:
    """2026 Interim Measures for the Recycling of Waste NEV Power Batteries: a retired pack
    (replaced, or removed from a scrapped vehicle) is handed to the compliant chain; flags a
    pack not shipped or collected within ``collect_days``."""
    cfg = f.settings
    moves = ("shipped", "collected")
    x = _next_in(f, (*cfg.retirement_types, *moves))
    x = x.filter(x.type.isin(cfg.retirement_types))
    days = cfg.collect_days
    x = x.filter(_missed(x, x.nxt_type.isin(moves), x.occ_day, days, f.as_of))
    detail = x.type + " on {day}; not shipped or collected within " + str(days) + " days"
    return _out(
        x,
        battery=x.code,
        enterprise=x.actor,
        subject=x.id,
        evidence=x.id,
        day=x.occ_day + days,
        detail=detail,
    )


def shipment_not_received(f: Facts) -> T:
    """2018 Interim Provisions: goods out and goods in are both reported; flags a shipment
    the receiver has not reported receiving within ``receive_days`` (alert on the receiver)."""
    days = f.settings.receive_days
    x = _next_in(f, ("shipped", "received", "collected"))
    x = x.filter(x.type == "shipped")
    ok = x.nxt_type.isin(("received", "collected")) & (x.nxt_actor == x.counterparty)
    x = x.filter(_missed(x, ok, x.occ_day, days, f.as_of))
    detail = "shipped by " + x.actor + " on {day}; not received within " + str(days) + " days"
    return _out(
        x,
        battery=x.code,
        enterprise=x.counterparty,
        subject=x.id,
        evidence=x.id,
        day=x.occ_day + days,
        detail=detail,
    )


def not_forwarded(f: Facts) -> T:
    """2018 Interim Provisions and the industry standard conditions: collection outlets (and
    vehicle makers collecting) pass waste batteries to whitelisted echelon firms or recyclers;
    flags a battery collected by a firm that does not treat batteries and not shipped on
    within ``forward_days`` (counted from the first whitelisting at the earliest)."""
    days = f.settings.forward_days
    x = _next_in(f, ("collected", "received", "shipped"))
    treating = f.t("sv_treating")
    x = x.filter(x.type == "collected")
    x = x.anti_join(treating, x.actor == treating.enterprise)
    x = x.mutate(start=ibis.greatest(x.occ_day, f.first_listing))
    ok = (x.nxt_type == "shipped") & (x.nxt_actor == x.actor)
    x = x.filter(_missed(x, ok, x.start, days, f.as_of))
    detail = (
        "collected on {day}; not passed on to an echelon firm or recycler within "
        + str(days)
        + " days"
    )
    return _out(
        x,
        battery=x.code,
        enterprise=x.actor,
        subject=x.id,
        evidence=x.id,
        day=x.occ_day,
        detail=detail,
    )


def vanished(f: Facts) -> T:
    """2025 Action Plan (digital monitoring of each battery's whole flow): a battery held by
    an echelon firm or recycler that has had no event for ``vanish_days``."""
    days = f.settings.vanish_days
    bat, ev, treating = f.t("sv_bat"), f.t("sv_ev"), f.t("sv_treating")
    x = bat.filter(bat.state.isin(("collected", "dismantled")))
    x = x.join(treating, x.holder == treating.enterprise)
    last = ev.select(last_id=ev.id, last_day=ev.occ_day)
    x = x.join(last, x.last_event == last.last_id)
    x = x.filter((f.as_of - x.last_day) > days)
    detail = x.state + " since {day}; no event for more than " + str(days) + " days"
    return _out(
        x,
        battery=x.code,
        enterprise=x.holder,
        subject=ibis.literal(""),
        evidence=x.last_event,
        day=x.last_day,
        detail=detail,
    )


def off_whitelist_flow(f: Facts) -> T:
    """Industry standard conditions (whitelist, 白名单): only firms on the whitelist on that
    date take in waste batteries; flags a battery shipped to, received or collected by an
    echelon firm or recycler not listed that day (one alert per battery and firm)."""
    s = f.seq()
    s = s.filter(~s.named)
    treating, listed = f.t("sv_treating"), f.t("sv_listed")
    shipped = s.filter(s.type == "shipped").mutate(firm=s.counterparty)
    taken = s.filter(s.type.isin(("received", "collected"))).mutate(firm=s.actor)
    cols = ["code", "firm", "id", "occ_day"]
    flows = ibis.union(shipped.select(cols), taken.select(cols))
    flows = flows.join(treating, flows.firm == treating.enterprise).select(cols)
    flows = flows.anti_join(
        listed,
        [
            flows.firm == listed.enterprise,
            listed.from_day <= flows.occ_day,
            flows.occ_day < listed.to_day,
        ],
    )
    g = flows.group_by(["code", "firm"]).aggregate(
        evidence=_text(flows.id).group_concat(" "),
        day=flows.occ_day.min(),
    )
    detail = g.firm + " was not on the whitelist on {day} when it took in or was sent the battery"
    return _out(
        g,
        battery=g.code,
        enterprise=g.firm,
        subject=ibis.literal(""),
        evidence=g.evidence,
        day=g.day,
        detail=detail,
    )


def _content(f: Facts, event_type: str) -> T:
    """Per event of ``event_type``: the listed units' summed mass and composition, at the
    highest level listed (a pack recycled with its modules counts once, as the pack)."""
    s = f.seq()
    s = s.filter((s.type == event_type) & ~s.named)
    bat = f.t("sv_bat")
    rank = bat.level.cases(*_LEVEL_RANK.items(), else_=3)
    b = bat.select("code", "mass_kg", *[f"comp_{m}" for m in MATERIALS], rank=rank)
    j = s.select(event=s.id, code=s.code).join(b, "code")
    top = j.group_by("event").aggregate(top=j.rank.min())
    j = j.join(top, [j.event == top.event, j.rank == top.top])
    sums = {f"c_{m}": j[f"comp_{m}"].sum() for m in MATERIALS}
    return j.group_by(j.event).aggregate(units=j.code.count(), mass=j.mass_kg.sum(), **sums)


def mass_balance(f: Facts) -> T:
    """Mass balance at recyclers and echelon firms: a recycler cannot recover more of a
    material than the batteries it recycled contain (2024 industry standard conditions,
    material accounting); a second-life product cannot weigh more than its originals."""
    tol = 1.0 + f.settings.mass_tolerance
    ev = f.t("sv_ev")
    c = _content(f, "recycled")
    x = ev.filter(ev.type == "recycled").join(c, ev.id == c.event)
    over = [(m, x[f"out_{m}"] > x[f"c_{m}"] * tol) for m in MATERIALS]
    any_over = ibis.literal(False)
    for _, cond in over:
        any_over = any_over | cond.fill_null(False)
    x = x.filter(any_over)
    parts: Any = ibis.literal("")
    for m, cond in over:
        ratio = _text((x[f"out_{m}"] / x[f"c_{m}"].nullif(0) * 100).round(0).cast("int64"))
        parts = parts + ibis.ifelse(
            cond.fill_null(False), " " + m + " " + ratio.fill_null("inf") + " %", ""
        )
    recycled = _out(
        x,
        battery=x.first_battery,
        enterprise=x.actor,
        subject=x.id,
        evidence=x.id,
        day=x.occ_day,
        detail="recycled on {day}: output above the input's content:" + parts,
    )
    r = _content(f, "repurposed")
    y = ev.filter(ev.type == "repurposed").join(r, ev.id == r.event)
    y = y.filter(y.product_mass > y.mass * tol)
    repurposed = _out(
        y,
        battery=y.first_battery,
        enterprise=y.actor,
        subject=y.id,
        evidence=y.id,
        day=y.occ_day,
        detail="second-life product of {day} weighs "
        + _text(y.product_mass.round(1))
        + " kg, more than its originals' "
        + _text(y.mass.round(1))
        + " kg",
    )
    return ibis.union(recycled, repurposed)


def low_recovery(f: Facts) -> T:
    """2024 industry standard conditions (Li >= 90 %, Ni/Co/Mn >= 98 % by smelting) and, for
    recycling from 2028, EU Regulation 2023/1542 Annex XII material recovery targets: flags a
    recycling whose recovery of a metal the input contains is below the minimum."""
    ev, cal = f.t("sv_ev"), f.t("sv_cal")
    c = _content(f, "recycled")
    x = ev.filter(ev.type == "recycled").join(c, ev.id == c.event)
    x = x.join(cal.select(occ_day=cal.day, year=cal.year), "occ_day")
    years = sorted({start.year for start, _ in f.settings.eu_min_recovery})
    metals = sorted(
        set(f.settings.china_min_recovery).union(*(s for _, s in f.settings.eu_min_recovery))
    )
    metals = [m for m in metals if m in MATERIALS]

    def minimum(metal: str) -> Any:
        value: Any = ibis.literal(f.settings.china_min_recovery.get(metal, 0.0))
        for year in years:
            value = ibis.ifelse(
                x.year >= year, f.settings.minimum_recovery(year).get(metal, 0.0), value
            )
        return value

    lows = []
    for m in metals:
        rate = x[f"out_{m}"].fill_null(0) / x[f"c_{m}"]
        lows.append((m, (x[f"c_{m}"] > 0) & (rate < minimum(m)), rate))
    any_low = ibis.literal(False)
    for _, cond, _rate in lows:
        any_low = any_low | cond.fill_null(False)
    x = x.filter(any_low)
    parts: Any = ibis.literal("")
    for m, cond, rate in lows:
        pct = _text((rate * 1000).round(0).cast("int64"))
        parts = parts + ibis.ifelse(cond.fill_null(False), " " + m + " " + pct + " per mille", "")
    return _out(
        x,
        battery=x.first_battery,
        enterprise=x.actor,
        subject=x.id,
        evidence=x.id,
        day=x.occ_day,
        detail="recycled on {day}; recovery below the minimum:" + parts,
    )


def low_reuse_share(f: Facts) -> T:
    """Industry standard conditions: an echelon firm reuses at least 60 % of the waste
    batteries it takes in, by weight; judged per completed calendar year."""
    cfg = f.settings
    s, bat, cal, roles = f.seq(), f.t("sv_bat"), f.t("sv_cal"), f.t("sv_role")
    s = s.filter(~s.named & s.type.isin(("received", "collected", "repurposed")))
    echelon = roles.filter(roles.role == "echelon_firm").select(firm=roles.enterprise)
    s = s.join(echelon, s.actor == echelon.firm)
    s = s.join(bat.select(code=bat.code, mass=bat.mass_kg), "code")
    s = s.join(cal.select(occ_day=cal.day, year=cal.year), "occ_day")
    as_of_year = cal.filter(cal.day == f.as_of).year.max().as_scalar()
    s = s.filter(s.year < as_of_year)
    taken = ibis.ifelse(s.type == "repurposed", 0.0, s.mass)
    reused = ibis.ifelse(s.type == "repurposed", s.mass, 0.0)
    g = s.group_by(["firm", "year"]).aggregate(
        intake=taken.sum(), reused=reused.sum(), day=s.occ_day.max()
    )
    g = g.filter(
        (g.intake >= cfg.min_reuse_intake_kg) & (g.reused < g.intake * cfg.min_reuse_share)
    )
    share = _text((g.reused / g.intake * 100).round(1))
    detail = (
        "reused "
        + share
        + " % of the "
        + _text((g.intake / 1000).round(1))
        + " t taken in during "
        + _text(g.year)
        + "; minimum "
        + str(round(cfg.min_reuse_share * 100))
        + " %"
    )
    return _out(
        g,
        battery=ibis.null("string"),
        enterprise=g.firm,
        subject=g.year,
        evidence=ibis.literal(""),
        day=g.day,
        detail=detail,
    )


def _refused(f: Facts, rule: str) -> T:
    rej = f.t("sv_rej")
    return rej.filter(rej.rule == rule)


def reused_code(f: Facts) -> T:
    """GB/T 34014-2017: a battery code is unique; registering a code again is a fault or a
    fraud (the platform refuses it, rule registered_once, and the attempt is kept)."""
    r, bat = _refused(f, "registered_once"), f.t("sv_bat")
    made = bat.select(code=bat.code, produced=bat.produced_event)
    x = r.join(made, r.battery == made.code)
    g = x.group_by(["battery", "actor"]).aggregate(
        day=x.rec_day.min(), produced=x.produced.min(), tries=x.id.count()
    )
    detail = "code registered again on {day} (" + _text(g.tries) + " refused attempt(s))"
    return _out(
        g,
        battery=g.battery,
        enterprise=g.actor,
        subject=ibis.literal(""),
        evidence=g.produced,
        day=g.day,
        detail=detail,
    )


def unknown_code(f: Facts) -> T:
    """2018 Interim Provisions: every battery is coded and registered before it is reported;
    flags reports naming a code the platform does not know (refused, rule registered)."""
    r = _refused(f, "registered")
    r = r.filter(r.field.startswith("batteries") | r.field.startswith("body."))
    g = r.group_by(["battery", "actor"]).aggregate(day=r.rec_day.min(), tries=r.id.count())
    detail = "reported an unregistered battery code on {day} (" + _text(g.tries) + " report(s))"
    return _out(
        g,
        battery=g.battery,
        enterprise=g.actor,
        subject=ibis.literal(""),
        evidence=ibis.literal(""),
        day=g.day,
        detail=detail,
    )


def event_after_end(f: Facts) -> T:
    """Nothing follows recycling or disposal (platform rule after_end_of_life; 2026 Interim
    Measures: whole-chain traceability): a report about a battery already recycled or
    disposed of is refused and flagged."""
    r, bat = _refused(f, "after_end_of_life"), f.t("sv_bat")
    ends = bat.select(code=bat.code, ended=bat.last_event)
    x = r.join(ends, r.battery == ends.code)
    g = x.group_by(["battery", "actor"]).aggregate(day=x.rec_day.min(), ended=x.ended.max())
    detail = "reported an event on {day} for a battery already recycled or disposed of"
    return _out(
        g,
        battery=g.battery,
        enterprise=g.actor,
        subject=ibis.literal(""),
        evidence=g.ended,
        day=g.day,
        detail=detail,
    )


def vin_two_packs(f: Facts) -> T:
    """2018 Interim Provisions Art. 8: the battery codes bound to a vehicle are reported
    exactly; flags a pack installed under a VIN while another pack is still bound to it."""
    s = f.seq()
    s = s.filter(s.vin.notnull())
    exchange = s.type.isin(("replaced", "swapped"))
    delta = ibis.ifelse((s.type == "installed") | (exchange & s.named), 1, 0) - ibis.ifelse(
        (exchange & ~s.named) | (s.type == "removed"), 1, 0
    )
    s = s.mutate(delta=delta).filter(ibis._.delta != 0)
    w = ibis.cumulative_window(group_by=s.vin, order_by=[s.occ_day, s.id, s.delta])
    s = s.mutate(bound=s.delta.sum().over(w))
    # an exchange takes one pack out as it puts one in: only an installation can add a second
    # pack, and a vehicle that stays over-bound through later swaps is still the same breach
    x = s.filter((s.type == "installed") & (s.bound >= 2))
    detail = (
        "bound to VIN " + x.vin + " on {day} while " + _text(x.bound - 1) + " other pack(s) are"
    )
    return _out(
        x,
        battery=x.code,
        enterprise=x.actor,
        subject=x.vin,
        evidence=x.id,
        day=x.occ_day,
        detail=detail,
    )


def scrapped_without_battery(f: Facts) -> T:
    """2026 Interim Measures: vehicle and battery are scrapped together (车电一体); flags a
    scrapped vehicle reported without the pack bound to its VIN."""
    ev, bat = f.t("sv_ev"), f.t("sv_bat")
    x = ev.filter((ev.type == "vehicle_scrapped") & ev.first_battery.isnull() & ev.vin.notnull())
    packs = bat.filter(bat.level == "pack").select(pack=bat.code, pack_vin=bat.vin)
    x = x.left_join(packs, x.vin == packs.pack_vin)
    detail = "vehicle " + x.vin + " scrapped on {day} without its battery"
    return _out(
        x,
        battery=x.pack,
        enterprise=x.actor,
        subject=x.id,
        evidence=x.id,
        day=x.occ_day,
        detail=detail,
    )


RULES: Final[dict[str, Callable[[Facts], T]]] = {
    "late_report": late_report,
    "retired_not_collected": retired_not_collected,
    "shipment_not_received": shipment_not_received,
    "not_forwarded": not_forwarded,
    "vanished": vanished,
    "off_whitelist_flow": off_whitelist_flow,
    "mass_balance": mass_balance,
    "low_recovery": low_recovery,
    "low_reuse_share": low_reuse_share,
    "reused_code": reused_code,
    "unknown_code": unknown_code,
    "event_after_end": event_after_end,
    "vin_two_packs": vin_two_packs,
    "scrapped_without_battery": scrapped_without_battery,
}
