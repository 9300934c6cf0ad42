"""The dashboard in a real browser: Debian's Chromium driven by Playwright (marker ``browser``).

The application runs under uvicorn in a thread over the session's simulated nation. The
tests log in, open every page, search a battery and follow its history, switch the language,
check that the charts are drawn (an SVG with data inside ``.js-plotly-plot``), act on an
alert, and check what an enterprise may not open. Every request the pages make must go to
the application itself: the pages work offline. Screenshots go to ``tests/web/artefacts/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright import sync_api

from battrace.api import create_app
from battrace.supervision import alerts as alert_service
from tests.api.conftest import live_server
from tests.web.conftest import ARTEFACTS, CHROMIUM, WebWorld

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(web_world: WebWorld) -> Iterator[str]:
    with live_server(create_app(str(web_world.db), web_world.settings)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium. Install it with"
            " `make browser` (apt-get install chromium); Playwright never downloads one here."
        )
    ARTEFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        found = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        try:
            yield found
        finally:
            found.close()


class Session:
    """One browser context (its own cookies) with a page, recording every request."""

    def __init__(self, browser: Any, base: str, locale: str = "en-GB") -> None:
        self.base = base
        self.context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def go(self, path: str) -> Any:
        answer = self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        return answer

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)

    def login(self, token: str) -> None:
        self.go("/ui/")
        assert "/ui/login" in self.page.url
        self.page.fill("#token", token)
        self.page.click("#login-form button[type=submit]")
        self.page.wait_for_load_state("networkidle")

    def charts_drawn(self, selector: str, marks: str) -> int:
        """Wait for a chart's SVG and count its data marks (``marks`` inside it)."""
        chart = f"{selector}.js-plotly-plot"
        self.page.wait_for_selector(f"{chart} svg.main-svg", timeout=20_000)
        self.page.wait_for_selector(f"{selector}[data-drawn=true]", timeout=20_000)
        return int(self.page.locator(f"{chart} {marks}").count())

    def close(self) -> None:
        offsite = [url for url in self.requests if not url.startswith((self.base, "data:"))]
        assert offsite == [], f"the pages fetched from elsewhere: {offsite}"
        assert self.errors == [], self.errors
        self.context.close()


@pytest.fixture
def regulator(browser: Any, server: str, web_world: WebWorld) -> Iterator[Session]:
    session = Session(browser, server)
    session.login(web_world.tokens["national"])
    yield session
    session.close()


def test_login_and_the_overview_charts(regulator: Session) -> None:
    page = regulator.page
    assert page.url.endswith("/ui/")
    assert page.locator("h1").inner_text() == "National overview"
    assert regulator.charts_drawn("#chart-categories", ".bars path") >= 5
    assert regulator.charts_drawn("#chart-severity", ".bars path") >= 1
    assert regulator.charts_drawn("#chart-trend", ".scatterlayer .trace path.js-line") >= 3
    assert page.locator("#card-total .card-value").inner_text().replace(",", "").isdigit()
    assert "Figures as of" in page.locator("footer").inner_text()
    regulator.shot("overview")


def test_the_map_is_drawn_and_leads_to_a_province(regulator: Session, web_world: WebWorld) -> None:
    page = regulator.page
    for metric in ("retired", "collection_rate", "alerts"):
        regulator.go(f"/ui/map?metric={metric}")
        assert page.locator("#tilemap g.tile").count() == 31
        filled = page.locator("#tilemap g.tile rect:not([fill='#e5e5e5'])").count()
        assert filled >= 1
        regulator.shot(f"map-{metric}")
    page.click(f"#tilemap a[href='/ui/province/{web_world.province}'] rect")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/ui/province/{web_world.province}")
    assert regulator.charts_drawn("#chart-trend", ".scatterlayer .trace") >= 1
    regulator.shot("province")


