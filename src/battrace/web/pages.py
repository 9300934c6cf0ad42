"""What each page shows, gathered from the platform's services (no HTTP here).

Every function takes the store, the :class:`~battrace.domain.access.Caller` and what the page
asks for, applies the platform's own authorisation functions first
(:mod:`battrace.services.access`, :mod:`battrace.supervision.alerts`,
:func:`battrace.api.figure_routes.figure_scope`) and returns plain data for a template.
They raise the platform's errors (``PermissionDenied``, ``NotFoundError``,
``ValidationError``...), which the routes turn into pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from battrace.api.figure_routes import figure_scope
from battrace.codes import parse_battery_code, validate_division_code, validate_vin
from battrace.codes.division import PROVINCES
from battrace.domain.access import Caller, may_read_battery
from battrace.domain.entities import Enterprise
from battrace.errors import BattraceError, NotFoundError, ValidationError
from battrace.services.access import (
    battery_facts,
    check_read_battery,
    check_read_enterprise,
    enterprise_scope,
    may_read_event,
    require_caller,
)
from battrace.services.enterprises import enterprise_page
from battrace.services.queries import battery_view, public_passport
from battrace.store.base import Store
from battrace.store.rows import EventRow
from battrace.supervision import alerts as alert_service
from battrace.supervision import figures as figures_module
from battrace.supervision.config import RULE_SEVERITY
from battrace.web.figcache import FigureResult
from battrace.web.proofs import CheckpointView, ProofCheck, check_event, latest_checkpoint

FigureSource = Callable[..., FigureResult]
"""``source(kind, **filters)``: a figure from the dashboard's cache."""

#: the categories of the overview's cards, in order (from the ``provinces`` figure)
CARDS: Final = ("total", "in_service", "retired", "collected", "second_life", "recycled")
#: every category of the ``provinces`` figure, for the chart and the tables
CATEGORIES: Final = (
    "in_stock",
    "in_service",
    "retired",
    "collected",
    "second_life",
    "repurposed",
    "recycled",
)
#: the Sankey's nodes and the supervision rules (for the alerts filter), as defined there
FLOW_NODES: Final = figures_module.FLOW_NODES
RULES: Final = tuple(RULE_SEVERITY)
MAP_METRICS: Final = ("retired", "collected", "collection_rate", "alerts", "total")
ALERT_PAGE: Final = 50
ENTERPRISE_PAGE: Final = 50
#: event types after which the actor holds a battery the event lists (custody chain)
CUSTODY_TAKERS: Final = frozenset(
    {
        "produced",
        "received",
        "collected",
        "vehicle_scrapped",
        "removed",
        "replaced",
        "swapped",
        "dismantled",
    }
)
OWNER: Final = "owner"  # the custodian after a vehicle is sold: its private owner


class Names:
    """Enterprise names by credit code, read once per page."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._found: dict[str, Enterprise | None] = {}

    def enterprise(self, enterprise_id: str | None) -> Enterprise | None:
        if enterprise_id is None:
            return None
        if enterprise_id not in self._found:
            self._found[enterprise_id] = self._store.enterprise(enterprise_id)
        return self._found[enterprise_id]

    def __call__(self, enterprise_id: str | None) -> str:
        found = self.enterprise(enterprise_id)
        if found is not None:
            return found.name
        return enterprise_id or ""


def province_code(text: str, field: str = "province") -> str:
    """The 6-digit province code of ``text`` (``44``, ``440000`` or any division in it)."""
    value = text.strip()
    if len(value) == 2 and value.isdigit():
        value += "0000"
    return validate_division_code(value, field=field).province_code


def place_name(place: str | None, lang: str) -> str:
    """A division code as a name: the city (Chinese) or the province (both languages)."""
    if not place:
        return ""
    try:
        division = validate_division_code(place, field="place")
    except BattraceError:
        return place
    if lang == "zh":
        if division.name_zh and division.name_zh not in ("市辖区", "县"):
            if division.level == "province":
                return division.province_name_zh
            return f"{division.province_name_zh}{division.name_zh}"
        return division.province_name_zh
    return division.province_name_en


def province_name(code: str | None, lang: str) -> str:
    if not code:
        return ""
    found = PROVINCES.get(code[:2])
    if found is None:
        return code
    return found.name_zh if lang == "zh" else found.name_en


# -- overview, province, map, flows ---------------------------------------------------------
@dataclass
class Overview:
    """The national or a province's overview."""

    province: str | None  # 6 digits, or None for the nation
    totals: dict[str, Any]
    collection_rate: float | None
    retired_packs: int
    compliant_packs: int
    open_alerts: dict[str, int]
    alerts_by_status: dict[str, int]
    trend: list[dict[str, Any]]
    provinces: list[dict[str, Any]] = field(default_factory=list)
    makers: list[dict[str, Any]] = field(default_factory=list)
    results: list[FigureResult] = field(default_factory=list)


