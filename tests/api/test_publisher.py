"""The server publishes a checkpoint every BATTRACE_CHECKPOINT_SECONDS when the log has grown,
even when no write comes to publish it."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from battrace.api import create_app
from battrace.config import load_settings
from battrace.services.demo import demo_firms, register_demo_firms
from battrace.services.reporting import report_event
from battrace.store import open_store
from tests.builders import code, produced


def _log_with_unpublished_leaf(db: Path) -> None:
    maker = next(f for f in demo_firms() if "battery_maker" in f.roles)
    with open_store(db) as store:
        register_demo_firms(store)
        report_event(store, produced(maker, [code(n=1)]))  # the first leaf publishes size 1
        report_event(store, produced(maker, [code(n=2)]))  # not due yet (1000 leaves / 60 s)
        latest = store.latest_checkpoint()
        assert latest is not None
        assert (latest.size, store.log_size()) == (1, 2)


def _published_size(db: Path) -> int:
    with open_store(db) as store:
        latest = store.latest_checkpoint()
        return latest.size if latest is not None else 0


def test_idle_server_publishes_the_grown_log(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    _log_with_unpublished_leaf(db)
    app = create_app(str(db), load_settings({"BATTRACE_CHECKPOINT_SECONDS": "1"}))
    with TestClient(app):
        deadline = time.monotonic() + 20
        while _published_size(db) != 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert _published_size(db) == 2


def test_nothing_is_published_before_the_period(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    _log_with_unpublished_leaf(db)
    app = create_app(str(db), load_settings({"BATTRACE_CHECKPOINT_SECONDS": "3600"}))
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        time.sleep(1.5)
    assert _published_size(db) == 1
