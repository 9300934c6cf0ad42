"""Compliance figures, written once as Ibis expressions over the fact tables.

The figures the regulators' dashboard and reports show, computed on the same three engines as
the rules (:mod:`.engine`: the SQLite or PostgreSQL store, or DuckDB over a Parquet export):

==============  ==========================================================================
``collection``  per vehicle maker: packs it put on the road, how many retired, how many of
                those reached a compliant channel, the rate, and tonnes (:func:`collection`)
``provinces``   per province (and a ``total`` row): batteries in stock, in service, retired,
                collected, second-life, repurposed, recycled; count and tonnes
                (:func:`provinces`)
``recovery``    per recycler: content and output per metal over its ``recycled`` events and
                the recovery rate (:func:`recovery`)
``timeliness``  per enterprise: events reported, reported late (the working-day rule of
                ``rules.late_report``), on-time share, median and p90 delay in working days
                (:func:`timeliness`)
``trend``       per month: events by type group (:func:`trend`)
``flows``       counts of packs along maker -> vehicle -> retired -> collection channel ->
                treating firm -> end of life, for a Sankey diagram (:func:`flows`)
==============  ==========================================================================

Each figure is a function of :class:`~battrace.supervision.rules.Facts` and :class:`Filters`
returning an Ibis table: a few joins and grouped scans, whatever the size of the log; Python
only shapes the small grouped result (a row per enterprise, province, month or delay). The
facts must be built with the figures' own dimension tables as well as the rules' ones
(:func:`build_facts` does both). :func:`figures` is the service: it validates the kind and
filters, opens an engine, builds the facts over the whole log, evaluates and closes, and
returns JSON-ready dicts (:func:`figure_rows` returns the dataclasses).

Conventions shared by every figure:

- days are local (China Standard Time) day numbers; years and months come from the calendar
  tables, by the day an event *occurred*;
- ``as_of`` (default: the day of the latest fact in the log) cuts the log: events that
  occurred after it are left out (``Facts`` does it for ``sv_ev`` and ``seq``).
  ``provinces`` reads the batteries' current (folded) states and takes no ``as_of``;
- a battery *listed* by an event is one in the event's ``batteries``; codes an event only
  names in its body (the pack put in by an exchange, a second-life product) are not listed;
- tonnes are the batteries' registered ``mass_kg`` / 1000, rounded to the kilogram; rates are
  rounded to 6 decimals and ``None`` when the denominator is 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import ibis
import pyarrow as pa

from battrace.codes import validate_credit_code
from battrace.codes.division import PROVINCES, validate_division_code
from battrace.domain.events import Chemistry
from battrace.errors import ValidationError
from battrace.supervision.calendar import FIRST_DAY, LAST_DAY, day_number
from battrace.supervision.config import RuleSettings
from battrace.supervision.engine import MATERIALS, Engine
from battrace.supervision.rules import Facts, _content, reporting_delays

T = Any  # an ibis Table (Ibis ships no precise static types for expressions)

FIGURE_KINDS: Final = ("collection", "provinces", "recovery", "timeliness", "trend", "flows")
LEVELS: Final = ("pack", "module", "cell")
#: metals whose recovery is reported (those the input contains)
RECOVERY_MATERIALS: Final = tuple(m for m in ("li", "ni", "co", "mn", "cu", "al") if m in MATERIALS)

#: the filters each figure takes; any other is refused (rule ``not_applicable``)
APPLICABLE: Final[dict[str, frozenset[str]]] = {
    "collection": frozenset({"as_of", "year", "province", "chemistry", "enterprise"}),
    "provinces": frozenset({"province", "chemistry", "level"}),
    "recovery": frozenset({"as_of", "year", "province", "enterprise"}),
    "timeliness": frozenset({"as_of", "year", "province", "enterprise"}),
    "trend": frozenset({"as_of", "year", "province", "enterprise"}),
    "flows": frozenset({"as_of", "year", "year_to", "province", "chemistry"}),
}

# -- state and event groups ---------------------------------------------------------------------
IN_STOCK: Final = ("in_stock", "assembled")
IN_SERVICE: Final = ("installed", "in_use")
RETIRED: Final = ("retired", "in_scrapped_vehicle")
COLLECTED: Final = ("collected", "dismantled")
RECYCLED: Final = ("recycled", "disposed")
#: the categories of :func:`provinces`, in order (each a count and ``<name>_t`` tonnes)
PROVINCE_CATEGORIES: Final = (
    "in_stock",
    "in_service",
    "retired",
    "collected",
    "second_life",
    "repurposed",
    "recycled",
)
#: the type groups of :func:`trend`, in order
TREND_GROUPS: Final = ("produced", "installed", "retired", "collected", "repurposed", "recycled")
TAKE_IN: Final = ("collected", "received")
ENDS: Final = ("repurposed", "recycled", "disposed")
EXCHANGES: Final = ("replaced", "swapped")

#: Sankey nodes of :func:`flows`, in order
FLOW_NODES: Final = (
    "maker",
    "vehicle",
    "retired",
    "outlet",
    "vehicle_maker",
    "direct",
    "echelon_firm",
    "recycler",
    "repurposed",
    "recycled",
    "disposed",
)
CHANNELS: Final = ("outlet", "vehicle_maker", "direct")
TREATERS: Final = ("echelon_firm", "recycler")
#: Sankey links of :func:`flows`, in order (every one is answered, zero counts included)
FLOW_LINKS: Final = (
    ("maker", "vehicle"),
    ("vehicle", "retired"),
    *(("retired", c) for c in CHANNELS),
    *((c, t) for c in CHANNELS for t in TREATERS),
    *((t, e) for t in TREATERS for e in ENDS),
)


# -- filters ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Filters:
    """What a figure is limited to (validated by :func:`check_filters`).

    ``province`` is the 2-digit GB/T 2260 province prefix (``"44"``); ``year`` .. ``year_to``
    a range of years (``year`` alone: that year); ``level`` the unit level of ``provinces``.
    """

    year: int | None = None
    year_to: int | None = None
    province: str | None = None
    chemistry: str | None = None
    enterprise: str | None = None
    level: str = "pack"

    def years(self) -> tuple[int, int] | None:
        if self.year is None and self.year_to is None:
            return None
        first = self.year if self.year is not None else FIRST_DAY.year
        last = self.year_to if self.year_to is not None else (self.year or LAST_DAY.year)
        return first, last


def _bad(name: str, rule: str, message: str) -> ValidationError:
    return ValidationError(f"{name}: {message}", field=name, rule=rule)


def province_prefix(value: str, name: str = "province") -> str:
    """The 2-digit province of ``value`` (``"44"``, ``"440000"`` or any division code in the
    province); a ``ValidationError`` (a ``CodeError``) naming ``name`` otherwise."""
    text = value.strip()
    if len(text) == 2 and text.isdigit():
        text += "0000"
    return validate_division_code(text, field=name).province_code[:2]


def check_kind(kind: str) -> str:
    if kind not in FIGURE_KINDS:
        raise _bad("kind", "enum", f"must be one of {', '.join(FIGURE_KINDS)}, got {kind!r}")
    return kind


def _check_year(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(name, "int_type", f"must be a year, got {value!r}")
    if not FIRST_DAY.year <= value <= LAST_DAY.year:
        raise _bad(
            name,
            "range",
            f"must be between {FIRST_DAY.year} and {LAST_DAY.year} (the calendar), got {value}",
        )
    return value


def check_filters(
    kind: str,
    *,
    as_of: date | None = None,
    year: int | None = None,
    year_to: int | None = None,
    province: str | None = None,
    chemistry: str | None = None,
    enterprise: str | None = None,
    level: str | None = None,
) -> Filters:
    """The validated :class:`Filters` of figure ``kind``; a ``ValidationError`` naming the
    field for an unknown kind, a bad value, or a filter the figure does not take."""
    check_kind(kind)
    given = {
        "as_of": as_of,
        "year": year,
        "year_to": year_to,
        "province": province,
        "chemistry": chemistry,
        "enterprise": enterprise,
        "level": level,
    }
    for name, value in given.items():
        if value is not None and name not in APPLICABLE[kind]:
            takes = ", ".join(sorted(APPLICABLE[kind]))
            raise _bad(name, "not_applicable", f"the {kind} figure takes only {takes}")
    if as_of is not None and not isinstance(as_of, date):
        raise _bad("as_of", "date_type", f"must be a date, got {as_of!r}")
    if year is not None:
        _check_year(year, "year")
    if year_to is not None:
        _check_year(year_to, "year_to")
        if year is not None and year_to < year:
            raise _bad("year_to", "range", f"must not be before year {year}, got {year_to}")
    prefix = province_prefix(province) if province is not None else None
    if chemistry is not None and chemistry not in {c.value for c in Chemistry}:
        known = ", ".join(c.value for c in Chemistry)
        raise _bad("chemistry", "enum", f"must be one of {known}, got {chemistry!r}")
    firm = validate_credit_code(enterprise, field="enterprise") if enterprise is not None else None
    if level is not None and level not in LEVELS:
        raise _bad("level", "enum", f"must be one of {', '.join(LEVELS)}, got {level!r}")
    return Filters(
        year=year,
        year_to=year_to,
        province=prefix,
        chemistry=chemistry,
        enterprise=firm,
        level=level or "pack",
    )


# -- building -----------------------------------------------------------------------------------
def figure_dimensions(engine: Engine) -> dict[str, pa.Table]:
    """The small tables the figures add to the rules' ones: ``sv_ent`` (enterprise, 2-digit
    province) and ``sv_month`` (day number, ``YYYY-MM``) over the calendar's range."""
    ents = engine.enterprises()
    days: list[int] = []
    months: list[str] = []
    first = day_number(FIRST_DAY)
    current = FIRST_DAY
    while current <= LAST_DAY:
        days.append(first + len(days))
        months.append(f"{current.year:04d}-{current.month:02d}")
        current += timedelta(days=1)
    return {
        "sv_ent": pa.table(
            {
                "enterprise": pa.array([e for e, _, _ in ents], pa.string()),
                "province": pa.array([p[:2] for _, _, p in ents], pa.string()),
            }
        ),
        "sv_month": pa.table(
            {"day": pa.array(days, pa.int64()), "month": pa.array(months, pa.string())}
        ),
    }


