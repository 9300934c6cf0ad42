"""The two languages: catalogues with the same keys, every key used defined, the choice of
language from the browser and the switch, local date formats."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from battrace.domain.entities import State
from battrace.domain.events import Chemistry, EventType, Material
from battrace.domain.roles import Role
from battrace.supervision import figures as figure_service
from battrace.supervision.alerts import STATUSES
from battrace.supervision.findings import Severity
from battrace.supervision.rules import RULES
from battrace.web import charts, pages
from battrace.web.i18n import (
    MESSAGES,
    Text,
    choose_lang,
    format_date,
    format_datetime,
    format_month,
    negotiate,
)
from tests.web.conftest import WebWorld, login

WEB = Path(__file__).resolve().parents[2] / "src" / "battrace" / "web"
LITERAL_KEY = re.compile(r"""\bt\(\s*['"]([a-z0-9_]+\.[a-z0-9_.]+)['"]""")
PY_KEY = re.compile(r"""["']((?:login|error|unit|timeliness|who|nav)\.[a-z0-9_.]+)["']""")


def test_both_catalogues_have_the_same_keys() -> None:
    assert set(MESSAGES["zh"]) == set(MESSAGES["en"])
    for lang, messages in MESSAGES.items():
        for key, text in messages.items():
            assert text.strip(), (lang, key)
    # the same placeholders in both languages
    for key, text in MESSAGES["en"].items():
        assert set(re.findall(r"\{(\w+)\}", text)) == set(
            re.findall(r"\{(\w+)\}", MESSAGES["zh"][key])
        ), key


def test_every_key_the_pages_use_is_defined() -> None:
    used: set[str] = set()
    for template in (WEB / "templates").glob("*.html"):
        used |= set(LITERAL_KEY.findall(template.read_text(encoding="utf-8")))
    for module in WEB.glob("*.py"):
        text = module.read_text(encoding="utf-8")
        used |= set(LITERAL_KEY.findall(text))
        used |= {k for k in PY_KEY.findall(text) if not k.endswith(".html")}
    used = {k for k in used if not k.endswith(".")}  # prefixes of keys made in the page
    assert len(used) > 100
    missing = sorted(k for k in used if k not in MESSAGES["en"])
    assert missing == []


def _groups() -> dict[str, list[str]]:
    return {
        "state": [s.value for s in State],
        "role": [r.value for r in Role],
        "event": [e.value for e in EventType],
        "chemistry": [c.value for c in Chemistry],
        "material": [m.value for m in Material],
        "severity": [s.value for s in Severity],
        "status": list(STATUSES),
        "rule": list(RULES),
        "node": list(figure_service.FLOW_NODES),
        "category": list(figure_service.PROVINCE_CATEGORIES),
        "trend": list(figure_service.TREND_GROUPS),
        "card": list(pages.CARDS),
        "metric": list(pages.MAP_METRICS),
        "level": ["pack", "module", "cell"],
        "who": ["anonymous", "enterprise", "provincial_regulator", "national_regulator"],
        "lang": ["zh", "en"],
        "alert.action": ["acknowledge", "resolve"],
        "alert.done": ["acknowledge", "resolve"],
    }


@pytest.mark.parametrize("group", sorted(_groups()))
def test_every_stored_value_has_a_name(group: str) -> None:
    for value in _groups()[group]:
        assert f"{group}.{value}" in MESSAGES["en"], f"{group}.{value}"


def test_the_dashboard_knows_the_platforms_lists() -> None:
    assert pages.FLOW_NODES == figure_service.FLOW_NODES
    assert tuple(RULES) == pages.RULES
    assert charts.TREND_GROUPS == figure_service.TREND_GROUPS
    assert set(pages.CATEGORIES) == set(figure_service.PROVINCE_CATEGORIES)
    assert set(charts.SEVERITIES) == {s.value for s in Severity}


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "zh"),
        ("", "zh"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("zh-TW", "zh"),
        ("en-US,en;q=0.9", "en"),
        ("en-GB,zh;q=0.5", "en"),
        ("fr-FR,zh;q=0.7,en;q=0.3", "zh"),
        ("fr-FR,de;q=0.5", "en"),
        ("zh;q=0.2,en;q=0.8", "en"),
        ("en;q=bad,zh;q=0.1", "zh"),
        ("*", "en"),
    ],
)
def test_the_language_follows_accept_language(header: str | None, lang: str) -> None:
    assert negotiate(header) == lang


def test_the_cookie_wins_over_the_header() -> None:
    assert choose_lang("en", "zh-CN") == "en"
    assert choose_lang("zh", "en-US") == "zh"
    assert choose_lang("fr", "en-US") == "en"


def test_dates_in_local_formats() -> None:
    assert format_date(date(2024, 3, 1), "zh") == "2024年3月1日"
    assert format_date(date(2024, 3, 1), "en") == "1 Mar 2024"
    # a UTC timestamp is shown in China Standard Time: 20:30 UTC is 04:30 the next day
    assert format_datetime("2024-02-29T20:30:00.000000Z", "zh") == "2024年3月1日 04:30"
    assert format_datetime("2024-02-29T20:30:00.000000Z", "en") == "1 Mar 2024 04:30"
    assert format_date(datetime(2024, 12, 31, 12, 0), "en") == "31 Dec 2024"
    assert format_date("2025-05-15", "zh") == "2025年5月15日"
    assert format_month("2015-12", "zh") == "2015年12月"
    assert format_month("2015-12", "en") == "Dec 2015"
    assert format_date(None, "en") == ""
    assert format_date("not a date", "en") == "not a date"


def test_labels_fall_back_to_the_value() -> None:
    t = Text("zh")
    assert t.label("state", "recycled") == "已再生利用"
    assert t.label("state", "teleported") == "teleported"
    assert t("overview.rate_detail", compliant="1", retired="2").count("1") == 1
    assert Text("en").pct(0.5) == "50.0%"
    assert Text("en").num(1234567) == "1,234,567"


def test_a_chinese_browser_gets_chinese_pages(web_client: TestClient, web_world: WebWorld) -> None:
    login(web_client, web_world, "national")
    page = web_client.get("/ui/", headers={"accept-language": "zh-CN,zh;q=0.9"}).text
    assert '<html lang="zh-CN">' in page
    assert "全国总览" in page
    assert "统计数据截至" in page
    english = web_client.get("/ui/", headers={"accept-language": "en-US"}).text
    assert '<html lang="en">' in english
    assert "National overview" in english
    assert "全国总览" not in english


def test_the_switch_sets_the_language(web_client: TestClient, web_world: WebWorld) -> None:
    login(web_client, web_world, "national")
    switched = web_client.get(
        f"/ui/lang/en?next=/ui/battery/{web_world.battery}", follow_redirects=False
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == f"/ui/battery/{web_world.battery}"
    assert "battrace_lang=en" in switched.headers["set-cookie"]
    page = web_client.get(switched.headers["location"], headers={"accept-language": "zh-CN"})
    assert "History" in page.text
    assert re.search(r"\d{1,2} [A-Z][a-z]{2} \d{4}", page.text)
    web_client.get("/ui/lang/zh?next=/ui/")
    chinese = web_client.get(f"/ui/battery/{web_world.battery}").text
    assert "履历" in chinese
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", chinese)
    web_client.cookies.delete("battrace_lang", path="/ui")
