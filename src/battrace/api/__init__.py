"""The HTTP API: ``create_app`` builds it, ``battrace serve`` runs it (docs/api.md)."""

from __future__ import annotations

from battrace.api.app import create_app

__all__ = ["create_app"]