def build_facts(
    engine: Engine, settings: RuleSettings | None = None, as_of: date | None = None
) -> Facts:
    """Build the fact tables over the whole log with the rules' dimension tables (and their
    ``sv_param`` row: the evaluation day, the first whitelisting, as
    :func:`battrace.supervision.service.evaluate` makes them) and the figures' own; the
    :class:`Facts` the figure functions read. ``as_of`` defaults to the day of the latest
    fact in the log."""
    from battrace.supervision.service import build_facts as build_rule_facts

    return build_rule_facts(
        engine, settings or RuleSettings(), as_of, extra=figure_dimensions(engine)
    )


# -- shared expressions -------------------------------------------------------------------------
def _pairs(f: Facts) -> T:
    """(battery, event) pairs up to the evaluation day (``Facts.seq``) with ``listed``: the
    event lists the battery, rather than only naming it in its body (``named``: the pack put
    in by an exchange, a second-life product)."""
    s = f.seq()
    return s.mutate(listed=~s.named)


def _listed(f: Facts) -> T:
    s = _pairs(f)
    return s.filter(s.listed)


def _flag(condition: Any) -> Any:
    return ibis.ifelse(condition, 1, 0)


def _firms(f: Facts) -> T:
    """Per enterprise with a role: 0/1 flags ``treating`` (a role that must be whitelisted
    to take in waste batteries), ``echelon``, ``outlet``, ``vmaker``."""
    roles = f.t("sv_role")
    return roles.group_by(firm=roles.enterprise).aggregate(
        treating=_flag(roles.role.isin(f.settings.treating_roles)).max(),
        echelon=_flag(roles.role == "echelon_firm").max(),
        outlet=_flag(roles.role == "collection_outlet").max(),
        vmaker=_flag(roles.role == "vehicle_maker").max(),
    )


