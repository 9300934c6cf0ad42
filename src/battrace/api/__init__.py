"""The HTTP API: ``create_app`` builds it, ``battrace serve`` runs it (docs/api.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from battrace.api.app import create_app


def __getattr__(name: str) -> Any:
    # the app is imported when asked for: the report writer's process (api/report_process.py)
    # imports this package for its writer alone, and the app's import costs seconds
    if name == "create_app":
        from battrace.api.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["create_app"]