def regulator_scope(caller: Caller, kind: str, province: str | None) -> str | None:
    """The 2-digit province ``caller`` sees figure ``kind`` of (None: the nation), by
    :func:`~battrace.api.figure_routes.figure_scope` (raises ``PermissionDenied``)."""
    scoped, _ = figure_scope(caller, kind, province, None)
    return scoped


def _province_row(rows: list[dict[str, Any]], province: str | None) -> dict[str, Any]:
    wanted = province if province is not None else "total"
    for row in rows:
        if row["province"] == wanted:
            return row
    # a province without batteries has no row: zero batteries and zero tonnes of each category
    return {key: 0 for name in (*CATEGORIES, "total") for key in (name, f"{name}_t")}


def overview(store: Store, caller: Caller, figures: FigureSource, province: str | None) -> Overview:
    """The overview of ``province`` (6 digits) or of the nation (None)."""
    scoped = regulator_scope(caller, "provinces", province)
    if province is None and scoped is not None:
        province = scoped + "0000"
    by_province = figures("provinces")
    collection = figures("collection")
    trend = figures("trend", province=province[:2] if province else None)
    makers = [r for r in collection.rows if province is None or r.get("province") == province]
    retired = sum(int(r["retired"]) for r in makers)
    compliant = sum(int(r["compliant"]) for r in makers)
    counts = alert_service.count_alerts(
        store, group_by="severity", status=alert_service.OPEN, province=province
    )
    statuses = alert_service.count_alerts(store, group_by="status", province=province)
    rows = by_province.rows
    return Overview(
        province=province,
        totals=_province_row(rows, province),
        collection_rate=compliant / retired if retired else None,
        retired_packs=retired,
        compliant_packs=compliant,
        open_alerts=counts,
        alerts_by_status=statuses,
        trend=trend.rows,
        provinces=[r for r in rows if province is None and r["province"][:2] in PROVINCES],
        makers=sorted(makers, key=lambda r: (-int(r["retired"]), r["maker"])),
        results=[by_province, collection, trend],
    )


@dataclass
class MapData:
    metric: str
    values: dict[str, float | None]
    shown: dict[str, str]
    linked: set[str]
    low: float
    high: float
    results: list[FigureResult]


def map_data(
    store: Store,
    caller: Caller,
    figures: FigureSource,
    metric: str,
    fmt: Callable[[str, float | None], str],
) -> MapData:
    """Per province, the value of ``metric`` (one of :data:`MAP_METRICS`); a provincial
    regulator gets its own province only. ``fmt(metric, value)`` formats a value."""
    if metric not in MAP_METRICS:
        raise ValidationError(
            f"metric: must be one of {', '.join(MAP_METRICS)}", field="metric", rule="enum"
        )
    scoped = regulator_scope(caller, "provinces", None)
    own = scoped + "0000" if scoped is not None else None
    by_province = figures("provinces")
    results = [by_province]
    values: dict[str, float | None] = {}
    if metric in ("retired", "collected", "total"):
        for row in by_province.rows:
            values[row["province"]] = float(row[metric])
    elif metric == "collection_rate":
        collection = figures("collection")
        results.append(collection)
        sums: dict[str, list[int]] = {}
        for row in collection.rows:
            if row.get("province"):
                pair = sums.setdefault(row["province"], [0, 0])
                pair[0] += int(row["compliant"])
                pair[1] += int(row["retired"])
        values = {p: (c / r if r else None) for p, (c, r) in sums.items()}
    else:
        counts = alert_service.count_alerts(
            store, group_by="province", status=alert_service.OPEN, province=own
        )
        values = {code2 + "0000": 0.0 for code2 in PROVINCES}  # no open alert: 0, not "no data"
        values.update({p: float(n) for p, n in counts.items() if p != "none"})
    values = {p: v for p, v in values.items() if p[:2] in PROVINCES and (own is None or p == own)}
    present = [v for v in values.values() if v is not None]
    return MapData(
        metric=metric,
        values=values,
        shown={p: fmt(metric, v) for p, v in values.items()},
        linked={own} if own is not None else {p[:2] + "0000" for p in PROVINCES},
        low=min(present) if present else 0.0,
        high=max(present) if present else 0.0,
        results=results,
    )