def _year_of(f: Facts, t: T, day: str, column: str = "year") -> T:
    """``t`` with the calendar year of its day-number column ``day``."""
    cal = f.t("sv_cal")
    years = cal.select(**{f"{column}_day": cal.day, column: cal.year})
    return t.join(years, t[day] == years[f"{column}_day"]).drop(f"{column}_day")


def _in_years(t: T, column: str, flt: Filters) -> T:
    years = flt.years()
    if years is None:
        return t
    first, last = years
    return t.filter((t[column] >= first) & (t[column] <= last))


def _seated_in(f: Facts, t: T, firm: str, flt: Filters) -> T:
    """``t`` with the 2-digit ``province`` of the enterprise in column ``firm`` (None when
    unknown), limited to the filter's province and enterprise."""
    ent = f.t("sv_ent")
    seats = ent.select(seat_of=ent.enterprise, province=ent.province)
    t = t.left_join(seats, t[firm] == seats.seat_of).drop("seat_of")
    if flt.province is not None:
        t = t.filter(t.province == flt.province)
    if flt.enterprise is not None:
        t = t.filter(t[firm] == flt.enterprise)
    return t


def _tonnes(mass: Any) -> Any:
    return mass.fill_null(0.0) / 1000.0


# -- 1. EPR collection rate per vehicle maker -----------------------------------------------------
def collection(f: Facts, flt: Filters = Filters()) -> T:
    """Per vehicle maker (an installer: vehicle makers and importers), its extended producer
    responsibility for the packs it put on the road (2026 Interim Measures: vehicle makers
    organise the collection of waste batteries).

    A pack belongs to the maker that installed it: the actor of the ``installed`` event listing
    it. A pack put in by a ``replaced`` or ``swapped`` event (named in its body) belongs to the
    actor of the first ``installed`` event of that VIN (the vehicle's original installer);
    when the log holds no ``installed`` event for the VIN the pack is skipped. A pack attributed
    several times (swapped from one vehicle into another) keeps its first attribution.

    Columns: ``maker``, ``province`` (its seat, 2 digits), ``packs`` (packs attributed to it),
    ``retired`` (those listed by a retirement event, ``replaced`` as the old pack or
    ``removed``; with a year filter, first retired in those years), ``compliant`` (retired
    packs that reached a compliant channel: a ``collected`` or ``received`` event, or a
    ``repurposed``, ``recycled`` or ``disposed`` event, by a firm of a treating role that was
    on the whitelist that day; at any time up to the evaluation day), ``rate``
    (compliant / retired), ``retired_t``, ``compliant_t``. Filters: ``year`` (of first
    retirement), ``chemistry`` (of the pack), ``province`` and ``enterprise`` (of the maker).
    """
    s, ev, bat = _listed(f), f.t("sv_ev"), f.t("sv_bat")
    installed = ev.filter((ev.type == "installed") & ev.vin.notnull())
    first = installed.group_by(first_vin=installed.vin).aggregate(first_id=installed.id.min())
    installer = first.join(installed, first.first_id == installed.id).select(
        inst_vin=first.first_vin, installer=installed.actor
    )
    direct = s.filter(s.type == "installed").select(code=s.code, maker=s.actor, at=s.id)
    p = _pairs(f)
    put_in = p.filter(p.type.isin(EXCHANGES) & ~p.listed)
    exchanged = put_in.join(installer, put_in.vin == installer.inst_vin).select(
        code=put_in.code, maker=installer.installer, at=put_in.id
    )
    attributed = ibis.union(direct, exchanged)
    firsts = attributed.group_by(first_code=attributed.code).aggregate(first_at=attributed.at.min())
    owner = attributed.join(
        firsts,
        [attributed.code == firsts.first_code, attributed.at == firsts.first_at],
    ).select(code=attributed.code, maker=attributed.maker)
    packs = bat.select(pack=bat.code, mass=bat.mass_kg, chemistry=bat.chemistry)
    if flt.chemistry is not None:
        packs = packs.filter(packs.chemistry == flt.chemistry)
    owned = owner.join(packs, owner.code == packs.pack).select("code", "maker", "mass")

    retirements = s.filter(s.type.isin(f.settings.retirement_types))
    retired = retirements.group_by(ret_code=retirements.code).aggregate(
        ret_day=retirements.occ_day.min()
    )
    retired = _in_years(_year_of(f, retired, "ret_day"), "year", flt)

    treating, listed = f.t("sv_treating"), f.t("sv_listed")
    c = s.filter(s.type.isin((*TAKE_IN, *ENDS)))
    c = c.join(treating, c.actor == treating.enterprise)
    c = c.join(
        listed,
        [c.actor == listed.enterprise, listed.from_day <= c.occ_day, c.occ_day < listed.to_day],
    )
    reached = c.select(ok_code=c.code).distinct()

    r = owned.join(retired, owned.code == retired.ret_code)
    r = r.left_join(reached, r.code == reached.ok_code)
    ok = r.ok_code.notnull()
    per_retired = r.group_by(ret_maker=r.maker).aggregate(
        retired=r.code.count(),
        compliant=_flag(ok).sum(),
        retired_t=_tonnes(r.mass).sum(),
        compliant_t=_tonnes(ibis.ifelse(ok, r.mass, 0.0)).sum(),
    )
    per_maker = owned.group_by("maker").aggregate(packs=owned.code.count())
    g = per_maker.left_join(per_retired, per_maker.maker == per_retired.ret_maker)
    g = g.select(
        maker=g.maker,
        packs=g.packs,
        retired=g.retired.fill_null(0),
        compliant=g.compliant.fill_null(0),
        retired_t=g.retired_t.fill_null(0.0),
        compliant_t=g.compliant_t.fill_null(0.0),
    )
    g = _seated_in(f, g, "maker", flt)
    return g.mutate(rate=g.compliant / g.retired.nullif(0))