def test_the_flows_sankey_with_filters(regulator: Session, web_world: WebWorld) -> None:
    page = regulator.page
    regulator.go("/ui/flows")
    assert regulator.charts_drawn("#chart-sankey", ".sankey-node") >= 5
    assert page.locator("#chart-sankey .sankey-link").count() >= 4
    regulator.shot("flows")
    page.select_option("#flow-filters select[name=province]", web_world.province)
    page.select_option("#flow-filters select[name=chemistry]", "LFP")
    page.click("#flow-filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert f"province={web_world.province}" in page.url
    assert "chemistry=LFP" in page.url
    if page.locator("#chart-sankey").count():
        assert regulator.charts_drawn("#chart-sankey", ".sankey-node") >= 2
    regulator.shot("flows-filtered")


def test_alerts_drill_down_and_acknowledge_with_a_comment(
    regulator: Session, web_world: WebWorld
) -> None:
    page = regulator.page
    regulator.go(f"/ui/alerts?status=open&province={web_world.other_province}")
    assert page.locator("#alert-table tbody tr").count() >= 1
    regulator.shot("alerts")
    page.locator("#alert-table a.alert-link").first.click()
    page.wait_for_load_state("networkidle")
    alert_id = page.url.rsplit("/", 1)[1]
    assert page.locator("#evidence li").count() >= 1
    regulator.shot("alert")
    page.click("#action-acknowledge")
    page.wait_for_load_state("networkidle")
    page.fill("#comment", "Asked the firm for its shipping papers.")
    regulator.shot("alert-acknowledge-form")
    page.click("#confirm")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/ui/alerts/{alert_id}?done=acknowledge")
    assert page.locator("#alert-status").inner_text() == "Acknowledged"
    assert "Asked the firm for its shipping papers." in page.locator("#alert-history").inner_text()
    regulator.shot("alert-acknowledged")
    with web_world.store() as store:
        found = alert_service.get_alert(store, alert_id)
        assert found is not None
        assert found.status == alert_service.ACKNOWLEDGED
        assert found.acknowledged_by == web_world.ids["national"]


def test_search_a_battery_and_follow_its_history(regulator: Session, web_world: WebWorld) -> None:
    page = regulator.page
    regulator.go("/ui/enterprises")
    page.fill("header form.search input[name=q]", web_world.battery)
    page.press("header form.search input[name=q]", "Enter")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/ui/battery/{web_world.battery}")
    assert page.locator("#battery-code").inner_text() == web_world.battery
    events = page.locator("#history li.event")
    assert events.count() >= 5
    proofs = page.locator("#history li.event[data-proof=verified]").count()
    assert proofs >= 1
    assert page.locator("#history li.event[data-proof=failed]").count() == 0
    assert page.locator("#passport-qr svg").count() == 1
    assert page.locator("#custody li").count() >= 2
    regulator.shot("battery")
    # follow the history: the custody chain's last holder, then back to the battery
    holder = page.locator("#custody li a").last
    name = holder.inner_text()
    holder.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == name
    regulator.shot("enterprise")
    page.go_back()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/ui/battery/{web_world.battery}")
    # by VIN
    regulator.go(f"/ui/battery?q={web_world.vin}")
    assert "/ui/battery/" in page.url
    regulator.shot("battery-by-vin")
    # a bad code: a page naming the field, not an error 500
    answer = regulator.go("/ui/battery?q=NOT-A-BATTERY")
    assert answer.status == 422
    assert "Field q" in page.locator("#search-problem").inner_text()
    regulator.shot("search-invalid")


def test_switch_the_language(regulator: Session, web_world: WebWorld) -> None:
    page = regulator.page
    regulator.go(f"/ui/battery/{web_world.battery}")
    page.click("#lang-zh")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/ui/battery/{web_world.battery}")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "履历" in page.locator("main").inner_text()
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", page.locator("#history").inner_text())
    regulator.shot("battery-zh")
    regulator.go("/ui/")
    assert page.locator("h1").inner_text() == "全国总览"
    assert regulator.charts_drawn("#chart-trend", ".scatterlayer .trace") >= 1
    regulator.shot("overview-zh")
    page.click("#lang-en")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "National overview"


def test_a_chinese_browser_gets_chinese(browser: Any, server: str, web_world: WebWorld) -> None:
    session = Session(browser, server, locale="zh-CN")
    try:
        session.go("/ui/login")
        assert session.page.locator("h1").inner_text() == "登录"
        session.login(web_world.tokens["provincial"])
        assert session.page.url.endswith(f"/ui/province/{web_world.province}")
        assert "总览" in session.page.locator("h1").inner_text()
        session.shot("province-zh")
    finally:
        session.close()


def test_an_enterprise_cannot_open_what_it_may_not(
    browser: Any, server: str, web_world: WebWorld
) -> None:
    session = Session(browser, server)
    page = session.page
    try:
        session.login(web_world.tokens["maker"])
        assert page.url.endswith(f"/ui/enterprise/{web_world.ids['maker']}")
        assert page.locator("nav.menu a[href='/ui/map']").count() == 0
        session.shot("maker-home")
        other = session.go(f"/ui/enterprise/{web_world.ids['other']}")
        assert other.status == 403
        assert page.locator("h1").inner_text() == "Access denied"
        session.shot("maker-forbidden-enterprise")
        alert_id = web_world.open_alerts(web_world.other_province)[0]
        form = session.go(f"/ui/alerts/{alert_id}/acknowledge")
        assert form.status == 403
        assert page.locator("#action-form").count() == 0
        session.shot("maker-forbidden-acknowledge")
        assert session.go("/ui/map").status == 403
        assert session.go("/ui/flows").status == 403
        assert session.go(f"/ui/province/{web_world.province}").status == 403
        # logging out ends the session
        session.go("/ui/alerts")
        page.click("#logout")
        page.wait_for_load_state("networkidle")
        assert "/ui/login" in page.url
        session.go("/ui/alerts")
        assert "/ui/login" in page.url
    finally:
        session.close()
