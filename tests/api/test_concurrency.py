"""Concurrent clients against a live server: every write is acknowledged once, ids stay dense,
reads never see a write in progress, and the log still verifies."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from battrace.api import create_app
from battrace.services import log
from battrace.services.audit import verify_log
from tests.api.conftest import build_world, live_server


def test_concurrent_reports_and_reads(tmp_path: Path) -> None:
    with build_world(tmp_path / "busy.db") as world:
        events = [world.new_battery_event() for _ in range(96)]
        before = world.store.count("events")
        errors: list[str] = []
        lock = threading.Lock()
        with live_server(create_app(world.store.location, world.settings)) as url:

            def report(index: int) -> int:
                with httpx.Client(base_url=url, headers=world.auth("maker"), timeout=30) as c:
                    answer = c.post("/api/v1/events", json=events[index])
                    # a reader in between: its view is always a committed state
                    page = c.get("/api/v1/batteries", params={"limit": 1000})
                    if page.status_code != 200:
                        with lock:
                            errors.append(page.text)
                    return answer.status_code

            with ThreadPoolExecutor(max_workers=12) as pool:
                statuses = list(pool.map(report, range(len(events))))
        assert errors == []
        assert statuses == [201] * len(events)
        ids = [e.id for e in world.store.iter_events()]
        assert ids == list(range(1, before + len(events) + 1))
        assert verify_log(world.store, log.log_verifier_key(world.store)).ok