# -- 2. batteries per province ------------------------------------------------------------------
def provinces(f: Facts, flt: Filters = Filters()) -> T:
    """Batteries of ``flt.level`` (packs by default) per province of their current place
    (``sv_bat.province``, by its 2-digit prefix; ``unknown`` when it has none), and a
    ``total`` row over the provinces shown (the national total without a province filter).

    Categories, by current state, disjoint and together every battery (``total``):

    - ``in_stock``: in_stock, or assembled into a parent unit (first life);
    - ``in_service``: installed, in_use (first life);
    - ``retired``: retired, in_scrapped_vehicle;
    - ``collected``: collected, dismantled;
    - ``second_life``: second-life products (``second_life = 1``) in stock, assembled,
      installed or in use, i.e. a second life not yet ended;
    - ``repurposed``: state repurposed: originals turned into a second-life product (their
      mass lives on in the product, counted in ``second_life``: do not add the two);
    - ``recycled``: recycled, disposed (end of life).

    Each has a count and tonnes (``<category>_t``). Filters: ``province``, ``chemistry``,
    ``level``. States are the current ones: this figure takes no ``as_of`` or year.
    """
    bat = f.t("sv_bat")
    b = bat.filter(bat.level == flt.level)
    if flt.chemistry is not None:
        b = b.filter(b.chemistry == flt.chemistry)
    prefix = b.province.substr(0, 2)
    if flt.province is not None:
        b = b.filter(prefix == flt.province)
        prefix = b.province.substr(0, 2)
    later = b.second_life == 1
    lives = (*IN_STOCK, *IN_SERVICE)
    cats: dict[str, Any] = {
        "in_stock": b.state.isin(IN_STOCK) & ~later,
        "in_service": b.state.isin(IN_SERVICE) & ~later,
        "retired": b.state.isin(RETIRED),
        "collected": b.state.isin(COLLECTED),
        "second_life": b.state.isin(lives) & later,
        "repurposed": b.state == "repurposed",
        "recycled": b.state.isin(RECYCLED),
    }
    b = b.mutate(
        prov=ibis.ifelse(b.province.isnull(), "unknown", prefix),
        tonnes=_tonnes(b.mass_kg),
        **{f"is_{name}": _flag(cond) for name, cond in cats.items()},
    )
    sums: dict[str, Any] = {}
    for name in PROVINCE_CATEGORIES:
        flag = b[f"is_{name}"]
        sums[name] = flag.sum()
        sums[f"{name}_t"] = (flag * b.tonnes).sum()
    sums["total"] = b.code.count()
    sums["total_t"] = b.tonnes.sum()
    per = b.group_by("prov").aggregate(**sums)
    total = b.aggregate(**sums).mutate(prov=ibis.literal("total"))
    return ibis.union(per, total.select(per.columns))


