"""The dashboard's pages under ``/ui/`` (server-rendered Jinja2, a little JavaScript).

Served by the API application (``create_app`` includes :data:`router` and mounts
:data:`STATIC_DIR` at :data:`STATIC_URL`); none of these routes is in ``/openapi.json``.

- Login: a form posting an enterprise's API token, checked as the API checks a bearer token
  (:func:`battrace.services.tokens.authenticate`) and kept in the ``battrace_token`` cookie
  (HttpOnly, SameSite=Strict); logout clears it. A page without a valid token redirects to
  the login page; a page or record the caller's role may not see is a 403 page, never the
  data. Forms that change something also refuse a foreign ``Origin``.
- Language: ``/ui/lang/zh`` and ``/ui/lang/en`` set the ``battrace_lang`` cookie; without it
  the browser's ``Accept-Language`` decides (:mod:`battrace.web.i18n`).
- Errors: every platform error becomes a page with its status, naming the field and rule.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast
from urllib.parse import parse_qsl, quote, urlencode

import segno
from fastapi import APIRouter, FastAPI, Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from battrace.api.context import context_of
from battrace.domain.access import Caller
from battrace.errors import (
    BattraceError,
    NotFoundError,
    PermissionDenied,
    Unauthenticated,
    ValidationError,
)
from battrace.services.tokens import authenticate
from battrace.store.base import Store
from battrace.supervision import alerts as alert_service
from battrace.web import charts, pages, tilemap
from battrace.web.figcache import DEFAULT_TTL, FigureCache, FigureResult
from battrace.web.i18n import LANG_COOKIE, LANGS, Text, choose_lang, format_time

HERE: Final = Path(__file__).resolve().parent
STATIC_DIR: Final = HERE / "static"
STATIC_URL: Final = "/ui/static"
PLOTLY_URL: Final = "/ui/vendor/plotly.min.js"
TOKEN_COOKIE: Final = "battrace_token"
COOKIE_PATH: Final = "/ui"
ACTIONS: Final = ("acknowledge", "resolve")
_STATE = "battrace_web"
_STATE_LOCK = threading.Lock()

TEMPLATES: Final = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def plotly_js() -> Path | None:
    """plotly.js as the installed ``plotly`` package ships it (no CDN)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


# -- per-app state: the figure cache ----------------------------------------------------------
@dataclass
class WebState:
    figures: FigureCache

    def close(self) -> None:
        self.figures.close()


def web_state(app: Any) -> WebState:
    """The dashboard's state on ``app`` (made on first use; warms the national figures)."""
    found: WebState | None = getattr(app.state, _STATE, None)
    if found is not None:
        return found
    with _STATE_LOCK:
        found = getattr(app.state, _STATE, None)
        if found is None:
            access, settings = app.state.battrace.access, app.state.battrace.settings
            # in a worker process of their own where one can open the database (figcache.py)
            in_process = settings.web_figure_worker == "process"
            cache = FigureCache(
                access.reading,
                ttl=settings.web_figure_seconds,
                target=access.target if in_process else None,
            )
            found = WebState(cache)
            found.figures.warm_up()
            setattr(app.state, _STATE, found)
    return found


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    found: WebState | None = getattr(app.state, _STATE, None)
    if found is not None:
        await run_in_threadpool(found.close)


router = APIRouter(include_in_schema=False, lifespan=_lifespan)


# -- one request ------------------------------------------------------------------------------
@dataclass
class Ctx:
    """What a page is built from: the request, a store, the caller and the language."""

    request: Request
    store: Store
    caller: Caller
    t: Text
    results: list[FigureResult] = field(default_factory=list)

    @property
    def web(self) -> WebState:
        return web_state(self.request.app)

    def figure(self, kind: str, **filters: Any) -> FigureResult:
        result = self.web.figures.get(kind, **filters)
        self.results.append(result)
        return result


