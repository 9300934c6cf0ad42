"""The dashboard's pages over FastAPI's TestClient: what each caller sees, and what not."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from battrace.codes.division import PROVINCES
from battrace.supervision import alerts as alert_service
from tests.web.conftest import WebWorld, login

ALERT_ID = re.compile(r'href="/ui/alerts/([0-9a-f]{16})"')


def _pages(world: WebWorld) -> list[str]:
    alert = world.open_alerts(world.province)[0]
    return [
        "/ui/",
        f"/ui/province/{world.province}",
        f"/ui/province/{world.other_province[:2]}",
        "/ui/map",
        "/ui/map?metric=collected",
        "/ui/map?metric=collection_rate",
        "/ui/map?metric=alerts",
        "/ui/map?metric=total",
        "/ui/flows",
        f"/ui/flows?province={world.province}&chemistry=LFP&year=2016&year_to=2024",
        "/ui/alerts",
        f"/ui/alerts?severity=high&status=open&province={world.province}",
        f"/ui/alerts/{alert}",
        f"/ui/alerts/{alert}/acknowledge",
        f"/ui/alerts/{alert}/resolve",
        "/ui/enterprises",
        "/ui/enterprises?role=recycler",
        f"/ui/enterprise/{world.ids['maker']}",
        f"/ui/enterprise/{world.ids['other']}",
        "/ui/battery",
        f"/ui/battery/{world.battery}",
        f"/ui/battery/{world.maker_battery}",
    ]


def test_every_page_renders_for_the_national_regulator(
    web_client: TestClient, web_world: WebWorld
) -> None:
    login(web_client, web_world, "national")
    for path in _pages(web_world):
        answer = web_client.get(path)
        assert answer.status_code == 200, (path, answer.text[:500])
        assert answer.headers["content-type"].startswith("text/html")
        assert "<h1>" in answer.text
        assert "Traceback" not in answer.text


def test_overview_shows_the_figures_and_the_charts(
    web_client: TestClient, web_world: WebWorld
) -> None:
    login(web_client, web_world, "national")
    page = web_client.get("/ui/", headers={"accept-language": "en"}).text
    for card in ("card-total", "card-in_service", "card-retired", "card-collected"):
        assert f'id="{card}"' in page
    assert 'id="card-second_life"' in page
    assert 'id="card-recycled"' in page
    assert 'id="card-collection-rate"' in page
    for chart in ("chart-categories", "chart-severity", "chart-trend"):
        assert f'id="{chart}"' in page
    assert "/ui/vendor/plotly.min.js" in page
    assert "Figures as of" in page
    assert page.count('href="/ui/province/') >= 20  # the provinces table


def test_a_province_without_batteries_shows_zeros(
    web_client: TestClient, web_world: WebWorld
) -> None:
    # the provinces figure has no row for it: the page showed a 500 (no tonnes in the
    # fallback row) before
    with web_world.store() as store:
        rows = store._connection().query("SELECT DISTINCT province FROM batteries")
    held = {r[0][:2] for r in rows if r[0]}
    empty = next(p for p in sorted(PROVINCES) if p not in held)
    login(web_client, web_world, "national")
    answer = web_client.get(f"/ui/province/{empty}", headers={"accept-language": "en"})
    assert answer.status_code == 200, answer.text[:500]
    card = answer.text.split('id="card-total"', 1)[1].split("</div>\n  </div>", 1)[0]
    assert '<div class="card-value">0</div>' in card
    assert "0.0" in card  # tonnes
    # and a province with batteries still shows its own figures
    full = web_client.get(f"/ui/province/{web_world.province}", headers={"accept-language": "en"})
    card = full.text.split('id="card-total"', 1)[1].split("</div>\n  </div>", 1)[0]
    assert '<div class="card-value">0</div>' not in card


def test_plotly_comes_from_the_installed_package(web_client: TestClient) -> None:
    answer = web_client.get("/ui/vendor/plotly.min.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert len(answer.content) > 1_000_000
    assert b"plotly" in answer.content[:2000].lower()
    assert web_client.get("/ui/static/app.js").status_code == 200
    assert web_client.get("/ui/static/app.css").status_code == 200


def test_pages_are_not_api_routes(web_client: TestClient) -> None:
    paths = web_client.get("/openapi.json").json()["paths"]
    assert not any(p == "/" or p.startswith("/ui") for p in paths)


# -- login ------------------------------------------------------------------------------------
def test_anonymous_callers_are_sent_to_the_login_page(web_client: TestClient) -> None:
    web_client.cookies.clear()
    for path in ("/ui/", "/ui/alerts", "/ui/map", "/ui/enterprises", "/ui/battery?q=x"):
        answer = web_client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        target = urlsplit(answer.headers["location"])
        assert target.path == "/ui/login"
        assert parse_qs(target.query)["next"] == [path]
    assert web_client.get("/", follow_redirects=False).headers["location"] == "/ui/"
    assert web_client.get("/ui/login").status_code == 200


def test_login_keeps_the_token_in_a_strict_httponly_cookie_and_logout_clears_it(
    web_client: TestClient, web_world: WebWorld
) -> None:
    web_client.cookies.clear()
    answer = web_client.post(
        "/ui/login",
        data={"token": web_world.tokens["national"], "next": "/ui/alerts"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/alerts"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("battrace_token=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert web_client.get("/ui/alerts").status_code == 200
    out = web_client.post("/ui/logout", follow_redirects=False)
    assert out.status_code == 303
    assert (
        'battrace_token=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    )
    web_client.cookies.clear()
    assert web_client.get("/ui/alerts", follow_redirects=False).status_code == 303


def test_a_bad_token_is_refused_on_the_login_page(web_client: TestClient) -> None:
    web_client.cookies.clear()
    refused = web_client.post("/ui/login", data={"token": "btk_" + "x" * 43})
    assert refused.status_code == 401
    assert 'role="alert"' in refused.text
    assert "battrace_token" not in refused.headers.get("set-cookie", "")
    empty = web_client.post("/ui/login", data={"token": "  "})
    assert empty.status_code == 422


def test_a_revoked_or_forged_cookie_goes_back_to_the_login_page(
    web_client: TestClient,
) -> None:
    web_client.cookies.clear()
    web_client.cookies.set("battrace_token", "btk_forged", path="/ui")
    answer = web_client.get("/ui/", follow_redirects=False)
    assert answer.status_code == 303
    assert "expired=1" in answer.headers["location"]
    web_client.cookies.clear()


def test_login_never_redirects_to_another_site(web_client: TestClient, web_world: WebWorld) -> None:
    web_client.cookies.clear()
    for target in ("https://evil.example/", "//evil.example/ui", "/api/v1/batteries"):
        answer = web_client.post(
            "/ui/login",
            data={"token": web_world.tokens["national"], "next": target},
            follow_redirects=False,
        )
        assert answer.headers["location"] == "/ui/"
    switched = web_client.get("/ui/lang/en?next=https://evil.example/", follow_redirects=False)
    assert switched.headers["location"] == "/ui/"


# -- what each role may see -------------------------------------------------------------------
def test_a_vehicle_maker_sees_its_own_records_only(
    web_client: TestClient, web_world: WebWorld
) -> None:
    login(web_client, web_world, "maker")
    maker, other = web_world.ids["maker"], web_world.ids["other"]
    home = web_client.get("/ui/", follow_redirects=False)
    assert home.headers["location"] == f"/ui/enterprise/{maker}"
    assert web_client.get(f"/ui/enterprise/{maker}").status_code == 200
    denied = web_client.get(f"/ui/enterprise/{other}")
    assert denied.status_code == 403
    assert "jurisdiction" in denied.text
    for path in (
        "/ui/map",
        "/ui/flows",
        f"/ui/province/{web_world.province}",
        f"/ui/alerts?enterprise={other}",
    ):
        assert web_client.get(path).status_code == 403, path
    # its alerts list holds alerts about itself only
    listed = set(ALERT_ID.findall(web_client.get("/ui/alerts").text))
    assert listed
    with web_world.store() as store:
        for alert_id in listed:
            found = alert_service.get_alert(store, alert_id)
            assert found is not None
            assert found.enterprise == maker
    # a battery it is party to: the full record; another one: 403 with the public passport
    assert web_client.get(f"/ui/battery/{web_world.maker_battery}").status_code == 200
    foreign = web_client.get(f"/ui/battery/{web_world.battery}")
    if foreign.status_code == 403:
        assert 'id="history"' not in foreign.text
        assert web_world.battery in foreign.text  # the public passport
    # the menu offers no regulator page
    assert 'href="/ui/map"' not in web_client.get(f"/ui/enterprise/{maker}").text


def test_a_vehicle_maker_cannot_open_or_post_the_acknowledge_form(
    web_client: TestClient, web_world: WebWorld
) -> None:
    login(web_client, web_world, "maker")
    own = web_world.open_alerts(web_world.province, web_world.ids["maker"]) or [
        a for p in (web_world.province, web_world.other_province) for a in web_world.open_alerts(p)
    ]
    alert_id = own[0]
    form = web_client.get(f"/ui/alerts/{alert_id}/acknowledge")
    assert form.status_code == 403
    assert 'id="action-form"' not in form.text
    assert "regulator_only" in form.text
    posted = web_client.post(f"/ui/alerts/{alert_id}/acknowledge", data={"comment": "mine"})
    assert posted.status_code == 403
    with web_world.store() as store:
        found = alert_service.get_alert(store, alert_id)
        assert found is not None
        assert found.status == alert_service.OPEN
    detail = web_client.get(f"/ui/alerts/{alert_id}")
    if detail.status_code == 200:  # an alert about itself: read-only
        assert 'id="action-acknowledge"' not in detail.text


def test_a_provincial_regulator_is_limited_to_its_province(
    web_client: TestClient, web_world: WebWorld
) -> None:
    login(web_client, web_world, "provincial")
    mine, other = web_world.province, web_world.other_province
    home = web_client.get("/ui/", follow_redirects=False)
    assert home.headers["location"] == f"/ui/province/{mine}"
    assert web_client.get(f"/ui/province/{mine}").status_code == 200
    assert web_client.get(f"/ui/province/{other}").status_code == 403
    assert web_client.get(f"/ui/flows?province={other}").status_code == 403
    assert web_client.get(f"/ui/alerts?province={other}").status_code == 403
    assert web_client.get(f"/ui/alerts/{web_world.open_alerts(other)[0]}").status_code == 403
    assert web_client.get(f"/ui/alerts/{web_world.open_alerts(mine)[0]}").status_code == 200
    listed = set(ALERT_ID.findall(web_client.get("/ui/alerts?status=open").text))
    assert listed
    with web_world.store() as store:
        for alert_id in listed:
            found = alert_service.get_alert(store, alert_id)
            assert found is not None
            assert found.province == mine
    flows = web_client.get("/ui/flows").text
    assert f'value="{mine}" selected' in flows
    # the map links to its own province only
    page = web_client.get("/ui/map").text
    links = set(re.findall(r'href="/ui/province/(\d{6})"', page))
    assert links == {mine}


# -- alerts: acknowledge and resolve ----------------------------------------------------------
def test_a_regulator_acknowledges_then_resolves_an_alert_with_a_comment(
    web_client: TestClient, web_world: WebWorld
) -> None:
    login(web_client, web_world, "provincial")
    alert_id = web_world.open_alerts(web_world.province)[-1]
    detail = web_client.get(f"/ui/alerts/{alert_id}").text
    assert 'id="action-acknowledge"' in detail
    form = web_client.get(f"/ui/alerts/{alert_id}/acknowledge")
    assert 'id="action-form"' in form.text
    done = web_client.post(
        f"/ui/alerts/{alert_id}/acknowledge",
        data={"comment": "checking with the firm"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/ui/alerts/{alert_id}?done=acknowledge"
    page = web_client.get(done.headers["location"]).text
    assert 'id="done"' in page
    assert "checking with the firm" in page
    # resolving needs a comment: the form comes back naming the field
    missing = web_client.post(f"/ui/alerts/{alert_id}/resolve", data={"comment": " "})
    assert missing.status_code == 422
    assert '<code class="field">comment</code>' in missing.text
    resolved = web_client.post(
        f"/ui/alerts/{alert_id}/resolve", data={"comment": "fixed"}, follow_redirects=False
    )
    assert resolved.status_code == 303
    with web_world.store() as store:
        found = alert_service.get_alert(store, alert_id)
        assert found is not None
        assert found.status == alert_service.RESOLVED
        assert found.resolved_by == web_world.ids["provincial"]
    # nothing left to do on it
    assert 'id="action-resolve"' not in web_client.get(f"/ui/alerts/{alert_id}").text
    again = web_client.post(f"/ui/alerts/{alert_id}/resolve", data={"comment": "again"})
    assert again.status_code == 409


def test_forms_from_another_site_are_refused(web_client: TestClient, web_world: WebWorld) -> None:
    login(web_client, web_world, "national")
    alert_id = web_world.open_alerts(web_world.other_province)[0]
    answer = web_client.post(
        f"/ui/alerts/{alert_id}/acknowledge",
        data={"comment": "x"},
        headers={"origin": "https://evil.example"},
    )
    assert answer.status_code == 403
    with web_world.store() as store:
        found = alert_service.get_alert(store, alert_id)
        assert found is not None
        assert found.status == alert_service.OPEN


def test_alert_evidence_links_to_the_batteries(web_client: TestClient, web_world: WebWorld) -> None:
    login(web_client, web_world, "national")
    with web_world.store() as store:
        found = next(
            a
            for a in alert_service.list_alerts(store, limit=1000)
            if a.evidence and a.battery is not None
        )
    page = web_client.get(f"/ui/alerts/{found.id}").text
    assert 'id="evidence"' in page
    assert f'href="/ui/battery/{found.battery}"' in page
    for event_id in found.evidence:
        assert f"#{event_id}" in page


# -- batteries --------------------------------------------------------------------------------
def test_battery_page_shows_history_custody_proofs_and_qr(
    web_client: TestClient, web_world: WebWorld
) -> None:
    login(web_client, web_world, "national")
    page = web_client.get(f"/ui/battery/{web_world.battery}").text
    assert 'id="history"' in page
    assert 'id="custody"' in page
    assert 'id="passport-qr"' in page
    assert "<svg" in page.split('id="passport-qr"')[1][:200]
    proofs = re.findall(r'data-proof="(\w+)"', page)
    assert proofs
    assert set(proofs) <= {"verified", "pending"}
    assert "verified" in proofs
    assert "failed" not in proofs


def test_search_by_code_and_by_vin(web_client: TestClient, web_world: WebWorld) -> None:
    login(web_client, web_world, "national")
    by_code = web_client.get(f"/ui/battery?q={web_world.battery.lower()}", follow_redirects=False)
    assert by_code.status_code == 303
    assert by_code.headers["location"] == f"/ui/battery/{web_world.battery}"
    by_vin = web_client.get(f"/ui/battery?q={web_world.vin}", follow_redirects=False)
    assert by_vin.status_code in (200, 303)
    if by_vin.status_code == 303:
        assert by_vin.headers["location"].startswith("/ui/battery/")


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/ui/battery?q=NOT-A-CODE", 422, "q"),
        ("/ui/battery?q=LAACBA1N0R000077X", 422, "q"),
        ("/ui/battery/NOT-A-CODE", 422, "code"),
        ("/ui/province/99", 422, "province"),
        ("/ui/province/abc", 422, "province"),
        ("/ui/flows?year=20x0", 422, "year"),
        ("/ui/flows?chemistry=coal", 422, "chemistry"),
        ("/ui/alerts?status=bogus", 422, "status"),
        ("/ui/alerts?battery=bad", 422, "battery"),
        ("/ui/alerts?after=zz", 422, "after"),
        ("/ui/alerts/not-an-id", 422, "alert_id"),
        ("/ui/alerts/0000000000000000", 404, "alert_id"),
        ("/ui/alerts/0000000000000000/escalate", 404, "action"),
        ("/ui/map?metric=weight", 422, "metric"),
        ("/ui/enterprise/NOTACODE", 422, "enterprise_id"),
        ("/ui/enterprises?role=pilot", 422, "roles"),
    ],
)
def test_bad_input_is_a_page_naming_the_field(
    web_client: TestClient, web_world: WebWorld, path: str, status: int, field: str
) -> None:
    login(web_client, web_world, "national")
    answer = web_client.get(path)
    assert answer.status_code == status, answer.text[:400]
    assert answer.headers["content-type"].startswith("text/html")
    assert f"{field}" in answer.text


def test_an_unknown_battery_is_a_404_page(web_client: TestClient, web_world: WebWorld) -> None:
    login(web_client, web_world, "national")
    unknown = web_world.battery[:-3] + ("000" if not web_world.battery.endswith("000") else "001")
    answer = web_client.get(f"/ui/battery/{unknown}")
    assert answer.status_code in (404, 422)
    assert "Traceback" not in answer.text


def test_anonymous_callers_see_the_public_passport_only(
    web_client: TestClient, web_world: WebWorld
) -> None:
    web_client.cookies.clear()
    answer = web_client.get(f"/ui/battery/{web_world.battery}")
    assert answer.status_code == 200
    assert 'id="history"' not in answer.text
    assert 'id="custody"' not in answer.text
    assert web_world.battery in answer.text
    assert "/ui/login?next=" in answer.text