# -- 3. recovery per recycler -------------------------------------------------------------------
def recovery(f: Facts, flt: Filters = Filters()) -> T:
    """Per recycler, over its ``recycled`` events: ``events``, ``units`` (batteries listed at
    the highest level, as ``rules._content`` counts them: a pack recycled with its modules
    counts once), ``input_t`` (the ``input_mass_kg`` it reported), ``content_t`` (registered
    mass of the units) and for each of li, ni, co, mn, cu, al: ``c_<m>`` the content (kg, from
    the units' registered composition), ``out_<m>`` the output it reported (kg; none = 0).
    The recovery rate of a metal is ``out_<m> / c_<m>`` (shaped by :func:`figure_rows`; only
    metals the input contains or the output names are shown). Filters: ``year`` (of the
    recycling), ``province`` and ``enterprise`` (of the recycler)."""
    ev = f.t("sv_ev")
    content = _content(f, "recycled")
    x = ev.filter(ev.type == "recycled")
    x = x.join(content, x.id == content.event)
    x = _in_years(_year_of(f, x, "occ_day"), "year", flt)
    x = _seated_in(f, x, "actor", flt)
    sums: dict[str, Any] = {
        "events": x.id.nunique(),
        "units": x.units.sum(),
        "input_t": _tonnes(x.input_mass).sum(),
        "content_t": _tonnes(x.mass).sum(),
    }
    for m in RECOVERY_MATERIALS:
        sums[f"c_{m}"] = x[f"c_{m}"].fill_null(0.0).sum()
        sums[f"out_{m}"] = x[f"out_{m}"].fill_null(0.0).sum()
    return x.group_by(recycler=x.actor, province=x.province).aggregate(**sums)


# -- 4. reporting timeliness --------------------------------------------------------------------
def timeliness(f: Facts, flt: Filters = Filters()) -> T:
    """The distribution of reporting delays per enterprise: one row per (``enterprise``,
    ``province``, ``delay``) with ``events`` and ``late`` (how many of them broke the
    deadline). The events and the lateness are those of ``rules.late_report`` (shared
    expression :func:`~battrace.supervision.rules.reporting_delays`: events with a reporting
    duty, by actors holding a deadline); ``delay`` is the working days from the fact to the
    report (0 for a report dated before its fact). Medians and percentiles are not portable
    across the engines: :func:`figure_rows` takes them from this small distribution. Filters:
    ``year`` (of the fact), ``province`` and ``enterprise`` (of the reporter)."""
    x = reporting_delays(f)
    x = _in_years(_year_of(f, x, "occ_day"), "year", flt)
    x = _seated_in(f, x, "actor", flt)
    delay = ibis.greatest(x.late_by, 0)
    return x.group_by(enterprise=x.actor, province=x.province, delay=delay).aggregate(
        events=x.id.count(), late=_flag(x.late).sum()
    )


# -- 5. monthly trend ---------------------------------------------------------------------------
def trend(f: Facts, flt: Filters = Filters()) -> T:
    """Events per month of their occurrence (``YYYY-MM``), by type group: ``produced``,
    ``installed``, ``retired`` (the retirement types: ``replaced``, ``removed``),
    ``collected``, ``repurposed``, ``recycled`` (``recycled`` and ``disposed``: end of life).
    Months without such events are absent here (:func:`figure_rows` fills the gaps).
    Filters: ``year``, ``province`` (of the event's place), ``enterprise`` (its actor)."""
    groups: dict[str, tuple[str, ...]] = {
        "produced": ("produced",),
        "installed": ("installed",),
        "retired": tuple(f.settings.retirement_types),
        "collected": ("collected",),
        "repurposed": ("repurposed",),
        "recycled": RECYCLED,
    }
    ev, months = f.t("sv_ev"), f.t("sv_month")
    x = ev.filter(ev.type.isin(tuple(t for types in groups.values() for t in types)))
    if flt.province is not None:
        x = x.filter(x.place.substr(0, 2) == flt.province)
    if flt.enterprise is not None:
        x = x.filter(x.actor == flt.enterprise)
    x = _in_years(_year_of(f, x, "occ_day"), "year", flt)
    x = x.join(months, x.occ_day == months.day)
    return x.group_by("month").aggregate(
        **{name: _flag(x.type.isin(types)).sum() for name, types in groups.items()}
    )


