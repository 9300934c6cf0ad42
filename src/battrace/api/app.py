"""The HTTP API application: :func:`create_app`.

Routes are thin (parse, authorise, call a service, shape the answer) and live in one module
per resource: ``log_routes`` (``/checkpoint``, ``/tile/...``, ``/api/v1/log``, ``/health``),
``enterprise_routes``, ``battery_routes``, ``event_routes``, ``epcis_routes``. While the app
runs, a background task publishes a checkpoint every ``BATTRACE_CHECKPOINT_SECONDS`` when the
log has grown. ``/openapi.json`` documents every route and
``/docs`` (Swagger UI) and ``/redoc`` work offline: their scripts come from the installed
``fastapi-offline`` package, not from a CDN.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Receive, Scope, Send

import battrace
from battrace.api import (
    alert_routes,
    battery_routes,
    enterprise_routes,
    epcis_routes,
    event_routes,
    figure_routes,
    log_routes,
)
from battrace.api.context import ApiContext, log_options
from battrace.api.errors import install_error_handlers
from battrace.api.group_commit import GroupWriter, ReportQueue
from battrace.api.limits import BodyLimit
from battrace.api.report_process import ReportProcess
from battrace.api.single_reports import answer_single, is_single_report
from battrace.api.storage import StoreAccess
from battrace.config import Settings, load_settings
from battrace.services import log as log_service
from battrace.store import Store
from battrace.supervision.config import load_settings as load_rule_settings
from battrace.supervision.process import RuleProcess, TouchedBatteries, worker_can_open
from battrace.supervision.service import sweep, update_alerts
from battrace.web import routes as web_routes

LOGGER = logging.getLogger(__name__)
DOCS_ASSETS = "/docs-assets"
DESCRIPTION = """\
Traceability of EV power batteries: enterprises, batteries, lifecycle events and the
tamper-evident event log. Send `Authorization: Bearer <token>` (an enterprise's API token);
without one only the log, `/health` and battery passports answer. Errors have one shape:
`{"error": {"code", "message", "field", "rule"}}`. See docs/api.md.
"""


def _docs_assets() -> Path | None:
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def _add_docs(app: FastAPI) -> None:
    assets = _docs_assets()
    if assets is None:  # only /openapi.json then: never pages that fetch scripts from a CDN
        return
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="battrace API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="battrace API",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )


async def publish_checkpoints(context: ApiContext, every_seconds: float) -> None:
    """Publish a checkpoint every ``every_seconds`` when the log has grown since the last one.

    Writes publish one when ``BATTRACE_CHECKPOINT_LEAVES`` or ``_SECONDS`` have passed, but only
    when they happen: this keeps the promise "at least every N seconds" for leaves written just
    before the writes stopped. A failure is logged and the loop goes on.
    """
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await asyncio.to_thread(log_routes.current_checkpoint, context)
        except Exception:  # keep publishing after a passing failure (e.g. a locked database)
            LOGGER.exception("publishing the periodic checkpoint failed")


def update_alerts_now(context: ApiContext) -> dict[str, int]:
    """Bring the alerts of every battery touched since the last update up to date: in the
    rule worker process when there is one (it writes them itself, in one short transaction),
    else here, reading on a reader connection and holding the writer only to write them."""
    if context.touched is None:
        return {}
    taken = context.touched.take()
    if taken is None:
        return {}
    codes, first, last = taken
    try:
        if context.rules is not None:
            return context.rules.update(codes, first, last)
        with context.access.reading() as reader:
            return update_alerts(
                reader,
                codes,
                first,
                last,
                settings=context.rule_settings,
                writing=context.access.writing,
            )
    except BaseException:
        context.touched.give_back(taken)  # the next update retries it
        raise


def sweep_now(context: ApiContext) -> dict[str, Any]:
    """A full sweep: in the rule worker process when there is one (evaluated and reconciled
    there, in parts, a short transaction each: ``RuleProcess.sweep``), else evaluated on a
    reader connection here and reconciled through the server's writer."""
    if context.rules is None:
        with context.access.reading() as reader:
            return sweep(
                reader, settings=context.rule_settings, writing=context.access.writing
            ).to_dict()
    return context.rules.sweep()


async def supervise(context: ApiContext, every_seconds: float, sweep_seconds: float) -> None:
    """Every ``every_seconds``: update the alerts of what new events touched; every
    ``sweep_seconds`` (and once at start): a full sweep, which also judges the deadlines that
    ran out without any new event. A failure is logged and the loop goes on."""
    next_sweep = 0.0
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(every_seconds)
        try:
            if loop.time() >= next_sweep:
                next_sweep = loop.time() + sweep_seconds
                await asyncio.to_thread(sweep_now, context)
            else:
                await asyncio.to_thread(update_alerts_now, context)
        except Exception:  # keep supervising after a passing failure (e.g. a locked database)
            LOGGER.exception("updating the supervision alerts failed")


class BattraceAPI(FastAPI):
    """The FastAPI app, with single-event reports answered before its middleware and router."""

    single_reports: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.single_reports is not None and is_single_report(scope):
            scope["app"] = self
            await self.single_reports(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(
    database: str | Callable[[], Store] | None = None, settings: Settings | None = None
) -> FastAPI:
    """The API application over ``database``.

    ``database`` is a SQLite path or ``postgresql://`` URL (default: the settings' database),
    or a function returning a new migrated store on the database each call. ``settings``
    defaults to :func:`battrace.config.load_settings`. No connection is opened until the
    first request; the app's shutdown closes them all.
    """
    config = settings or load_settings()

    def prepare(store: Store) -> None:
        # make the log's signing key now, on the writer, so that readers never write
        log_service.log_signer(store, config.log_key_file)

    if callable(database):
        access = StoreAccess(factory=database, readers=config.api_readers, prepare=prepare)
    else:
        target = database if database is not None else config.database_target
        access = StoreAccess(target, readers=config.api_readers, prepare=prepare)

    touched = TouchedBatteries()
    rule_settings = load_rule_settings(config.supervision_rules)
    where = None if callable(database) else (database or config.database_target)
    rules = (
        RuleProcess(where, config.supervision_rules)
        if where is not None and worker_can_open(where)
        else None
    )
    # single-event reports: group commit, in a worker process where one can open the database
    reports: ReportQueue
    if where is not None and worker_can_open(where) and config.api_report_writer == "process":
        reports = ReportProcess(where, config, touched)
    else:
        reports = GroupWriter(
            access,
            lambda: {**log_options(config), "sinks": [touched]},
            config.api_idempotency_hours,
        )
    context = ApiContext(config, access, reports, touched, rule_settings, rules)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        tasks = [
            asyncio.create_task(publish_checkpoints(context, config.checkpoint_seconds)),
            asyncio.create_task(
                supervise(
                    context,
                    config.supervision_seconds,
                    config.supervision_sweep_hours * 3600,
                )
            ),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            context.reports.close()
            if rules is not None:
                await asyncio.to_thread(rules.close)
            access.close()

    app = BattraceAPI(
        title="battrace API",
        version=battrace.__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.battrace = context
    # the hot path of live reporting, answered before FastAPI's stack (api/single_reports.py)
    app.single_reports = BodyLimit(
        answer_single, default=config.api_max_body, batch=config.api_max_batch_body
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit, default=config.api_max_body, batch=config.api_max_batch_body)
    for router in (
        log_routes.router,
        enterprise_routes.router,
        battery_routes.router,
        event_routes.router,
        epcis_routes.router,
        alert_routes.router,
        figure_routes.router,
    ):
        app.include_router(router)
    _add_docs(app)
    app.include_router(web_routes.router)  # the dashboard's pages under /ui (docs/dashboard.md)
    app.mount(web_routes.STATIC_URL, StaticFiles(directory=web_routes.STATIC_DIR), name="ui-static")
    return app


__all__ = ["BattraceAPI", "create_app"]
