"""The dashboard's two languages: message catalogues, the choice of language, local formats.

Every string a page shows goes through :class:`Text` (``t("key")`` in the templates, or
``t.label(group, value)`` for a stored value such as a state, a role or an event type); the
two catalogues :data:`MESSAGES` have the same keys (``tests/web`` checks it). Data stays as
stored: alert details, enterprise names and codes are shown as they are.

The language is the ``battrace_lang`` cookie (set by the switch, ``/ui/lang/zh`` or
``/ui/lang/en``), else the browser's ``Accept-Language``: Chinese when it prefers Chinese to
English, English when it prefers English or names neither, Chinese when it sends nothing.

Dates and times are shown in China Standard Time (UTC+08:00, as the supervision rules count
days): ``2024年3月1日`` / ``1 Mar 2024``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Final

LANGS: Final = ("zh", "en")
DEFAULT_LANG: Final = "zh"
LANG_COOKIE: Final = "battrace_lang"
CHINA_TIME: Final = timezone(timedelta(hours=8))
_MONTHS_EN: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def negotiate(accept_language: str | None) -> str:
    """The language of an ``Accept-Language`` header (see the module docstring)."""
    if accept_language is None or not accept_language.strip():
        return DEFAULT_LANG
    best, best_q = "en", 0.0
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if lang in LANGS and q > best_q:
            best, best_q = lang, q
    return best


def choose_lang(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's language if it is one of :data:`LANGS`, else the header's."""
    if cookie in LANGS:
        return str(cookie)
    return negotiate(accept_language)


def _moment(value: date | datetime | str) -> date | datetime:
    if isinstance(value, datetime | date):
        return value
    text = value.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _local(value: date | datetime | str) -> date | datetime:
    moment = _moment(value)
    if isinstance(moment, datetime):
        return moment.astimezone(CHINA_TIME)
    return moment


def format_date(value: date | datetime | str | None, lang: str) -> str:
    """``2024年3月1日`` or ``1 Mar 2024`` (a timestamp's day in China Standard Time)."""
    if value is None or value == "":
        return ""
    try:
        moment = _local(value)
    except ValueError:
        return str(value)
    day = moment.date() if isinstance(moment, datetime) else moment
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def format_datetime(value: date | datetime | str | None, lang: str) -> str:
    """The date as :func:`format_date` and the time ``HH:MM`` in China Standard Time."""
    if value is None or value == "":
        return ""
    try:
        moment = _local(value)
    except ValueError:
        return str(value)
    if not isinstance(moment, datetime):
        return format_date(moment, lang)
    return f"{format_date(moment, lang)} {moment:%H:%M}"


def format_time(value: datetime, lang: str) -> str:
    """``HH:MM`` in China Standard Time."""
    return f"{value.astimezone(CHINA_TIME):%H:%M}"


def format_month(month: str, lang: str) -> str:
    """``2024-03`` as ``2024年3月`` or ``Mar 2024``."""
    try:
        year, number = int(month[:4]), int(month[5:7])
    except ValueError:
        return month
    if not 1 <= number <= 12:
        return month
    if lang == "zh":
        return f"{year}年{number}月"
    return f"{_MONTHS_EN[number - 1]} {year}"


_Moment = date | datetime | str | None  # what the templates pass (aliased: Text has a .date)


@dataclass(frozen=True, slots=True)
class Text:
    """The messages of one language: ``t("key", name=value)`` formats a message."""

    lang: str

    def __call__(self, key: str, **params: Any) -> str:
        found = MESSAGES[self.lang].get(key)
        if found is None:
            found = MESSAGES["en"].get(key, key)
        return found.format(**params) if params else found

    def has(self, key: str) -> bool:
        return key in MESSAGES[self.lang]

    def label(self, group: str, value: Any) -> str:
        """The name of a stored value (``state``, ``role``, ``event``, ``severity``,
        ``status``, ``rule``, ``node``, ``chemistry``...); the value itself when unnamed."""
        if value is None:
            return ""
        key = f"{group}.{value}"
        return self(key) if key in MESSAGES[self.lang] else str(value)

    # local formats, for the templates
    def date(self, value: _Moment) -> str:
        return format_date(value, self.lang)

    def datetime(self, value: _Moment) -> str:
        return format_datetime(value, self.lang)

    def month(self, value: str) -> str:
        return format_month(value, self.lang)

    def num(self, value: float | int | None) -> str:
        if value is None:
            return "–"
        if isinstance(value, float) and not value.is_integer():
            return f"{value:,.1f}"
        return f"{int(value):,}"

    def tonnes(self, value: float | None) -> str:
        return self("unit.tonnes", value=f"{value or 0.0:,.1f}")

    def pct(self, value: float | None) -> str:
        return "–" if value is None else f"{value * 100:.1f}%"

    def yes_no(self, value: bool) -> str:
        return self("common.yes") if value else self("common.no")