# -- 6. flows for the Sankey diagram ------------------------------------------------------------
def flows(f: Facts, flt: Filters = Filters()) -> T:
    """Where original packs went, stage by stage; one row per combination of stages reached
    with its ``packs`` count (:func:`figure_rows` turns it into the links of
    :data:`FLOW_LINKS`). The packs are first-life packs (``second_life = 0``) produced up to
    the evaluation day; stages, in acceptance order:

    - ``vehicle`` (1/0): listed by ``installed`` or put in by ``replaced``/``swapped``;
    - ``retired`` (1/0): listed by a retirement event (``replaced`` as the old pack,
      ``removed``);
    - ``channel``: who first took it in after its retirement (its first ``collected`` or
      ``received`` event, by an enterprise with one of these roles): ``direct`` when a firm of
      a treating role, else ``outlet`` for a collection outlet, else ``vehicle_maker``;
    - ``treater``: the first firm of a treating role that took it in after its retirement:
      ``echelon_firm`` if it has that role, else ``recycler``;
    - ``ending``: its ``repurposed``, ``recycled`` or ``disposed`` event.

    Filters: ``province`` (the pack's current place), ``chemistry``, ``year`` .. ``year_to``
    (the production year range; ``year`` alone: that year)."""
    bat, ev, s = f.t("sv_bat"), f.t("sv_ev"), _listed(f)
    packs = bat.filter((bat.level == "pack") & (bat.second_life == 0))
    if flt.chemistry is not None:
        packs = packs.filter(packs.chemistry == flt.chemistry)
    if flt.province is not None:
        packs = packs.filter(packs.province.substr(0, 2) == flt.province)
    made = ev.select(made_id=ev.id, made_day=ev.occ_day)
    packs = packs.join(made, packs.produced_event == made.made_id)
    packs = _in_years(_year_of(f, packs, "made_day", "made_year"), "made_year", flt)
    packs = packs.select(pack=packs.code)

    p = _pairs(f)
    entered = p.filter(((p.type == "installed") & p.listed) | (p.type.isin(EXCHANGES) & ~p.listed))
    vehicle = entered.select(veh_code=entered.code).distinct()
    retirements = s.filter(s.type.isin(f.settings.retirement_types))
    retired = retirements.group_by(ret_code=retirements.code).aggregate(ret_id=retirements.id.min())
    firms = _firms(f)
    take = s.filter(s.type.isin(TAKE_IN))
    take = take.join(retired, take.code == retired.ret_code)
    take = take.filter(take.id > take.ret_id)
    take = take.join(firms, take.actor == firms.firm)
    take = take.filter((take.treating + take.outlet + take.vmaker) > 0)
    take = take.select("code", "id", "treating", "echelon", "outlet")

    first = take.group_by(ch_code=take.code).aggregate(ch_id=take.id.min())
    first = first.join(take, [first.ch_code == take.code, first.ch_id == take.id])
    channel = first.select(
        ch_code=first.ch_code,
        channel=ibis.ifelse(
            first.treating == 1, "direct", ibis.ifelse(first.outlet == 1, "outlet", "vehicle_maker")
        ),
    )
    treat = take.filter(take.treating == 1)
    first_treat = treat.group_by(tr_code=treat.code).aggregate(tr_id=treat.id.min())
    first_treat = first_treat.join(
        treat, [first_treat.tr_code == treat.code, first_treat.tr_id == treat.id]
    )
    treater = first_treat.select(
        tr_code=first_treat.tr_code,
        treater=ibis.ifelse(first_treat.echelon == 1, "echelon_firm", "recycler"),
    )
    ends = s.filter(s.type.isin(ENDS))
    ending = ends.group_by(end_code=ends.code).aggregate(ending=ends.type.min())

    x = packs.left_join(vehicle, packs.pack == vehicle.veh_code)
    x = x.left_join(retired, x.pack == retired.ret_code)
    x = x.left_join(channel, x.pack == channel.ch_code)
    x = x.left_join(treater, x.pack == treater.tr_code)
    x = x.left_join(ending, x.pack == ending.end_code)
    return x.group_by(
        vehicle=_flag(x.veh_code.notnull()),
        retired=_flag(x.ret_code.notnull()),
        channel=x.channel,
        treater=x.treater,
        ending=x.ending,
    ).aggregate(packs=x.pack.count())


FIGURES: Final[dict[str, Callable[[Facts, Filters], T]]] = {
    "collection": collection,
    "provinces": provinces,
    "recovery": recovery,
    "timeliness": timeliness,
    "trend": trend,
    "flows": flows,
}


# -- rows ---------------------------------------------------------------------------------------
def _t(value: Any) -> float:
    return round(float(value or 0.0), 3)


def _rate(num: float | int | None, den: float | int | None) -> float | None:
    if not den or num is None:
        return None
    return round(float(num) / float(den), 6)


def _province_code(prefix: str | None) -> str | None:
    return prefix + "0000" if prefix and prefix.isdigit() else prefix


@dataclass(frozen=True, slots=True)
class CollectionRow:
    """One vehicle maker's collection figures (see :func:`collection`)."""

    maker: str
    province: str | None
    packs: int
    retired: int
    compliant: int
    rate: float | None
    retired_t: float
    compliant_t: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ProvinceRow:
    """Batteries of one province (or the ``total`` row) by category (see :func:`provinces`)."""

    province: str
    name: str
    in_stock: int
    in_stock_t: float
    in_service: int
    in_service_t: float
    retired: int
    retired_t: float
    collected: int
    collected_t: float
    second_life: int
    second_life_t: float
    repurposed: int
    repurposed_t: float
    recycled: int
    recycled_t: float
    total: int
    total_t: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class MaterialRecovery:
    content_kg: float
    output_kg: float
    rate: float | None  # output / content; None when the input holds none of it


