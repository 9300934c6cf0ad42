"""``battrace serve``: run the HTTP API with uvicorn (production mode)."""

from __future__ import annotations

from typing import Annotated

import typer

from battrace.cli.common import DbOption, app, err
from battrace.config import load_settings


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default BATTRACE_API_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (default BATTRACE_API_PORT).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Serve the HTTP API (docs at /docs, OpenAPI at /openapi.json) until stopped."""
    import uvicorn

    from battrace.api import create_app
    from battrace.api.collector import tune_collector
    from battrace.web.routes import web_state

    settings = load_settings(api_host=host, api_port=str(port) if port is not None else None)
    target = db if db is not None else settings.database_target
    application = create_app(target, settings)
    # start computing the dashboard's national figures now, in the background, so that the
    # first visitor does not wait for them
    web_state(application)
    # and start the single-event reports' writer (its worker process) before the first report
    application.state.battrace.reports.start()
    err.print(
        f"battrace API on http://{settings.api_host}:{settings.api_port} ({target}); docs at /docs",
        markup=False,
    )
    tune_collector()  # production tuning of the garbage collector (api/collector.py)
    uvicorn.run(
        application,
        host=settings.api_host,
        port=settings.api_port,
        reload=False,
        access_log=False,
        log_level="info",
        proxy_headers=False,
    )