@dataclass
class FlowFilters:
    province: str | None = None  # 6 digits
    chemistry: str | None = None
    year: int | None = None
    year_to: int | None = None


def _year(text: str | None, name: str) -> int | None:
    if text is None or not text.strip():
        return None
    value = text.strip()
    if not value.isdigit() or len(value) != 4:
        raise ValidationError(f"{name}: a year such as 2020", field=name, rule="int_type")
    return int(value)


def flow_filters(params: dict[str, str]) -> FlowFilters:
    """The flows page's filters from its query, checked (``ValidationError`` names them)."""
    from battrace.domain.events import Chemistry

    chemistry = params.get("chemistry") or None
    if chemistry is not None and chemistry not in {c.value for c in Chemistry}:
        raise ValidationError(
            f"chemistry: must be one of {', '.join(c.value for c in Chemistry)}",
            field="chemistry",
            rule="enum",
        )
    province = params.get("province") or None
    return FlowFilters(
        province=province_code(province) if province else None,
        chemistry=chemistry,
        year=_year(params.get("year"), "year"),
        year_to=_year(params.get("year_to"), "year_to"),
    )


def flows(caller: Caller, figures: FigureSource, filters: FlowFilters) -> FigureResult:
    """The ``flows`` figure with ``filters``, in the caller's jurisdiction."""
    scoped = regulator_scope(caller, "flows", filters.province)
    if scoped is not None:
        filters.province = scoped + "0000"
    return figures(
        "flows",
        province=scoped,
        chemistry=filters.chemistry,
        year=filters.year,
        year_to=filters.year_to,
    )


# -- alerts -----------------------------------------------------------------------------------
@dataclass
class AlertFilters:
    rule: str | None = None
    status: str | None = None
    severity: str | None = None
    province: str | None = None
    enterprise: str | None = None
    battery: str | None = None
    after: str | None = None

    def query(self, **changes: str | None) -> dict[str, str]:
        values = {
            "rule": self.rule,
            "status": self.status,
            "severity": self.severity,
            "province": self.province,
            "enterprise": self.enterprise,
            "battery": self.battery,
            "after": self.after,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v}


def alert_filters(params: dict[str, str]) -> AlertFilters:
    def get(name: str) -> str | None:
        value = params.get(name, "").strip()
        return value or None

    return AlertFilters(
        rule=get("rule"),
        status=get("status"),
        severity=get("severity"),
        province=get("province"),
        enterprise=get("enterprise"),
        battery=get("battery"),
        after=get("after"),
    )


@dataclass
class AlertList:
    items: list[alert_service.Alert]
    next: str | None
    rules: list[str]
    filters: AlertFilters
    may_filter_province: bool


def alert_list(store: Store, caller: Caller, filters: AlertFilters) -> AlertList:
    """A page of the alerts ``caller`` may see (``alert_scope``) matching ``filters``."""
    enterprise, province = alert_service.alert_scope(caller, filters.enterprise, filters.province)
    items = alert_service.list_alerts(
        store,
        rule=filters.rule,
        status=filters.status,
        severity=filters.severity,
        battery=filters.battery,
        enterprise=enterprise,
        province=province,
        limit=ALERT_PAGE,
        after=filters.after,
    )
    rules = list(RULES)
    if filters.rule is not None and filters.rule not in rules:
        rules.append(filters.rule)
    return AlertList(
        items=items,
        next=items[-1].id if len(items) == ALERT_PAGE else None,
        rules=rules,
        filters=filters,
        may_filter_province=caller.is_national,
    )


@dataclass
class Evidence:
    id: int
    event: EventRow | None  # None: not visible to the caller (or gone)
    visible: bool


@dataclass
class AlertDetail:
    alert: alert_service.Alert
    history: list[alert_service.AlertChange]
    evidence: list[Evidence]
    may_act: bool