@dataclass(frozen=True, slots=True)
class RecoveryRow:
    """One recycler's recovery (see :func:`recovery`); ``year`` is the year filter."""

    recycler: str
    province: str | None
    year: int | None
    events: int
    units: int
    input_t: float
    content_t: float
    materials: dict[str, MaterialRecovery] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class TimelinessRow:
    """One enterprise's reporting timeliness (see :func:`timeliness`); delays in working
    days, percentiles by the nearest-rank method (the smallest delay at or above which that
    share of its events lie)."""

    enterprise: str
    province: str | None
    events: int
    late: int
    on_time_share: float | None
    median_delay: int | None
    p90_delay: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class TrendRow:
    """Events of one month by type group (see :func:`trend`)."""

    month: str
    produced: int
    installed: int
    retired: int
    collected: int
    repurposed: int
    recycled: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FlowRow:
    """One Sankey link: ``count`` packs went from node ``source`` to node ``target``."""

    source: str
    target: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


FigureRow = CollectionRow | ProvinceRow | RecoveryRow | TimelinessRow | TrendRow | FlowRow


def _records(expr: T) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = expr.to_pyarrow().to_pylist()
    return records


def _collection_rows(expr: T, flt: Filters) -> list[CollectionRow]:
    rows = [
        CollectionRow(
            maker=r["maker"],
            province=_province_code(r["province"]),
            packs=int(r["packs"]),
            retired=int(r["retired"]),
            compliant=int(r["compliant"]),
            rate=_rate(r["compliant"], r["retired"]),
            retired_t=_t(r["retired_t"]),
            compliant_t=_t(r["compliant_t"]),
        )
        for r in _records(expr)
    ]
    return sorted(rows, key=lambda r: r.maker)


def _province_name(code: str) -> str:
    if code == "total":
        return "national total"
    found = PROVINCES.get(code)
    return found.name_en if found is not None else code


def _province_rows(expr: T, flt: Filters) -> list[ProvinceRow]:
    rows: list[ProvinceRow] = []
    for r in _records(expr):
        prov = str(r["prov"])
        values: dict[str, Any] = {}
        for name in (*PROVINCE_CATEGORIES, "total"):
            values[name] = int(r[name] or 0)
            values[f"{name}_t"] = _t(r[f"{name}_t"])
        name = _province_name(prov)
        if prov == "total" and flt.province is not None:
            name = f"total of {_province_code(flt.province)}"
        rows.append(ProvinceRow(province=_province_code(prov) or prov, name=name, **values))
    order = {"unknown": "98", "total": "99"}
    return sorted(rows, key=lambda r: order.get(r.province, r.province))


def _recovery_rows(expr: T, flt: Filters) -> list[RecoveryRow]:
    rows = []
    for r in _records(expr):
        materials = {}
        for m in RECOVERY_MATERIALS:
            content, output = float(r[f"c_{m}"] or 0.0), float(r[f"out_{m}"] or 0.0)
            if content > 0 or output > 0:
                materials[m] = MaterialRecovery(
                    content_kg=_t(content), output_kg=_t(output), rate=_rate(output, content)
                )
        rows.append(
            RecoveryRow(
                recycler=r["recycler"],
                province=_province_code(r["province"]),
                year=flt.year,
                events=int(r["events"]),
                units=int(r["units"] or 0),
                input_t=_t(r["input_t"]),
                content_t=_t(r["content_t"]),
                materials=materials,
            )
        )
    return sorted(rows, key=lambda r: r.recycler)


def nearest_rank(distribution: Iterable[tuple[int, int]], share: float) -> int | None:
    """The nearest-rank percentile of a distribution given as (value, count) pairs: the
    smallest value such that at least ``share`` of the counts are at or below it."""
    pairs = sorted((v, n) for v, n in distribution if n > 0)
    total = sum(n for _, n in pairs)
    if total == 0:
        return None
    rank = max(1, math.ceil(share * total))
    seen = 0
    for value, count in pairs:
        seen += count
        if seen >= rank:
            return value
    return pairs[-1][0]  # pragma: no cover - rank <= total


def _timeliness_rows(expr: T, flt: Filters) -> list[TimelinessRow]:
    per: dict[str, dict[str, Any]] = {}
    for r in _records(expr):
        found = per.setdefault(
            r["enterprise"], {"province": r["province"], "events": 0, "late": 0, "delays": []}
        )
        found["events"] += int(r["events"])
        found["late"] += int(r["late"])
        found["delays"].append((int(r["delay"]), int(r["events"])))
    rows = []
    for firm, d in per.items():
        events, late = d["events"], d["late"]
        rows.append(
            TimelinessRow(
                enterprise=firm,
                province=_province_code(d["province"]),
                events=events,
                late=late,
                on_time_share=_rate(events - late, events),
                median_delay=nearest_rank(d["delays"], 0.5),
                p90_delay=nearest_rank(d["delays"], 0.9),
            )
        )
    return sorted(rows, key=lambda r: r.enterprise)


