"""What every route needs: the settings and the stores, kept on the app (no globals)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from battrace.api.storage import StoreAccess
from battrace.config import Settings
from battrace.services import log as log_service

if TYPE_CHECKING:  # group_commit answers through idempotency, which needs this module
    from battrace.api.group_commit import ReportQueue
    from battrace.supervision.config import RuleSettings
    from battrace.supervision.process import RuleProcess, TouchedBatteries


@dataclass(frozen=True, slots=True)
class ApiContext:
    settings: Settings
    access: StoreAccess
    reports: ReportQueue  # the group-commit writer of single-event reports
    # supervision (api/app.py, supervise): what accepted events touch, the rules' settings and
    # the worker process evaluating them (None where no other process can open the database)
    touched: TouchedBatteries | None = None
    rule_settings: RuleSettings | None = None
    rules: RuleProcess | None = None

    def log_options(self) -> dict[str, Any]:
        """Keyword arguments for every ``report_events`` call of the API."""
        options = log_options(self.settings)
        if self.touched is not None:
            options["sinks"] = [self.touched]
        return options


def log_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``report_events``: the log's key file and checkpoint policy."""
    return {
        "log_key_file": settings.log_key_file,
        "log_policy": log_service.CheckpointPolicy(
            settings.checkpoint_leaves, settings.checkpoint_seconds
        ),
    }


def context_of(request: Request) -> ApiContext:
    """The :class:`ApiContext` of the app serving ``request``."""
    found: ApiContext = request.app.state.battrace
    return found


__all__ = ["ApiContext", "context_of", "log_options"]