def _lang(request: Request) -> Text:
    return Text(
        choose_lang(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    )


def _caller(request: Request, store: Store) -> tuple[Caller, bool]:
    """The caller of the token cookie, and whether a cookie was there but refused."""
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        return Caller(), False
    try:
        return Caller(authenticate(store, token)), False
    except Unauthenticated:
        return Caller(), True


def _here(request: Request) -> str:
    path = request.url.path
    return path + (f"?{request.url.query}" if request.url.query else "")


def _safe_next(value: str | None) -> str:
    """A redirect target inside the dashboard (never another site)."""
    if value and value.startswith("/ui") and not value.startswith("//") and "\\" not in value:
        return value
    return "/ui/"


def _to_login(request: Request, *, expired: bool = False) -> Response:
    query = {"next": _here(request)}
    if expired:
        query["expired"] = "1"
    response = RedirectResponse(f"/ui/login?{urlencode(query)}", status_code=303)
    if expired:
        response.delete_cookie(TOKEN_COOKIE, path=COOKIE_PATH)
    return response


def _nav(caller: Caller, t: Text) -> list[tuple[str, str]]:
    if caller.enterprise is None:
        return []
    if caller.is_regulator:
        items = [
            ("nav.overview", "/ui/"),
            ("nav.map", "/ui/map"),
            ("nav.flows", "/ui/flows"),
            ("nav.alerts", "/ui/alerts"),
            ("nav.enterprises", "/ui/enterprises"),
        ]
    else:
        items = [
            ("nav.my_enterprise", f"/ui/enterprise/{caller.id}"),
            ("nav.alerts", "/ui/alerts"),
        ]
    items.append(("nav.battery", "/ui/battery"))
    return [(t(key), href) for key, href in items]


def render(
    ctx: Ctx, template: str, *, status: int = 200, charts_used: bool = False, **values: Any
) -> HTMLResponse:
    """``template`` with the page's common values (language, caller, menu, footer)."""
    t = ctx.t
    request = ctx.request
    as_of = min((r.as_of for r in ctx.results), default=None)
    here = _here(request)
    html = TEMPLATES.get_template(template).render(
        t=t,
        lang=t.lang,
        caller=ctx.caller,
        me=ctx.caller.enterprise,
        who=t(f"who.{ctx.caller.kind}"),
        nav=_nav(ctx.caller, t),
        path=request.url.path,
        langs=[(code, f"/ui/lang/{code}?{urlencode({'next': here})}") for code in LANGS],
        figures_as_of=format_time(as_of, t.lang) if as_of is not None else None,
        figures_ttl=int(DEFAULT_TTL),
        charts_used=charts_used,
        plotly_url=PLOTLY_URL,
        static_url=STATIC_URL,
        province_name=lambda code: pages.province_name(code, t.lang),
        place_name=lambda code: pages.place_name(code, t.lang),
        **values,
    )
    return HTMLResponse(html, status_code=status)


_TITLES: Final = {
    401: "error.unauthenticated",
    403: "error.forbidden",
    404: "error.not_found",
    409: "error.conflict",
    413: "error.invalid",
    422: "error.invalid",
    503: "error.unavailable",
}


def error_page(ctx: Ctx, error: BattraceError, **extra: Any) -> HTMLResponse:
    status = error.status if 400 <= error.status < 600 else 500
    return render(
        ctx,
        "error.html",
        status=status,
        title=ctx.t(_TITLES.get(status, "error.internal")),
        explanation=ctx.t(f"error.{status}.text") if ctx.t.has(f"error.{status}.text") else "",
        error_field=error.field,
        error_rule=error.rule,
        detail=error.message if status != 500 else None,
        **extra,
    )


def serve(
    request: Request,
    build: Callable[[Ctx], Response],
    *,
    login: bool = True,
    write: bool = False,
) -> Response:
    """Build a page with a store (a reader, or the writer for ``write``) and the caller;
    ``login``: anonymous callers go to the login page. Platform errors become pages."""
    t = _lang(request)
    access = context_of(request).access
    try:
        lend = access.writing() if write else access.reading()
        with lend as store:
            caller, expired = _caller(request, store)
            if login and caller.enterprise is None:
                return _to_login(request, expired=expired)
            ctx = Ctx(request, store, caller, t)
            try:
                return build(ctx)
            except Unauthenticated:
                return _to_login(request)
            except BattraceError as exc:
                return error_page(ctx, exc)
    except BattraceError as exc:  # the store itself (StoreError)
        return error_page(Ctx(request, cast(Store, None), Caller(), t), exc)


async def _form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (python-multipart is not needed)."""
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=20))


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    expected = f"{request.url.scheme}://{request.url.netloc}"
    return origin == expected


def _query(request: Request) -> dict[str, str]:
    return dict(request.query_params.items())


# -- entry, login, language, assets -----------------------------------------------------------
@router.get("/")
def root() -> Response:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui")
def ui_root() -> Response:
    return RedirectResponse("/ui/", status_code=307)


@router.get(PLOTLY_URL)
def plotly_script() -> Response:
    path = plotly_js()
    if path is None:
        raise NotFoundError("plotly.js: the plotly package is not installed", field="path")
    return FileResponse(
        path,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/ui/lang/{lang}")
def set_language(lang: str, next: str | None = None) -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if lang in LANGS:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, path=COOKIE_PATH, samesite="strict"
        )
    return response


@router.get("/ui/login")
def login_form(request: Request) -> Response:
    params = _query(request)

    def build(ctx: Ctx) -> Response:
        message = "login.expired" if params.get("expired") else None
        return render(ctx, "login.html", next=_safe_next(params.get("next")), message=message)

    return serve(request, build, login=False)


@router.post("/ui/login")
async def login_submit(request: Request) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_login, request, form)


def _login(request: Request, form: dict[str, str]) -> Response:
    token = form.get("token", "").strip()
    target = _safe_next(form.get("next"))

    def build(ctx: Ctx) -> Response:
        if not _same_origin(request):
            return error_page(ctx, PermissionDenied("origin: a form from another site"))
        if not token:
            return render(ctx, "login.html", status=422, next=target, message="login.empty")
        try:
            authenticate(ctx.store, token)
        except Unauthenticated:
            return render(ctx, "login.html", status=401, next=target, message="login.refused")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            TOKEN_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path=COOKIE_PATH,
        )
        return response

    return serve(request, build, login=False)


@router.post("/ui/logout")
def logout(request: Request) -> Response:
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(TOKEN_COOKIE, path=COOKIE_PATH)
    return response


# -- overview, provinces, map, flows ----------------------------------------------------------
def _overview_page(ctx: Ctx, province: str | None) -> Response:
    data = pages.overview(ctx.store, ctx.caller, ctx.figure, province)
    t = ctx.t
    return render(
        ctx,
        "overview.html",
        charts_used=True,
        data=data,
        cards=pages.CARDS,
        categories=pages.CATEGORIES,
        severities=charts.SEVERITIES,
        statuses=alert_service.STATUSES,
        category_chart=charts.categories(data.totals, t, pages.CATEGORIES),
        severity_chart=charts.severities(data.open_alerts, t),
        trend_chart=charts.trend(data.trend, t),
        names=pages.Names(ctx.store),
    )


@router.get("/ui/")
def home(request: Request) -> Response:
    def build(ctx: Ctx) -> Response:
        caller = ctx.caller
        if not caller.is_regulator:
            return RedirectResponse(f"/ui/enterprise/{caller.id}", status_code=303)
        if not caller.is_national:
            return RedirectResponse(f"/ui/province/{caller.province}", status_code=303)
        return _overview_page(ctx, None)

    return serve(request, build)


@router.get("/ui/province/{code}")
def province(request: Request, code: str) -> Response:
    return serve(request, lambda ctx: _overview_page(ctx, pages.province_code(code)))


@router.get("/ui/map")
def china_map(request: Request) -> Response:
    metric = request.query_params.get("metric") or "retired"

    def build(ctx: Ctx) -> Response:
        t = ctx.t

        def fmt(name: str, value: float | None) -> str:
            if name == "collection_rate":
                return t.pct(value)
            return t.num(round(value) if value is not None else None)

        data = pages.map_data(ctx.store, ctx.caller, ctx.figure, metric, fmt)
        tiles = tilemap.tiles(data.values, data.shown, t.lang, linked=data.linked)
        legend = [(fmt(metric, v), c) for v, c in tilemap.legend(data.low, data.high)]
        return render(
            ctx,
            "map.html",
            data=data,
            metrics=pages.MAP_METRICS,
            tiles=tiles,
            ranked=sorted(
                (tile for tile in tiles if tile.value is not None),
                key=lambda tile: -(tile.value or 0.0),
            ),
            legend=legend,
            width=tilemap.COLUMNS * tilemap.TILE,
            height=tilemap.ROWS * tilemap.TILE,
            no_data=tilemap.NO_DATA,
        )

    return serve(request, build)


@router.get("/ui/flows")
def flows(request: Request) -> Response:
    params = _query(request)

    def build(ctx: Ctx) -> Response:
        from battrace.domain.events import Chemistry

        filters = pages.flow_filters(params)
        result = pages.flows(ctx.caller, ctx.figure, filters)
        rows = result.rows
        return render(
            ctx,
            "flows.html",
            charts_used=True,
            filters=filters,
            rows=[r for r in rows if r["count"] > 0],
            chart=charts.sankey(rows, pages.FLOW_NODES, ctx.t),
            chemistries=[c.value for c in Chemistry],
            provinces=_province_choices(ctx),
            years=list(range(2015, 2031)),
        )

    return serve(request, build)


def _province_choices(ctx: Ctx) -> list[tuple[str, str]]:
    from battrace.codes.division import PROVINCES

    if not ctx.caller.is_national:
        own = ctx.caller.province
        return [(own, pages.province_name(own, ctx.t.lang))] if own else []
    return [
        (p.code, p.name_zh if ctx.t.lang == "zh" else p.name_en)
        for code2, p in PROVINCES.items()
        if code2 in tilemap.GRID
    ]


# -- alerts -----------------------------------------------------------------------------------
@router.get("/ui/alerts")
def alerts(request: Request) -> Response:
    params = _query(request)

    def build(ctx: Ctx) -> Response:
        filters = pages.alert_filters(params)
        data = pages.alert_list(ctx.store, ctx.caller, filters)
        names = pages.Names(ctx.store)
        return render(
            ctx,
            "alerts.html",
            data=data,
            names=names,
            statuses=alert_service.STATUSES,
            severities=charts.SEVERITIES,
            provinces=_province_choices(ctx),
            next_url=(
                "/ui/alerts?" + urlencode(filters.query(after=data.next)) if data.next else None
            ),
        )

    return serve(request, build)


@router.get("/ui/alerts/{alert_id}")
def alert(request: Request, alert_id: str) -> Response:
    done = request.query_params.get("done")

    def build(ctx: Ctx) -> Response:
        data = pages.alert_detail(ctx.store, ctx.caller, alert_id)
        return render(
            ctx,
            "alert.html",
            data=data,
            names=pages.Names(ctx.store),
            done=done if done in ACTIONS else None,
            actions=_actions(data.alert) if data.may_act else [],
        )

    return serve(request, build)


def _actions(found: alert_service.Alert) -> list[str]:
    if found.status == alert_service.OPEN:
        return ["acknowledge", "resolve"]
    if found.status == alert_service.ACKNOWLEDGED:
        return ["resolve"]
    return []


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        raise NotFoundError(
            f"action: must be one of {', '.join(ACTIONS)}", field="action", rule="enum"
        )


@router.get("/ui/alerts/{alert_id}/{action}")
def alert_action_form(request: Request, alert_id: str, action: str) -> Response:
    def build(ctx: Ctx) -> Response:
        _check_action(action)
        found = pages.check_alert_action(ctx.store, ctx.caller, alert_id)
        return render(
            ctx,
            "alert_action.html",
            alert=found,
            action=action,
            allowed=action in _actions(found),
            comment="",
            message=None,
        )

    return serve(request, build)


@router.post("/ui/alerts/{alert_id}/{action}")
async def alert_action(request: Request, alert_id: str, action: str) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_act, request, alert_id, action, form)


def _act(request: Request, alert_id: str, action: str, form: dict[str, str]) -> Response:
    comment = form.get("comment", "")

    def build(ctx: Ctx) -> Response:
        if not _same_origin(request):
            raise PermissionDenied("origin: a form from another site", field="origin")
        _check_action(action)
        found = pages.check_alert_action(ctx.store, ctx.caller, alert_id)
        me = ctx.caller.id
        assert me is not None
        try:
            if action == "acknowledge":
                alert_service.acknowledge(ctx.store, found.id, me, comment.strip() or None)
            else:
                alert_service.resolve(ctx.store, found.id, me, comment)
        except ValidationError as exc:
            return render(
                ctx,
                "alert_action.html",
                status=422,
                alert=found,
                action=action,
                allowed=True,
                comment=comment,
                message=exc,
            )
        return RedirectResponse(f"/ui/alerts/{found.id}?done={action}", status_code=303)

    return serve(request, build, write=True)


# -- enterprises ------------------------------------------------------------------------------
@router.get("/ui/enterprises")
def enterprises(request: Request) -> Response:
    params = _query(request)

    def build(ctx: Ctx) -> Response:
        from battrace.domain.roles import Role

        items, after, used = pages.enterprise_list(ctx.store, ctx.caller, params)
        return render(
            ctx,
            "enterprises.html",
            items=items,
            used=used,
            roles=[r.value for r in Role],
            provinces=_province_choices(ctx),
            next_url="/ui/enterprises?" + urlencode({**used, "after": after}) if after else None,
        )

    return serve(request, build)


@router.get("/ui/enterprise/{enterprise_id}")
def enterprise(request: Request, enterprise_id: str) -> Response:
    def build(ctx: Ctx) -> Response:
        data = pages.enterprise_detail(ctx.store, ctx.caller, ctx.figure, enterprise_id)
        timeliness = data.timeliness
        chart = (
            charts.on_time(int(timeliness["events"]), int(timeliness["late"]), ctx.t)
            if timeliness
            else None
        )
        return render(
            ctx,
            "enterprise.html",
            charts_used=chart is not None,
            data=data,
            chart=chart,
            roles=sorted(r.value for r in data.enterprise.roles),
        )

    return serve(request, build)


# -- batteries --------------------------------------------------------------------------------
@router.get("/ui/battery")
def battery_search(request: Request) -> Response:
    query = request.query_params.get("q")

    def build(ctx: Ctx) -> Response:
        if query is None or not query.strip():
            return render(ctx, "search.html", query="", result=None, problem=None)
        try:
            result = pages.search(ctx.store, ctx.caller, query)
        except ValidationError as exc:
            return render(ctx, "search.html", status=422, query=query, result=None, problem=exc)
        if result.code is not None:
            return RedirectResponse(f"/ui/battery/{quote(result.code)}", status_code=303)
        if len(result.matches) == 1:
            return RedirectResponse(f"/ui/battery/{quote(result.matches[0])}", status_code=303)
        return render(ctx, "search.html", query=query, result=result, problem=None)

    return serve(request, build)


def _qr(request: Request, code: str) -> str:
    link = f"{str(request.base_url).rstrip('/')}/ui/battery/{quote(code)}"
    return str(segno.make(link, error="m").svg_inline(scale=3, dark="#111111"))


@router.get("/ui/battery/{code}")
def battery(request: Request, code: str) -> Response:
    def build(ctx: Ctx) -> Response:
        text = code.strip().upper()
        if ctx.caller.enterprise is None:  # the public passport is for everyone
            found = pages.passport(ctx.store, text)
            return render(ctx, "passport.html", passport=found, qr=_qr(request, found["code"]))
        try:
            key_file = context_of(request).settings.log_key_file
            data = pages.battery_detail(ctx.store, ctx.caller, text, key_file)
        except PermissionDenied as exc:
            found = pages.passport(ctx.store, text)
            return error_page(ctx, exc, passport=found)
        return render(
            ctx,
            "battery.html",
            data=data,
            b=data.battery,
            names=pages.Names(ctx.store),
            qr=_qr(request, data.battery["code"]),
            owner=pages.OWNER,
        )

    return serve(request, build, login=False)


__all__ = [
    "PLOTLY_URL",
    "STATIC_DIR",
    "STATIC_URL",
    "TEMPLATES",
    "plotly_js",
    "router",
    "web_state",
]