def _months(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _trend_rows(expr: T, flt: Filters) -> list[TrendRow]:
    found = {str(r["month"]): r for r in _records(expr)}
    if not found:
        return []
    rows = []
    for month in _months(min(found), max(found)):
        r = found.get(month, {})
        rows.append(TrendRow(month, **{g: int(r.get(g) or 0) for g in TREND_GROUPS}))
    return rows


def _flow_rows(expr: T, flt: Filters) -> list[FlowRow]:
    counts = dict.fromkeys(FLOW_LINKS, 0)
    for r in _records(expr):
        n = int(r["packs"])
        channel, treater, ending = r["channel"], r["treater"], r["ending"]
        if r["vehicle"]:
            counts["maker", "vehicle"] += n
            if r["retired"]:
                counts["vehicle", "retired"] += n
        if not r["retired"] or channel is None:
            continue
        counts["retired", channel] += n
        if treater is None:
            continue
        counts[channel, treater] += n
        if ending is not None:
            counts[treater, ending] += n
    return [FlowRow(source, target, n) for (source, target), n in counts.items()]


_SHAPES: Final[dict[str, Callable[[T, Filters], list[Any]]]] = {
    "collection": _collection_rows,
    "provinces": _province_rows,
    "recovery": _recovery_rows,
    "timeliness": _timeliness_rows,
    "trend": _trend_rows,
    "flows": _flow_rows,
}


def evaluate_figure(facts: Facts, kind: str, flt: Filters = Filters()) -> list[FigureRow]:
    """Figure ``kind`` over built ``facts`` (:func:`build_facts`), as dataclass rows."""
    check_kind(kind)
    rows: list[FigureRow] = _SHAPES[kind](FIGURES[kind](facts, flt), flt)
    return rows


# -- the service --------------------------------------------------------------------------------
def figure_rows(
    store_or_engine: Any,
    kind: str,
    *,
    as_of: date | None = None,
    year: int | None = None,
    province: str | None = None,
    chemistry: str | None = None,
    enterprise: str | None = None,
    engine: str = "store",
    parquet_dir: Path | None = None,
    year_to: int | None = None,
    level: str | None = None,
    settings: RuleSettings | None = None,
) -> list[FigureRow]:
    """:func:`figures` as dataclass rows (each has ``to_dict()``)."""
    from battrace.supervision.service import open_engine, settings_from_env

    flt = check_filters(
        kind,
        as_of=as_of,
        year=year,
        year_to=year_to,
        province=province,
        chemistry=chemistry,
        enterprise=enterprise,
        level=level,
    )
    if isinstance(store_or_engine, Engine):
        if store_or_engine.scope is not None:
            raise ValueError("figures need the whole log, not a scoped engine")
        eng, owned = store_or_engine, False
    else:
        eng, owned = open_engine(store_or_engine, engine, parquet_dir), True
    try:
        facts = build_facts(eng, settings or settings_from_env(), as_of)
        return evaluate_figure(facts, kind, flt)
    finally:
        if owned:
            eng.close()


def figures(
    store_or_engine: Any,
    kind: str,
    *,
    as_of: date | None = None,
    year: int | None = None,
    province: str | None = None,
    chemistry: str | None = None,
    enterprise: str | None = None,
    engine: str = "store",
    parquet_dir: Path | None = None,
    year_to: int | None = None,
    level: str | None = None,
    settings: RuleSettings | None = None,
) -> list[dict[str, Any]]:
    """Figure ``kind`` (one of :data:`FIGURE_KINDS`) as JSON-ready dicts.

    ``store_or_engine`` is a store (an engine is opened on it: ``engine="store"``, its own
    database, or ``"duckdb"`` over the Parquet export in ``parquet_dir``, made first when the
    folder holds none; closed at the end) or an open :class:`~.engine.Engine` (built on, left
    open; ``engine`` and ``parquet_dir`` are then unused). The fact tables are rebuilt over
    the whole log. Filters (each figure takes those of :data:`APPLICABLE`; another, a bad
    value or an unknown ``kind`` is a ``ValidationError`` naming the field): ``as_of`` (cut
    the log at that day), ``year`` (``year_to``: a range, ``flows`` only), ``province`` (2 or
    6 digits), ``chemistry``, ``enterprise`` (credit code), ``level`` (``provinces`` only).
    ``settings`` (default: ``BATTRACE_SUPERVISION_RULES``) gives the deadlines, treating roles
    and retirement types.
    """
    rows = figure_rows(
        store_or_engine,
        kind,
        as_of=as_of,
        year=year,
        province=province,
        chemistry=chemistry,
        enterprise=enterprise,
        engine=engine,
        parquet_dir=parquet_dir,
        year_to=year_to,
        level=level,
        settings=settings,
    )
    return [r.to_dict() for r in rows]


__all__ = [
    "APPLICABLE",
    "FIGURES",
    "FIGURE_KINDS",
    "FLOW_LINKS",
    "FLOW_NODES",
    "CollectionRow",
    "Filters",
    "FlowRow",
    "MaterialRecovery",
    "ProvinceRow",
    "RecoveryRow",
    "TimelinessRow",
    "TrendRow",
    "build_facts",
    "check_filters",
    "collection",
    "evaluate_figure",
    "figure_dimensions",
    "figure_rows",
    "figures",
    "flows",
    "nearest_rank",
    "province_prefix",
    "provinces",
    "recovery",
    "timeliness",
    "trend",
]