__all__ = [
    "CHINA_TIME",
    "DEFAULT_LANG",
    "LANGS",
    "LANG_COOKIE",
    "MESSAGES",
    "Text",
    "choose_lang",
    "format_date",
    "format_datetime",
    "format_month",
    "format_time",
    "negotiate",
]


# -- the catalogues ---------------------------------------------------------------------------
_EN: Final[dict[str, str]] = {
    "app.name": "Battery Traceability Supervision",
    # menu and header
    "nav.label": "Main menu",
    "nav.overview": "Overview",
    "nav.map": "Map",
    "nav.flows": "Flows",
    "nav.alerts": "Alerts",
    "nav.enterprises": "Enterprises",
    "nav.my_enterprise": "My enterprise",
    "nav.battery": "Battery search",
    "nav.login": "Log in",
    "nav.logout": "Log out",
    "lang.switch": "Language",
    "lang.zh": "中文",
    "lang.en": "English",
    "who.anonymous": "not logged in",
    "who.enterprise": "enterprise",
    "who.provincial_regulator": "provincial regulator",
    "who.national_regulator": "national regulator",
    "footer.figures_as_of": "Figures as of {time} (China time; recomputed at most every {ttl} s)",
    "footer.note": "Alerts, batteries and events are read live from the platform.",
    # login
    "login.title": "Log in",
    "login.token": "Enterprise API token",
    "login.help": (
        "Paste the API token issued to your enterprise (battrace token create). It is kept"
        " in a cookie for this browser session only and sent to this site alone."
    ),
    "login.submit": "Log in",
    "login.empty": "Enter a token.",
    "login.refused": "This token is unknown, expired or revoked.",
    "login.expired": "Your token is no longer valid; log in again.",
    # errors
    "error.unauthenticated": "Please log in",
    "error.forbidden": "Access denied",
    "error.not_found": "Not found",
    "error.conflict": "Not possible now",
    "error.invalid": "Invalid input",
    "error.unavailable": "Service unavailable",
    "error.internal": "Something went wrong",
    "error.401.text": "This page needs an enterprise token.",
    "error.403.text": "Your enterprise's role does not allow you to see or do this.",
    "error.404.text": "Nothing is registered under this name.",
    "error.409.text": "The record is not in a state that allows this.",
    "error.422.text": "The value given is not valid.",
    "error.503.text": "The database cannot be reached; try again shortly.",
    "error.field": "Field",
    "error.rule": "Rule",
    "error.detail": "Detail",
    "error.back": "Back to the start page",
    # passport
    "passport.title": "Battery passport",
    "passport.public_only": "These are the public passport fields. Log in to see more.",
    # overview
    "overview.title_national": "National overview",
    "overview.title_province": "Overview: {province}",
    "overview.figures": "Key figures",
    "overview.flows_here": "Flows in this province",
    "overview.alerts_here": "Alerts in this province",
    "overview.enterprises_here": "Enterprises in this province",
    "overview.collection_rate": "Collection rate",
    "overview.rate_detail": "{compliant} of {retired} retired packs",
    "overview.packs_note": "Counts are battery packs by their current state and place.",
    "overview.rate_note": (
        "Collection rate: retired packs of the vehicle makers seated here that reached a"
        " whitelisted treating firm."
    ),
    "overview.by_state": "Batteries by state",
    "overview.open_alerts": "Open alerts by severity",
    "overview.open": "Open",
    "overview.trend": "Events by month",
    "overview.provinces": "Provinces",
    "overview.makers": "Collection by vehicle maker",
    "card.total": "Registered",
    "card.in_service": "In service",
    "card.retired": "Retired",
    "card.collected": "Collected",
    "card.second_life": "Second life",
    "card.recycled": "Recycled",
    "category.in_stock": "In stock",
    "category.in_service": "In service",
    "category.retired": "Retired",
    "category.collected": "Collected",
    "category.second_life": "Second life",
    "category.repurposed": "Repurposed",
    "category.recycled": "Recycled",
    "trend.produced": "Produced",
    "trend.installed": "Installed",
    "trend.retired": "Retired",
    "trend.collected": "Collected",
    "trend.repurposed": "Repurposed",
    "trend.recycled": "Recycled",
    "col.vehicle_maker": "Vehicle maker",
    "col.packs": "Packs",
    "col.retired": "Retired",
    "col.compliant": "Reached a compliant channel",
    "col.retired_t": "Retired (t)",
    "unit.tonnes": "{value} t",
    "unit.packs": "packs",
    "unit.alerts": "alerts",
    "unit.events": "events",
    "unit.kg": "{value} kg",
    "unit.kwh": "{value} kWh",
    "unit.working_days": "{value} working days",
    # map
    "map.title": "Map of provinces",
    "map.metric": "Colour by",
    "map.help": (
        "Each square is a province, placed roughly where it lies (a schematic, not borders)."
        " Click one to open its overview."
    ),
    "map.legend": "Legend",
    "map.table": "Values by province",
    "metric.retired": "Retired packs",
    "metric.collected": "Collected packs",
    "metric.collection_rate": "Collection rate",
    "metric.alerts": "Open alerts",
    "metric.total": "Registered packs",
    # flows
    "flows.title": "Where batteries go",
    "flows.year_from": "Produced from",
    "flows.year_to": "Produced until",
    "flows.help": (
        "First-life packs from production to vehicles, retirement, the collection channel,"
        " the treating firm and the end of life. Filters: the pack's current province, its"
        " chemistry and its production years."
    ),
    "flows.links": "Flows",
    "flows.from": "From",
    "flows.to": "To",
    "node.maker": "Produced",
    "node.vehicle": "In vehicles",
    "node.retired": "Retired",
    "node.outlet": "Collection outlet",
    "node.vehicle_maker": "Vehicle maker",
    "node.direct": "Direct to a treating firm",
    "node.echelon_firm": "Echelon firm",
    "node.recycler": "Recycler",
    "node.repurposed": "Repurposed",
    "node.recycled": "Recycled",
    "node.disposed": "Disposed",
    # alerts
    "alerts.title": "Alerts",
    "alerts.none": "No alert matches.",
    "alerts.back": "Back to the alerts",
    "alert.title": "Alert",
    "alert.id": "Alert",
    "alert.rule": "Rule",
    "alert.severity": "Severity",
    "alert.status": "Status",
    "alert.subject": "Subject",
    "alert.detail": "Detail",
    "alert.battery": "Battery",
    "alert.enterprise": "Enterprise",
    "alert.day": "Day",
    "alert.first_seen": "First found",
    "alert.last_seen": "Last found",
    "alert.comment": "Comment",
    "alert.evidence": "Evidence events",
    "alert.evidence_hidden": "not visible to you",
    "alert.no_evidence": "This alert names no event.",
    "alert.history": "History",
    "alert.by": "By",
    "alert.system": "the system",
    "alert.action.acknowledge": "Acknowledge",
    "alert.action.resolve": "Resolve",
    "alert.done.acknowledge": "The alert is acknowledged.",
    "alert.done.resolve": "The alert is resolved.",
    "alert.comment_invalid": "The comment must be 1 to 2000 characters of text.",
    "alert.not_allowed_now": "The alert's status does not allow this now.",
    "severity.critical": "Critical",
    "severity.high": "High",
    "severity.medium": "Medium",
    "severity.low": "Low",
    "status.open": "Open",
    "status.acknowledged": "Acknowledged",
    "status.resolved": "Resolved",
    "rule.late_report": "Late report",
    "rule.retired_not_collected": "Retired, not collected",
    "rule.shipment_not_received": "Shipment not received",
    "rule.not_forwarded": "Not passed on",
    "rule.vanished": "Whereabouts unknown",
    "rule.off_whitelist_flow": "Flow to a firm off the whitelist",
    "rule.mass_balance": "Mass balance",
    "rule.low_recovery": "Low material recovery",
    "rule.low_reuse_share": "Low second-life share",
    "rule.reused_code": "Code used twice",
    "rule.unknown_code": "Unknown code",
    "rule.event_after_end": "Event after end of life",
    "rule.vin_two_packs": "Two packs in one vehicle",
    "rule.scrapped_without_battery": "Vehicle scrapped without its battery",
    # enterprises
    "enterprises.title": "Enterprises",
    "enterprise.name": "Name",
    "enterprise.roles": "Roles",
    "enterprise.seat": "Seat",
    "enterprise.manufacturer_code": "Manufacturer code",
    "enterprise.registered": "Registered",
    "enterprise.whitelisted": "On the whitelist today",
    "enterprise.whitelist_history": "Whitelist history",
    "enterprise.effective": "From",
    "enterprise.change": "Change",
    "enterprise.batch": "Batch",
    "enterprise.note": "Note",
    "enterprise.recorded": "Recorded",
    "enterprise.listed": "listed",
    "enterprise.delisted": "delisted",
    "enterprise.never_listed": "Never on the whitelist.",
    "enterprise.compliance": "Compliance figures",
    "enterprise.collection": "Collection of its retired packs",
    "enterprise.recovery": "Material recovery",
    "enterprise.recycled_events": "Recycling reports",
    "enterprise.units": "Units recycled",
    "enterprise.input": "Input",
    "enterprise.material": "Material",
    "enterprise.content_kg": "Content (kg)",
    "enterprise.output_kg": "Recovered (kg)",
    "enterprise.recovery_rate": "Recovery rate",
    "enterprise.timeliness": "Reporting timeliness",
    "enterprise.events_due": "Reports with a deadline",
    "enterprise.on_time_share": "On time",
    "enterprise.median_delay": "Median delay",
    "enterprise.p90_delay": "90th percentile delay",
    "enterprise.alerts": "Its alerts",
    "enterprise.open_alerts": "Open alerts: {count}.",
    "enterprise.all_alerts": "All its alerts",
    "timeliness.on_time": "On time",
    "timeliness.late": "Late",
    "role.battery_maker": "Battery maker",
    "role.vehicle_maker": "Vehicle maker",
    "role.importer": "Importer",
    "role.dealer": "Dealer",
    "role.repairer": "Repairer",
    "role.swap_operator": "Battery swap operator",
    "role.collection_outlet": "Collection outlet",
    "role.dismantler": "Vehicle dismantler",
    "role.echelon_firm": "Echelon (second-life) firm",
    "role.recycler": "Recycler",
    "role.regulator": "Regulator",
    # search
    "search.title": "Find a battery",
    "search.label": "Battery code or VIN",
    "search.placeholder": "Battery code or VIN",
    "search.go": "Search",
    "search.help": (
        "A GB/T 34014 battery code (24 characters, 19 for a second-life code) or the 17"
        " characters of the VIN of the vehicle the battery is in now."
    ),
    "search.invalid": "Field {field}: this is neither a valid battery code nor a valid VIN.",
    "search.vin_matches": "Batteries in vehicle {vin}",
    "search.none": "No battery you may see is in vehicle {vin}.",
    # battery
    "battery.title": "Battery",
    "battery.code": "Battery code",
    "battery.level": "Level",
    "battery.chemistry": "Chemistry",
    "battery.maker": "Maker",
    "battery.state": "State",
    "battery.second_life": "Second-life product",
    "battery.qr": "QR code of its passport link",
    "battery.summary": "State",
    "battery.holder": "Held by",
    "battery.private_owner": "the vehicle's private owner",
    "battery.pending_to": "Shipped to (not yet received)",
    "battery.place": "Place",
    "battery.vin": "VIN",
    "battery.soh": "State of health",
    "battery.mass": "Mass",
    "battery.energy": "Energy",
    "battery.composition": "Composition",
    "battery.parent": "Assembled into",
    "battery.children": "Made of",
    "battery.kg": "kg",
    "battery.second_life_links": "Second-life links",
    "battery.made_from": "Made from",
    "battery.became": "Became",
    "battery.no_links": "None.",
    "battery.custody": "Custody chain",
    "battery.history": "History",
    "battery.named_only": "named in the event's details",
    "battery.corrected_by": "Corrected by event {ids}",
    "battery.corrects": "Corrects event {id}",
    "battery.reported_at": "Reported {time}",
    "proof.no_checkpoint": "No checkpoint has been published yet.",
    "proof.checkpoint": (
        "Each event's inclusion proof is checked against the latest signed checkpoint"
        " ({size} events, published {time})."
    ),
    "proof.checkpoint_invalid": "The latest checkpoint's signature does not verify.",
    "proof.verified": "in the signed log",
    "proof.pending": "after the latest checkpoint",
    "proof.failed": "proof does not verify",
    "level.pack": "Pack",
    "level.module": "Module",
    "level.cell": "Cell",
    "chemistry.LFP": "LFP (lithium iron phosphate)",
    "chemistry.NCM": "NCM (nickel cobalt manganese)",
    "chemistry.NCA": "NCA (nickel cobalt aluminium)",
    "chemistry.LMO": "LMO (lithium manganese oxide)",
    "chemistry.LCO": "LCO (lithium cobalt oxide)",
    "chemistry.LTO": "LTO (lithium titanate)",
    "chemistry.NiMH": "NiMH (nickel metal hydride)",
    "chemistry.sodium_ion": "Sodium-ion",
    "chemistry.supercapacitor": "Supercapacitor",
    "chemistry.other": "Other",
    "state.in_stock": "In stock",
    "state.assembled": "Assembled",
    "state.installed": "Installed",
    "state.in_use": "In use",
    "state.in_scrapped_vehicle": "In a scrapped vehicle",
    "state.retired": "Retired",
    "state.collected": "Collected",
    "state.dismantled": "Dismantled",
    "state.repurposed": "Repurposed",
    "state.recycled": "Recycled",
    "state.disposed": "Disposed",
    "event.produced": "Produced",
    "event.assembled": "Assembled",
    "event.shipped": "Shipped",
    "event.received": "Received",
    "event.installed": "Installed",
    "event.vehicle_sold": "Vehicle sold",
    "event.repaired": "Repaired",
    "event.replaced": "Replaced",
    "event.swapped": "Swapped",
    "event.vehicle_scrapped": "Vehicle scrapped",
    "event.removed": "Removed",
    "event.collected": "Collected",
    "event.tested": "Tested",
    "event.repurposed": "Repurposed",
    "event.dismantled": "Dismantled",
    "event.recycled": "Recycled",
    "event.disposed": "Disposed",
    "event.correction": "Correction",
    "material.li": "Lithium",
    "material.ni": "Nickel",
    "material.co": "Cobalt",
    "material.mn": "Manganese",
    "material.cu": "Copper",
    "material.al": "Aluminium",
    "material.fe": "Iron",
    "material.p": "Phosphorus",
    "material.graphite": "Graphite",
    "material.other": "Other",
    # common words
    "common.yes": "yes",
    "common.no": "no",
    "common.no_data": "No data.",
    "common.province": "Province",
    "common.all_provinces": "All provinces",
    "common.any": "Any",
    "common.apply": "Apply",
    "common.back": "Back",
    "common.credit_code": "Credit code",
    "common.next_page": "Next page",
    "common.required": "required",
    "common.when": "When",
    "common.and_more": "and {count} more",
}

