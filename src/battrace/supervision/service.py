"""Supervision as a service: evaluate the rules, keep the alerts, on one engine or another.

- :func:`evaluate` runs rules on an :class:`~battrace.supervision.engine.Engine` and returns
  their :class:`~battrace.supervision.findings.Finding` rows (nothing is written);
- :func:`sweep` recomputes every alert of a store (on the store's own database, or on DuckDB
  over a Parquet export) and reconciles the store's alerts with what it found;
- :func:`update_alerts` is the incremental path: after new events it re-evaluates the
  per-battery rules over the batteries they touched only.

The evaluation day (``as_of``) defaults to the day of the latest report in the log: a live
platform's "today", and for historical data (an import, a simulation) the day the data ends.
Rules that wait for something (collection, receipt) judge against it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

from battrace.errors import ValidationError
from battrace.supervision import sqlcache
from battrace.supervision.calendar import (
    FIRST_DAY,
    LAST_DAY,
    day_number,
    default_calendar,
    from_day_number,
)
from battrace.supervision.config import BATTERY_RULES, RULE_SEVERITY, RuleSettings, load_settings
from battrace.supervision.engine import (
    Engine,
    Fresh,
    Scope,
    Stage,
    parquet_engine,
    scoped_engine,
    store_engine,
)
from battrace.supervision.findings import Finding

if TYPE_CHECKING:
    from battrace.supervision.rules import Facts

# Ibis (the rules' language) is imported only to compile a rule's SQL, which is cached in the
# process and, for DuckDB, on disk (supervision/sqlcache.py): an incremental update in a fresh
# process runs the cached SQL without importing it.

ENGINES = ("store", "duckdb")


def settings_from_env() -> RuleSettings:
    """The rule settings named by ``BATTRACE_SUPERVISION_RULES`` (defaults when unset)."""
    from battrace.config import load_settings as load_platform_settings

    return load_settings(load_platform_settings().supervision_rules)


def _dimensions(engine: Engine, settings: RuleSettings) -> tuple[dict[str, pa.Table], int | None]:
    """The small tables made in Python: roles, provinces, deadlines, whitelist periods and
    the calendar; also the day the first firm entered the whitelist."""
    enterprises = engine.enterprises()
    role_rows: list[tuple[str, str]] = []
    deadline: dict[str, int] = {}
    for ent, roles_json, _ in enterprises:
        roles = orjson.loads(roles_json)
        for role in roles:
            role_rows.append((ent, role))
            days = settings.deadlines.get(role)
            if days is not None:
                deadline[ent] = min(days, deadline.get(ent, days))
    treating = sorted({e for e, r in role_rows if r in settings.treating_roles})
    calendar = _calendar_table()
    last = int(calendar.column("day")[-1].as_py())
    periods: list[tuple[str, int, int]] = []
    first_listing: int | None = None
    open_since: dict[str, int] = {}
    for ent, listed, when in engine.whitelist():
        day = day_number(when)
        if listed:
            open_since.setdefault(ent, day)
            first_listing = day if first_listing is None else min(first_listing, day)
        elif ent in open_since:
            periods.append((ent, open_since.pop(ent), day))
    periods.extend((ent, start, last + 1) for ent, start in open_since.items())
    tables = {
        "sv_role": pa.table(
            {
                "enterprise": pa.array([e for e, _ in role_rows], pa.string()),
                "role": pa.array([r for _, r in role_rows], pa.string()),
            }
        ),
        "sv_treating": pa.table({"enterprise": pa.array(treating, pa.string())}),
        "sv_deadline": pa.table(
            {
                "enterprise": pa.array(list(deadline), pa.string()),
                "days": pa.array(list(deadline.values()), pa.int64()),
            }
        ),
        "sv_listed": pa.table(
            {
                "enterprise": pa.array([p[0] for p in periods], pa.string()),
                "from_day": pa.array([p[1] for p in periods], pa.int64()),
                "to_day": pa.array([p[2] for p in periods], pa.int64()),
            }
        ),
        "sv_cal": calendar,
    }
    return tables, first_listing


_CALENDAR_COLUMNS = ("day", "wd", "workday", "provisional", "year")


@functools.cache
def _calendar_table() -> pa.Table:
    """The working-day calendar as a table: day number, working-day index, whether a working
    day, whether the year's schedule is provisional, and the year (kept on disk: building it
    takes about half a second)."""
    key = sqlcache.calendar_key(FIRST_DAY.isoformat(), LAST_DAY.isoformat())
    cached = sqlcache.load("calendar", key)
    if isinstance(cached, dict) and sorted(cached) == sorted(_CALENDAR_COLUMNS):
        try:
            table = pa.table({c: pa.array(cached[c], pa.int64()) for c in _CALENDAR_COLUMNS})
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
            pass  # not a calendar: built again below
        else:
            if table.num_rows == day_number(LAST_DAY) - day_number(FIRST_DAY) + 1:
                return table
    calendar = default_calendar()
    rows = calendar.rows()
    columns = {
        "day": [r.day for r in rows],
        "wd": [r.workday_index for r in rows],
        "workday": [int(r.workday) for r in rows],
        "provisional": [int(r.provisional) for r in rows],
        "year": [from_day_number(r.day).year for r in rows],
    }
    sqlcache.save("calendar", key, columns)
    return pa.table({c: pa.array(columns[c], pa.int64()) for c in _CALENDAR_COLUMNS})


def _provinces(engine: Engine) -> dict[str, str]:
    return {ent: province for ent, _, province in engine.enterprises()}


def _check_rules(rules: Collection[str]) -> list[str]:
    unknown = [r for r in rules if r not in RULE_SEVERITY]
    if unknown:
        raise ValidationError(
            f"rule: unknown rule {unknown[0]!r} (known: {', '.join(RULE_SEVERITY)})",
            field="rule",
            rule="known_rule",
        )
    return [r for r in RULE_SEVERITY if r in rules]


def build_facts(
    engine: Engine,
    settings: RuleSettings,
    as_of: date | None = None,
    extra: dict[str, pa.Table] | None = None,
) -> Facts:
    """Build the fact tables on ``engine``: the dimension tables, the one-row ``sv_param``
    (the evaluation day, default the day of the latest fact in the log, and the day the first
    firm entered the whitelist) and ``extra`` tables a caller adds (the figures' own)."""
    from battrace.supervision.rules import Facts

    _build_facts(engine, settings, as_of, extra)
    return Facts(engine, settings)


def _build_facts(
    engine: Engine,
    settings: RuleSettings,
    as_of: date | None = None,
    extra: dict[str, pa.Table] | None = None,
) -> None:
    dims, first_listing = _dimensions(engine, settings)
    if as_of is None:
        data_day = engine.data_day()
        as_of_day = data_day if data_day is not None else day_number(date.today())
    else:
        as_of_day = day_number(as_of)
    dims["sv_param"] = pa.table(
        {
            "as_of": pa.array([as_of_day], pa.int64()),
            "first_listing": pa.array(
                [first_listing if first_listing is not None else _NEVER], pa.int64()
            ),
        }
    )
    engine.build({**dims, **(extra or {})})


def evaluate(
    engine: Engine,
    *,
    settings: RuleSettings | None = None,
    as_of: date | None = None,
    rules: Collection[str] | None = None,
    timings: dict[str, float] | None = None,
) -> list[Finding]:
    """Run ``rules`` (default: all enabled) on ``engine``; returns their findings, sorted.

    ``timings`` receives seconds per step ("build" and one per rule) when given.
    """
    settings = settings or RuleSettings()
    chosen = _check_rules(rules if rules is not None else settings.rules)
    started = time.perf_counter()
    _build_facts(engine, settings, as_of)
    provinces = _provinces(engine)
    if timings is not None:
        timings["build"] = time.perf_counter() - started
    sql = _compiled(engine, chosen, settings)
    found: list[Finding] = []
    for rule in chosen:
        started = time.perf_counter()
        rows = engine.rows(sql[rule])
        found.extend(_findings(rule, rows, settings, provinces))
        if timings is not None:
            timings[rule] = time.perf_counter() - started
    found.sort(key=lambda f: (f.rule, f.battery or "", f.enterprise or "", f.subject))
    return found


# a day long before any event: "no firm was whitelisted yet" never delays a deadline
_NEVER = -1_000_000
_COMPILED: dict[tuple[str, str, str], str] = {}


def _compiled(engine: Engine, rules: Sequence[str], settings: RuleSettings) -> dict[str, str]:
    """The SQL of ``rules`` for the engine's dialect: compiled once per process, and for
    DuckDB kept on disk across processes (:mod:`.sqlcache`; a hit imports no Ibis)."""
    settings_repr = repr(settings)
    found: dict[str, str] = {}
    for rule in rules:
        sql = _COMPILED.get((engine.dialect, rule, settings_repr))
        if sql is not None:
            found[rule] = sql
    missing = [r for r in rules if r not in found]
    if missing and engine.dialect == "duckdb":
        stored = sqlcache.load_rules(engine.dialect, settings_repr)
        found.update({r: stored[r] for r in missing if r in stored})
        missing = [r for r in rules if r not in found]
    if missing:
        made = _compile(engine, missing, settings)
        found.update(made)
        if engine.dialect == "duckdb":
            sqlcache.save_rules(engine.dialect, settings_repr, made)
    for rule, sql in found.items():
        _COMPILED[(engine.dialect, rule, settings_repr)] = sql
    return found


def _compile(engine: Engine, rules: Sequence[str], settings: RuleSettings) -> dict[str, str]:
    """Compile ``rules`` from Ibis to the engine's SQL (imports Ibis)."""
    from battrace.supervision.rules import RULES, Facts

    facts = Facts(engine, settings)
    return {r: str(engine.con.compile(RULES[r](facts))) for r in rules}


def prepare_scoped(settings: RuleSettings) -> None:
    """Load what a first incremental evaluation in this process would: DuckDB, the calendar
    table and the per-battery rules' SQL (compiled and cached on disk when missing)."""
    from battrace.supervision.engine import blank_engine

    engine = blank_engine()
    try:
        _build_facts(engine, settings)
        _compiled(engine, [r for r in settings.rules if r in BATTERY_RULES], settings)
    finally:
        engine.close()


def _findings(
    rule: str, rows: list[dict[str, Any]], settings: RuleSettings, provinces: dict[str, str]
) -> Iterator[Finding]:
    severity = settings.severity[rule]
    seen: set[tuple[str | None, str | None, str]] = set()
    for row in rows:
        battery, enterprise, subject = row["battery"], row["enterprise"], row["subject"] or ""
        key = (battery, enterprise, subject)
        if key in seen:  # one breach, one finding (e.g. two rows of the same refused code)
            continue
        seen.add(key)
        day = row["day"]
        iso = from_day_number(int(day)).isoformat() if day is not None else None
        evidence = tuple(sorted({int(x) for x in (row["evidence"] or "").split()}))
        detail = str(row["detail"] or "").replace("{day}", iso or "?")
        yield Finding(
            rule=rule,
            severity=severity,
            battery=battery,
            enterprise=enterprise,
            subject=subject,
            evidence=evidence,
            detail=detail,
            province=provinces.get(enterprise) if enterprise else None,
            day=iso,
        )


@dataclass(slots=True)
class SweepResult:
    """What a sweep found and did."""

    engine: str
    as_of: str
    findings: dict[str, int] = field(default_factory=dict)
    reconciled: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "as_of": self.as_of,
            "findings": dict(self.findings),
            "total": sum(self.findings.values()),
            "reconciled": dict(self.reconciled),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def open_engine(store: Any, engine: str = "store", parquet_dir: str | Path | None = None) -> Engine:
    """The engine a sweep runs on: the store itself, or DuckDB over ``parquet_dir`` (exported
    from the store first when the directory holds no export)."""
    if engine not in ENGINES:
        raise ValidationError(
            f"engine: must be one of {', '.join(ENGINES)}", field="engine", rule="enum"
        )
    if engine == "store":
        return store_engine(store)
    if parquet_dir is None:
        raise ValidationError(
            "parquet: the duckdb engine needs --parquet DIR", field="parquet", rule="required"
        )
    from battrace.supervision.export import export_parquet, is_export

    if not is_export(parquet_dir):
        export_parquet(store, parquet_dir)
    return parquet_engine(parquet_dir)


def sweep(
    store: Any,
    *,
    as_of: date | None = None,
    engine: str = "store",
    parquet_dir: str | Path | None = None,
    settings: RuleSettings | None = None,
    writing: Callable[[], AbstractContextManager[Any]] | None = None,
) -> SweepResult:
    """Recompute every alert: evaluate all enabled rules and reconcile the store's alerts.

    The evaluation reads through its own connection. ``writing`` lends the store the alerts
    are written through (the server passes its one writer's, so that a long evaluation never
    holds the write lock), then in parts, lent again for each (``reconcile_in_parts``: the
    server's reports wait a part at most); by default they are written through ``store``, in
    one transaction.
    """
    from battrace.supervision.alerts import reconcile, reconcile_in_parts

    settings = settings or settings_from_env()
    started = time.perf_counter()
    eng = open_engine(store, engine, parquet_dir)
    timings: dict[str, float] = {}
    try:
        found = evaluate(eng, settings=settings, as_of=as_of, timings=timings)
        as_of_day = day_number(as_of) if as_of else eng.data_day()
    finally:
        eng.close()
    evaluated = time.perf_counter() - started
    if writing is None:
        result = reconcile(store, found, rules=list(settings.rules))
    else:
        result = reconcile_in_parts(writing, found, rules=list(settings.rules))
    result_dict = result.to_dict()
    out = SweepResult(
        engine=engine,
        as_of=from_day_number(as_of_day).isoformat() if as_of_day is not None else "",
    )
    for f in found:
        out.findings[f.rule] = out.findings.get(f.rule, 0) + 1
    out.reconciled = {k: int(v) for k, v in result_dict.items()}
    out.seconds = {"evaluate": evaluated, **{f"rule.{k}": v for k, v in timings.items()}}
    out.seconds["total"] = time.perf_counter() - started
    return out


def update_alerts(
    store: Any,
    batteries: Sequence[str],
    first_id: int,
    last_id: int,
    *,
    as_of: date | None = None,
    settings: RuleSettings | None = None,
    writing: Callable[[], AbstractContextManager[Any]] | None = None,
    fresh: Fresh | None = None,
) -> dict[str, int]:
    """Incremental update after events ``first_id`` .. ``last_id`` touching ``batteries``:
    re-evaluate the per-battery rules over those batteries and reconcile their alerts.

    The events are read through ``store`` (the new ones may be given as ``fresh``, see
    :func:`~battrace.supervision.engine.scoped_engine`); ``writing`` (as for :func:`sweep`)
    lends the store the alerts are written through, held only for the reconcile (default:
    ``store``)."""
    settings = settings or settings_from_env()
    rules = [r for r in settings.rules if r in BATTERY_RULES]
    found = scoped_findings(
        store, batteries, first_id, last_id, as_of=as_of, settings=settings, fresh=fresh
    )
    if found is None:
        return {}
    others, late, touched, rejudged = found
    return reconcile_scoped(store, others, late, touched, rules, writing=writing, rejudged=rejudged)


def scoped_findings(
    store: Any,
    batteries: Sequence[str],
    first_id: int,
    last_id: int,
    *,
    as_of: date | None = None,
    settings: RuleSettings,
    fresh: Fresh | None = None,
    stage: Stage | None = None,
) -> tuple[list[Finding], list[Finding], frozenset[str], frozenset[str]] | None:
    """The evaluation half of :func:`update_alerts` (nothing is written): the findings of the
    per-battery rules but ``late_report`` over the batteries in scope, the late reports among
    the new events and of the batteries new corrections touch, the batteries in scope, and
    those touched by corrections (their late reports judged again, on all their events; None:
    nothing to evaluate)."""
    rules = [r for r in settings.rules if r in BATTERY_RULES]
    if not batteries and first_id > last_id:
        return None
    eng = scoped_engine(store, Scope(tuple(batteries), first_id, last_id), fresh, stage)
    try:
        found = evaluate(eng, settings=settings, as_of=as_of, rules=rules)
    finally:
        eng.close()
    touched = eng.scope or frozenset()
    rejudged = eng.rejudged
    # a late report is judged on its own event, and the extract holds only the new events
    # of every type: late reports are added, never cleared, on this path; but the extract
    # holds every event of the batteries a correction touches, judged again in full
    new_ids = range(first_id, last_id + 1)
    late = [
        f
        for f in found
        if f.rule == "late_report"
        and f.battery in touched
        and (f.battery in rejudged or all(e in new_ids for e in f.evidence))
    ]
    others = [f for f in found if f.rule != "late_report" and f.battery in touched]
    return others, late, touched, rejudged


def reconcile_scoped_slices(
    store: Any,
    found: tuple[list[Finding], list[Finding], frozenset[str], frozenset[str]],
    rules: Sequence[str],
    *,
    batteries: int,
    pause: float = 0.0,
) -> dict[str, int]:
    """:func:`reconcile_scoped` for what :func:`scoped_findings` found, ``batteries`` batteries
    per transaction, sleeping ``pause`` seconds between two. A battery's alerts depend on its
    own findings alone, so each slice is reconciled whole; other writers (a server's
    reports) wait for one slice at most, and get the lock during the pause."""
    others, late, touched, rejudged = found
    counts: dict[str, int] = {}
    codes = sorted(touched | rejudged)
    for start in range(0, len(codes), batteries):
        if start and pause:
            time.sleep(pause)
        part = frozenset(codes[start : start + batteries])
        done = reconcile_scoped(
            store,
            [f for f in others if f.battery in part],
            [f for f in late if f.battery in part],
            touched & part,
            rules,
            rejudged=rejudged & part,
        )
        for key, value in done.items():
            counts[key] = counts.get(key, 0) + value
    return counts


def reconcile_scoped(
    store: Any,
    others: list[Finding],
    late: list[Finding],
    touched: frozenset[str],
    rules: Sequence[str],
    *,
    writing: Callable[[], AbstractContextManager[Any]] | None = None,
    rejudged: frozenset[str] = frozenset(),
) -> dict[str, int]:
    """The writing half of :func:`update_alerts`: reconcile the alerts of the batteries in
    scope with what :func:`scoped_findings` found (the late reports of ``rejudged``
    batteries in full: those no longer found are cleared)."""
    from battrace.supervision.alerts import reconcile

    counts: dict[str, int] = {}
    per_battery = [r for r in rules if r != "late_report"]
    judged = "late_report" in rules
    added = [f for f in late if f.battery not in rejudged]
    again = [f for f in late if f.battery in rejudged]
    with writing() if writing is not None else nullcontext(store) as writer:
        for result in (
            reconcile(writer, others, rules=per_battery, batteries=touched),
            reconcile(writer, added, rules=["late_report"], batteries=touched, clear=False)
            if judged
            else None,
            reconcile(writer, again, rules=["late_report"], batteries=rejudged)
            if judged and rejudged
            else None,
        ):
            if result is not None:
                for key, value in result.to_dict().items():
                    counts[key] = counts.get(key, 0) + int(value)
    return counts