def alert_detail(store: Store, caller: Caller, alert_id: str) -> AlertDetail:
    """An alert ``caller`` may read, its history and the evidence events it may read."""
    _check_alert_id(alert_id)
    alert = alert_service.check_read_alert(store, caller, alert_id)
    evidence = []
    for event_id in alert.evidence:
        row = store.event(event_id)
        visible = row is not None and may_read_event(store, caller, row)
        evidence.append(Evidence(event_id, row if visible else None, visible))
    return AlertDetail(
        alert=alert,
        history=alert_service.alert_history(store, alert.id),
        evidence=evidence,
        may_act=alert_service.may_act_on_alert(caller, alert),
    )


def _check_alert_id(alert_id: str) -> None:
    if len(alert_id) != 16 or not all(c in "0123456789abcdef" for c in alert_id):
        raise ValidationError(
            "alert_id: an alert id is 16 lower-case hex digits", field="alert_id", rule="format"
        )


def check_alert_action(store: Store, caller: Caller, alert_id: str) -> alert_service.Alert:
    """The alert, if ``caller`` may act on it (``check_act_on_alert``)."""
    _check_alert_id(alert_id)
    return alert_service.check_act_on_alert(store, caller, alert_id)


# -- enterprises ------------------------------------------------------------------------------
@dataclass
class EnterpriseDetail:
    enterprise: Enterprise
    whitelist: list[Any]
    collection: dict[str, Any] | None
    timeliness: dict[str, Any] | None
    recovery: dict[str, Any] | None
    alerts: list[alert_service.Alert]
    open_alerts: int
    results: list[FigureResult]


_FIGURE_KEYS: Final = {"collection": "maker", "timeliness": "enterprise", "recovery": "recycler"}


def enterprise_detail(
    store: Store, caller: Caller, figures: FigureSource, enterprise_id: str
) -> EnterpriseDetail:
    """An enterprise ``caller`` may read, with its figures (rows of the national figures,
    as ``figure_scope`` allows) and the alerts about it that ``caller`` may see."""
    found = check_read_enterprise(store, caller, enterprise_id.strip().upper())
    rows: dict[str, dict[str, Any] | None] = {}
    results = []
    for kind, key in _FIGURE_KEYS.items():
        figure_scope(caller, kind, None, found.id)  # an enterprise: about itself only
        result = figures(kind)
        results.append(result)
        rows[kind] = next((r for r in result.rows if r.get(key) == found.id), None)
    enterprise, province = alert_service.alert_scope(caller, found.id, None)
    latest = alert_service.list_alerts(
        store, enterprise=enterprise, province=province, limit=alert_service.MAX_PAGE
    )
    open_count = sum(1 for a in latest if a.status == alert_service.OPEN)
    latest.sort(key=lambda a: a.last_seen, reverse=True)
    latest.sort(key=lambda a: a.status != alert_service.OPEN)  # stable: open ones first
    return EnterpriseDetail(
        enterprise=found,
        whitelist=store.whitelist_history(found.id),
        collection=rows["collection"],
        timeliness=rows["timeliness"],
        recovery=rows["recovery"],
        alerts=latest[:20],
        open_alerts=open_count,
        results=results,
    )


def enterprise_list(
    store: Store, caller: Caller, params: dict[str, str]
) -> tuple[list[dict[str, Any]], str | None, dict[str, str]]:
    """A page of the enterprises ``caller`` may list (``enterprise_scope``)."""
    role = params.get("role") or None
    wanted = params.get("province") or None
    after = params.get("after") or None
    province, only = enterprise_scope(caller, province_code(wanted) if wanted else None)
    page = enterprise_page(
        store, role=role, province=province, only=only, after=after, limit=ENTERPRISE_PAGE
    )
    used = {k: v for k, v in (("role", role), ("province", wanted)) if v}
    return page["items"], page["next"], used


# -- batteries --------------------------------------------------------------------------------
@dataclass
class SearchResult:
    """A search: a battery to open, or the batteries of a VIN the caller may read."""

    query: str
    code: str | None = None
    vin: str | None = None
    matches: list[str] = field(default_factory=list)