_ZH: Final[dict[str, str]] = {
    "app.name": "动力电池溯源监管平台",
    "nav.label": "主菜单",
    "nav.overview": "总览",
    "nav.map": "地图",
    "nav.flows": "流向",
    "nav.alerts": "预警",
    "nav.enterprises": "企业",
    "nav.my_enterprise": "本企业",
    "nav.battery": "电池查询",
    "nav.login": "登录",
    "nav.logout": "退出登录",
    "lang.switch": "语言",
    "lang.zh": "中文",
    "lang.en": "English",
    "who.anonymous": "未登录",
    "who.enterprise": "企业",
    "who.provincial_regulator": "省级监管部门",
    "who.national_regulator": "国家监管部门",
    "footer.figures_as_of": "统计数据截至 {time}（北京时间；至多每 {ttl} 秒重新计算）",
    "footer.note": "预警、电池和事件均实时读取自平台。",
    "login.title": "登录",
    "login.token": "企业 API 令牌",
    "login.help": (
        "请粘贴为贵企业签发的 API 令牌（battrace token create）。令牌仅在本次浏览器会话中"
        "保存于 Cookie，且只发送给本站。"
    ),
    "login.submit": "登录",
    "login.empty": "请输入令牌。",
    "login.refused": "令牌无效、已过期或已吊销。",
    "login.expired": "您的令牌已失效，请重新登录。",
    "error.unauthenticated": "请先登录",
    "error.forbidden": "无权访问",
    "error.not_found": "未找到",
    "error.conflict": "当前无法执行",
    "error.invalid": "输入有误",
    "error.unavailable": "服务暂不可用",
    "error.internal": "出现错误",
    "error.401.text": "此页面需要企业令牌。",
    "error.403.text": "贵企业的角色无权查看或执行此操作。",
    "error.404.text": "未登记此对象。",
    "error.409.text": "该记录当前状态不允许此操作。",
    "error.422.text": "所填写的值无效。",
    "error.503.text": "暂时无法连接数据库，请稍后再试。",
    "error.field": "字段",
    "error.rule": "规则",
    "error.detail": "详情",
    "error.back": "返回首页",
    "passport.title": "电池护照",
    "passport.public_only": "以下为电池护照的公开信息。登录后可查看更多。",
    "overview.title_national": "全国总览",
    "overview.title_province": "总览：{province}",
    "overview.figures": "主要指标",
    "overview.flows_here": "本省流向",
    "overview.alerts_here": "本省预警",
    "overview.enterprises_here": "本省企业",
    "overview.collection_rate": "回收率",
    "overview.rate_detail": "退役电池包 {retired} 个，其中 {compliant} 个进入合规渠道",
    "overview.packs_note": "按电池包当前状态和所在地统计。",
    "overview.rate_note": (
        "回收率：注册地在此的汽车生产企业的退役电池包中，交至白名单处理企业的比例。"
    ),
    "overview.by_state": "按状态的电池",
    "overview.open_alerts": "按严重程度的未处理预警",
    "overview.open": "未处理",
    "overview.trend": "月度事件",
    "overview.provinces": "各省份",
    "overview.makers": "汽车生产企业回收情况",
    "card.total": "已登记",
    "card.in_service": "在役",
    "card.retired": "退役",
    "card.collected": "已回收",
    "card.second_life": "梯次利用",
    "card.recycled": "再生利用",
    "category.in_stock": "库存",
    "category.in_service": "在役",
    "category.retired": "退役",
    "category.collected": "已回收",
    "category.second_life": "梯次利用",
    "category.repurposed": "已转梯次",
    "category.recycled": "再生利用",
    "trend.produced": "生产",
    "trend.installed": "装车",
    "trend.retired": "退役",
    "trend.collected": "回收",
    "trend.repurposed": "梯次利用",
    "trend.recycled": "再生利用",
    "col.vehicle_maker": "汽车生产企业",
    "col.packs": "电池包",
    "col.retired": "退役",
    "col.compliant": "进入合规渠道",
    "col.retired_t": "退役（吨）",
    "unit.tonnes": "{value} 吨",
    "unit.packs": "电池包（个）",
    "unit.alerts": "预警（条）",
    "unit.events": "事件（条）",
    "unit.kg": "{value} 千克",
    "unit.kwh": "{value} 千瓦时",
    "unit.working_days": "{value} 个工作日",
    "map.title": "省份地图",
    "map.metric": "着色指标",
    "map.help": (
        "每个方块代表一个省份，大致按地理位置排列（示意图，并非行政边界）。点击方块查看该省总览。"
    ),
    "map.legend": "图例",
    "map.table": "各省数值",
    "metric.retired": "退役电池包",
    "metric.collected": "已回收电池包",
    "metric.collection_rate": "回收率",
    "metric.alerts": "未处理预警",
    "metric.total": "已登记电池包",
    "flows.title": "电池流向",
    "flows.year_from": "生产年份自",
    "flows.year_to": "生产年份至",
    "flows.help": (
        "首次使用的电池包从生产、装车、退役、回收渠道、处理企业直至最终去向。筛选条件："
        "电池包当前所在省份、化学体系和生产年份。"
    ),
    "flows.links": "流向明细",
    "flows.from": "来源",
    "flows.to": "去向",
    "node.maker": "生产",
    "node.vehicle": "装车",
    "node.retired": "退役",
    "node.outlet": "回收服务网点",
    "node.vehicle_maker": "汽车生产企业",
    "node.direct": "直接交售处理企业",
    "node.echelon_firm": "梯次利用企业",
    "node.recycler": "再生利用企业",
    "node.repurposed": "梯次利用",
    "node.recycled": "再生利用",
    "node.disposed": "处置",
    "alerts.title": "预警",
    "alerts.none": "没有符合条件的预警。",
    "alerts.back": "返回预警列表",
    "alert.title": "预警",
    "alert.id": "预警编号",
    "alert.rule": "规则",
    "alert.severity": "严重程度",
    "alert.status": "状态",
    "alert.subject": "对象",
    "alert.detail": "说明",
    "alert.battery": "电池",
    "alert.enterprise": "企业",
    "alert.day": "日期",
    "alert.first_seen": "首次发现",
    "alert.last_seen": "最近发现",
    "alert.comment": "意见",
    "alert.evidence": "证据事件",
    "alert.evidence_hidden": "您无权查看",
    "alert.no_evidence": "该预警未关联事件。",
    "alert.history": "处理记录",
    "alert.by": "操作方",
    "alert.system": "系统",
    "alert.action.acknowledge": "确认",
    "alert.action.resolve": "办结",
    "alert.done.acknowledge": "预警已确认。",
    "alert.done.resolve": "预警已办结。",
    "alert.comment_invalid": "意见须为 1 至 2000 个字符的文字。",
    "alert.not_allowed_now": "该预警当前状态不允许此操作。",
    "severity.critical": "严重",
    "severity.high": "高",
    "severity.medium": "中",
    "severity.low": "低",
    "status.open": "未处理",
    "status.acknowledged": "已确认",
    "status.resolved": "已办结",
    "rule.late_report": "迟报",
    "rule.retired_not_collected": "退役未回收",
    "rule.shipment_not_received": "发货未接收",
    "rule.not_forwarded": "未按期移交",
    "rule.vanished": "去向不明",
    "rule.off_whitelist_flow": "流向白名单外企业",
    "rule.mass_balance": "质量不平衡",
    "rule.low_recovery": "材料回收率偏低",
    "rule.low_reuse_share": "梯次利用比例偏低",
    "rule.reused_code": "编码重复使用",
    "rule.unknown_code": "未知编码",
    "rule.event_after_end": "生命周期结束后仍有事件",
    "rule.vin_two_packs": "一车两包",
    "rule.scrapped_without_battery": "车辆报废但电池缺失",
    "enterprises.title": "企业",
    "enterprise.name": "名称",
    "enterprise.roles": "角色",
    "enterprise.seat": "注册地",
    "enterprise.manufacturer_code": "厂商代码",
    "enterprise.registered": "登记日期",
    "enterprise.whitelisted": "今日是否在白名单",
    "enterprise.whitelist_history": "白名单记录",
    "enterprise.effective": "生效日期",
    "enterprise.change": "变更",
    "enterprise.batch": "批次",
    "enterprise.note": "备注",
    "enterprise.recorded": "记录日期",
    "enterprise.listed": "列入",
    "enterprise.delisted": "移出",
    "enterprise.never_listed": "从未列入白名单。",
    "enterprise.compliance": "合规指标",
    "enterprise.collection": "退役电池包回收",
    "enterprise.recovery": "材料回收",
    "enterprise.recycled_events": "再生利用报告",
    "enterprise.units": "再生利用单元",
    "enterprise.input": "投入量",
    "enterprise.material": "材料",
    "enterprise.content_kg": "含量（千克）",
    "enterprise.output_kg": "回收量（千克）",
    "enterprise.recovery_rate": "回收率",
    "enterprise.timeliness": "报送及时性",
    "enterprise.events_due": "有时限的报送",
    "enterprise.on_time_share": "按时比例",
    "enterprise.median_delay": "延迟中位数",
    "enterprise.p90_delay": "延迟第 90 百分位",
    "enterprise.alerts": "相关预警",
    "enterprise.open_alerts": "未处理预警：{count} 条。",
    "enterprise.all_alerts": "全部相关预警",
    "timeliness.on_time": "按时",
    "timeliness.late": "迟报",
    "role.battery_maker": "电池生产企业",
    "role.vehicle_maker": "汽车生产企业",
    "role.importer": "进口商",
    "role.dealer": "销售商",
    "role.repairer": "维修企业",
    "role.swap_operator": "换电运营企业",
    "role.collection_outlet": "回收服务网点",
    "role.dismantler": "报废机动车回收拆解企业",
    "role.echelon_firm": "梯次利用企业",
    "role.recycler": "再生利用企业",
    "role.regulator": "监管部门",
    "search.title": "查询电池",
    "search.label": "电池编码或车辆识别代号",
    "search.placeholder": "电池编码或 VIN",
    "search.go": "查询",
    "search.help": (
        "GB/T 34014 电池编码（24 位，梯次利用产品为 19 位），"
        "或电池当前所在车辆的 17 位车辆识别代号（VIN）。"
    ),
    "search.invalid": "字段 {field}：既不是有效的电池编码，也不是有效的车辆识别代号。",
    "search.vin_matches": "车辆 {vin} 中的电池",
    "search.none": "车辆 {vin} 中没有您可查看的电池。",
    "battery.title": "电池",
    "battery.code": "电池编码",
    "battery.level": "层级",
    "battery.chemistry": "化学体系",
    "battery.maker": "生产企业",
    "battery.state": "状态",
    "battery.second_life": "梯次利用产品",
    "battery.qr": "电池护照链接二维码",
    "battery.summary": "当前状态",
    "battery.holder": "持有方",
    "battery.private_owner": "车辆个人车主",
    "battery.pending_to": "已发往（尚未接收）",
    "battery.place": "所在地",
    "battery.vin": "车辆识别代号",
    "battery.soh": "健康状态",
    "battery.mass": "质量",
    "battery.energy": "能量",
    "battery.composition": "组成",
    "battery.parent": "已组装入",
    "battery.children": "由以下单元组成",
    "battery.kg": "千克",
    "battery.second_life_links": "梯次利用关联",
    "battery.made_from": "来源于",
    "battery.became": "已转为",
    "battery.no_links": "无。",
    "battery.custody": "保管链",
    "battery.history": "履历",
    "battery.named_only": "在事件详情中提及",
    "battery.corrected_by": "已被事件 {ids} 更正",
    "battery.corrects": "更正事件 {id}",
    "battery.reported_at": "报送于 {time}",
    "proof.no_checkpoint": "尚未发布检查点。",
    "proof.checkpoint": (
        "每条事件的包含证明均已对照最新签名检查点核验（{size} 条事件，发布于 {time}）。"
    ),
    "proof.checkpoint_invalid": "最新检查点的签名核验未通过。",
    "proof.verified": "已记入签名日志",
    "proof.pending": "晚于最新检查点",
    "proof.failed": "证明核验未通过",
    "level.pack": "电池包",
    "level.module": "模组",
    "level.cell": "单体",
    "chemistry.LFP": "磷酸铁锂",
    "chemistry.NCM": "三元（镍钴锰）",
    "chemistry.NCA": "三元（镍钴铝）",
    "chemistry.LMO": "锰酸锂",
    "chemistry.LCO": "钴酸锂",
    "chemistry.LTO": "钛酸锂",
    "chemistry.NiMH": "镍氢",
    "chemistry.sodium_ion": "钠离子",
    "chemistry.supercapacitor": "超级电容",
    "chemistry.other": "其他",
    "state.in_stock": "库存",
    "state.assembled": "已组装",
    "state.installed": "已装车",
    "state.in_use": "使用中",
    "state.in_scrapped_vehicle": "在报废车辆中",
    "state.retired": "已退役",
    "state.collected": "已回收",
    "state.dismantled": "已拆解",
    "state.repurposed": "已梯次利用",
    "state.recycled": "已再生利用",
    "state.disposed": "已处置",
    "event.produced": "生产",
    "event.assembled": "组装",
    "event.shipped": "发货",
    "event.received": "接收",
    "event.installed": "装车",
    "event.vehicle_sold": "车辆销售",
    "event.repaired": "维修",
    "event.replaced": "更换",
    "event.swapped": "换电",
    "event.vehicle_scrapped": "车辆报废",
    "event.removed": "拆卸退役",
    "event.collected": "回收",
    "event.tested": "检测",
    "event.repurposed": "梯次利用",
    "event.dismantled": "拆解",
    "event.recycled": "再生利用",
    "event.disposed": "处置",
    "event.correction": "更正",
    "material.li": "锂",
    "material.ni": "镍",
    "material.co": "钴",
    "material.mn": "锰",
    "material.cu": "铜",
    "material.al": "铝",
    "material.fe": "铁",
    "material.p": "磷",
    "material.graphite": "石墨",
    "material.other": "其他",
    "common.yes": "是",
    "common.no": "否",
    "common.no_data": "暂无数据。",
    "common.province": "省份",
    "common.all_provinces": "全部省份",
    "common.any": "不限",
    "common.apply": "筛选",
    "common.back": "返回",
    "common.credit_code": "统一社会信用代码",
    "common.next_page": "下一页",
    "common.required": "必填",
    "common.when": "时间",
    "common.and_more": "等另外 {count} 个",
}

#: language -> message key -> text; both catalogues have the same keys
MESSAGES: Final[dict[str, dict[str, str]]] = {"en": _EN, "zh": _ZH}