def search(store: Store, caller: Caller, query: str) -> SearchResult:
    """Find a battery by its code (GB/T 34014) or by the VIN of the vehicle it is in.

    Raises ``ValidationError`` (field ``q``) for text that is neither."""
    require_caller(caller)
    text = query.strip().upper().replace(" ", "")
    if len(text) == 17:
        vin = validate_vin(text, field="q")
        codes = batteries_of_vin(store, vin)
        readable = []
        for code in codes:
            state = store.battery(code)
            if state is not None and may_read_battery(caller, battery_facts(store, state)):
                readable.append(code)
        return SearchResult(query, vin=vin, matches=readable)
    code = parse_battery_code(text, field="q").text
    return SearchResult(query, code=code)


def batteries_of_vin(store: Store, vin: str) -> list[str]:
    """Codes of the batteries now bound to ``vin`` (the store's ``batteries_vin`` index; the
    store has no method for it, so it is read here as the supervision engine reads)."""
    rows = store._connection().query(
        "SELECT code FROM batteries WHERE vin = ? ORDER BY code LIMIT 50", (vin,)
    )
    return [str(r[0]) for r in rows]


@dataclass
class TimelineEntry:
    event: dict[str, Any]
    occurred_at: str
    place: str | None
    proof: ProofCheck
    listed: bool


@dataclass
class Custody:
    holder: str  # a credit code or OWNER
    since: str  # occurred_at of the event that gave it custody
    event: int


@dataclass
class BatteryDetail:
    battery: dict[str, Any]
    timeline: list[TimelineEntry]
    custody: list[Custody]
    checkpoint: CheckpointView
    composition: list[tuple[str, str]]
    passport: dict[str, Any]


def custody_chain(code: str, history: Iterable[dict[str, Any]]) -> list[Custody]:
    """Who held the battery, in order: the actor of each event that hands it over
    (:data:`CUSTODY_TAKERS`, when the event lists the battery) and the private owner after
    a vehicle sale; consecutive repeats are merged."""
    chain: list[Custody] = []
    for event in history:
        if code not in event["batteries"]:
            continue
        kind = event["type"]
        if kind == "vehicle_sold":
            holder = OWNER
        elif kind in CUSTODY_TAKERS:
            holder = event["actor"]
        else:
            continue
        if chain and chain[-1].holder == holder:
            continue
        effective = event.get("effective", {})
        chain.append(
            Custody(holder, effective.get("occurred_at", event["occurred_at"]), event["id"])
        )
    return chain


def battery_detail(store: Store, caller: Caller, code: str, key_file: str | None) -> BatteryDetail:
    """A battery ``caller`` may read in full: state, history with each event's inclusion
    proof checked against the latest signed checkpoint, custody chain, composition, links."""
    state = check_read_battery(store, caller, code)
    view = battery_view(store, state.code)
    rows = {row.id: row for row in store.history(state.code)}
    checkpoint = latest_checkpoint(store, key_file)
    timeline = []
    for event in view["history"]:
        row = rows.get(event["id"])
        proof = check_event(store, checkpoint, row) if row is not None else ProofCheck("failed")
        effective = event.get("effective", {})
        timeline.append(
            TimelineEntry(
                event=event,
                occurred_at=effective.get("occurred_at", event["occurred_at"]),
                place=effective.get("place", event["place"]),
                proof=proof,
                listed=state.code in event["batteries"],
            )
        )
    composition = sorted(
        (str(k), str(v)) for k, v in (view["spec"].get("composition") or {}).items()
    )
    return BatteryDetail(
        battery=view,
        timeline=timeline,
        custody=custody_chain(state.code, view["history"]),
        checkpoint=checkpoint,
        composition=composition,
        passport=public_passport(store, state.code),
    )


def passport(store: Store, code: str) -> dict[str, Any]:
    """The public passport (anyone may read it); ``NotFoundError`` for an unknown code."""
    return public_passport(store, code)


__all__ = [
    "CARDS",
    "CATEGORIES",
    "FLOW_NODES",
    "MAP_METRICS",
    "OWNER",
    "RULES",
    "AlertDetail",
    "AlertFilters",
    "AlertList",
    "BatteryDetail",
    "EnterpriseDetail",
    "FlowFilters",
    "MapData",
    "Names",
    "NotFoundError",
    "Overview",
    "SearchResult",
    "alert_detail",
    "alert_filters",
    "alert_list",
    "battery_detail",
    "check_alert_action",
    "custody_chain",
    "enterprise_detail",
    "enterprise_list",
    "flow_filters",
    "flows",
    "map_data",
    "overview",
    "passport",
    "place_name",
    "province_code",
    "province_name",
    "search",
]
