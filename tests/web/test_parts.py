"""The dashboard's parts: the province grid, the figure cache, the per-event proof check."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import time
from contextlib import nullcontext
from pathlib import Path

import pytest

from battrace.codes.division import PROVINCES
from battrace.config import load_settings
from battrace.errors import ValidationError
from battrace.services.reporting import report_event
from battrace.store import open_store
from battrace.store.base import Store
from battrace.supervision.process import WORKER_NICENESS
from battrace.web import tilemap
from battrace.web.figcache import WARM_UP, FigureCache, FigureEngine, FigureProcess
from battrace.web.pages import custody_chain
from battrace.web.routes import web_state
from tests.api.conftest import build_world


def test_the_grid_places_each_mainland_province_once() -> None:
    mainland = {code for code in PROVINCES if code not in ("71", "81", "82")}
    assert set(tilemap.GRID) == mainland
    assert len(mainland) == 31
    assert len(set(tilemap.GRID.values())) == 31
    assert min(x for x, _ in tilemap.GRID.values()) == 0
    assert min(y for _, y in tilemap.GRID.values()) == 0


def test_tiles_colour_by_value_and_link_where_allowed() -> None:
    values: dict[str, float | None] = {"440000": 10.0, "110000": 0.0, "350000": None}
    tiles = tilemap.tiles(values, {"440000": "10"}, "zh", linked={"440000"})
    by_code = {t.code: t for t in tiles}
    assert len(tiles) == 31
    assert by_code["440000"].color == tilemap.colour(1.0)
    assert by_code["110000"].color == tilemap.colour(0.0)
    assert by_code["350000"].color == tilemap.NO_DATA
    assert by_code["440000"].href == "/ui/province/440000"
    assert by_code["110000"].href is None
    assert by_code["440000"].abbr == "广东"
    assert by_code["450000"].abbr == "广西"
    assert tilemap.tiles({}, {}, "en")[0].href is not None


def test_custody_follows_handovers_and_the_private_owner() -> None:
    code = "X"
    history = [
        {"id": 1, "type": "produced", "actor": "A", "batteries": [code], "occurred_at": "1"},
        {"id": 2, "type": "shipped", "actor": "A", "batteries": [code], "occurred_at": "2"},
        {"id": 3, "type": "received", "actor": "B", "batteries": [code], "occurred_at": "3"},
        {"id": 4, "type": "installed", "actor": "B", "batteries": [code], "occurred_at": "4"},
        {"id": 5, "type": "vehicle_sold", "actor": "B", "batteries": [code], "occurred_at": "5"},
        {"id": 6, "type": "repaired", "actor": "R", "batteries": [code], "occurred_at": "6"},
        {"id": 7, "type": "removed", "actor": "D", "batteries": [code], "occurred_at": "7"},
        {"id": 8, "type": "replaced", "actor": "E", "batteries": ["Y"], "occurred_at": "8"},
    ]
    chain = custody_chain(code, history)
    assert [(c.holder, c.event) for c in chain] == [("A", 1), ("B", 3), ("owner", 5), ("D", 7)]


def _wait_for(check: object, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.parametrize("in_process", [False, True], ids=["thread", "worker process"])
def test_the_figure_cache_keeps_figures_and_refreshes_them_in_the_background(
    tmp_path: Path, in_process: bool
) -> None:
    db = tmp_path / "figures.db"
    with build_world(db) as world:
        now = [0.0]

        def reading() -> nullcontext[Store]:
            return nullcontext(world.store)

        target = str(db) if in_process else None
        cache = FigureCache(reading, ttl=60, clock=lambda: now[0], target=target)
        assert isinstance(cache.figures, FigureProcess if in_process else FigureEngine)
        try:
            first = cache.get("trend")
            assert first.rows
            assert cache.get("trend") is first
            assert cache.peek("trend") is first
            report_event(world.store, world.new_battery_event())
            assert cache.get("trend") is first  # younger than the ttl: kept as it is
            now[0] = 61.0
            assert cache.get("trend") is first  # stale: served, and refreshed behind
            _wait_for(lambda: cache.get("trend").version > first.version)
            fresh = cache.get("trend")
            assert sum(r["produced"] for r in fresh.rows) == 1 + sum(
                r["produced"] for r in first.rows
            )
            assert fresh.as_of >= first.as_of
            assert cache.get("flows", province="35").kind == "flows"
            with pytest.raises(ValidationError) as bad:  # checked before any engine is asked
                cache.get("flows", province="99")
            assert bad.value.field == "province"
        finally:
            cache.close()


def test_the_worker_process_computes_what_the_thread_computes(tmp_path: Path) -> None:
    db = tmp_path / "same.db"
    with build_world(db) as world:

        def reading() -> nullcontext[Store]:
            return nullcontext(world.store)

        here = FigureCache(reading)
        there = FigureCache(reading, target=str(db))
        try:
            assert isinstance(there.figures, FigureProcess)
            assert there.figures.pid() != os.getpid()
            for kind in WARM_UP:
                assert there.get(kind).rows == here.get(kind).rows, kind
            assert there.get("trend", province="35").rows == here.get("trend", province="35").rows
        finally:
            here.close()
            there.close()


def test_the_figure_worker_runs_below_the_server_s_priority(tmp_path: Path) -> None:
    db = tmp_path / "nice.db"
    open_store(db).close()
    figures = FigureProcess(str(db))
    try:
        assert figures._process.call(os.nice, 0) == os.nice(0) + WORKER_NICENESS
    finally:
        figures.close()


def test_a_figure_worker_that_died_is_replaced(tmp_path: Path) -> None:
    db = tmp_path / "dies.db"
    with build_world(db) as world:
        cache = FigureCache(lambda: nullcontext(world.store), target=str(db))
        try:
            assert isinstance(cache.figures, FigureProcess)
            first = cache.figures.pid()
            assert cache.get("trend").rows
            os.kill(first, signal.SIGKILL)
            # the next figure is asked of a new worker (the first attempt finds the old dead)
            assert cache.get("collection").kind == "collection"
            assert cache.figures.pid() not in (first, os.getpid())
        finally:
            cache.close()


def test_closing_the_cache_stops_a_busy_figure_worker_at_once(tmp_path: Path) -> None:
    db = tmp_path / "busy.db"
    open_store(db).close()
    cache = FigureCache(nullcontext, target=str(db))  # type: ignore[arg-type]
    assert isinstance(cache.figures, FigureProcess)
    pid = cache.figures.pid()
    busy = cache.figures._process.pool().submit(time.sleep, 120)  # a long build, say
    began = time.monotonic()
    cache.close()
    assert time.monotonic() - began < 20
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert busy.done()


def test_an_in_memory_store_keeps_the_figures_in_the_thread() -> None:
    with open_store(":memory:") as store:
        cache = FigureCache(lambda: nullcontext(store), target=":memory:")
        try:
            assert isinstance(cache.figures, FigureEngine)  # no other process can open it
            with pytest.raises(ValidationError) as refused:  # nor can DuckDB: said clearly
                cache.get("trend")
            assert refused.value.rule == "file_database"
        finally:
            cache.close()


def test_each_event_proof_is_checked_against_the_signed_checkpoint(tmp_path: Path) -> None:
    with build_world(tmp_path / "proofs.db") as world:
        client = world.client
        client.post("/ui/login", data={"token": world.tokens["national"]})
        page = client.get(f"/ui/battery/{world.battery}").text
        assert re.findall(r'data-proof="(\w+)"', page) == ["verified"]
        # the shipped battery's later events come after the first checkpoint: pending
        later = re.findall(r'data-proof="(\w+)"', client.get(f"/ui/battery/{world.shipped}").text)
        assert set(later) <= {"verified", "pending"}
        # edit the stored event behind the log's back: its proof no longer holds
        with sqlite3.connect(tmp_path / "proofs.db") as raw:
            raw.execute(
                "UPDATE events SET place = '440300' WHERE id = ("
                " SELECT event_id FROM event_batteries WHERE code = ? ORDER BY event_id LIMIT 1)",
                (world.battery,),
            )
        tampered = client.get(f"/ui/battery/{world.battery}").text
        assert re.findall(r'data-proof="(\w+)"', tampered) == ["failed"]
        assert "proof-failed" in tampered


@pytest.mark.parametrize(
    ("environ", "kind", "ttl"),
    [
        ({}, FigureProcess, 60),
        ({"BATTRACE_WEB_FIGURE_WORKER": "thread"}, FigureEngine, 60),
        ({"BATTRACE_WEB_FIGURE_SECONDS": "5"}, FigureProcess, 5),
    ],
    ids=["default", "thread", "ttl"],
)
def test_the_app_puts_the_figures_where_the_settings_say(
    tmp_path: Path, environ: dict[str, str], kind: type, ttl: int
) -> None:
    with build_world(tmp_path / "app.db", load_settings(environ)) as world:
        cache = web_state(world.client.app).figures
        assert isinstance(cache.figures, kind)
        assert cache.ttl == ttl


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("BATTRACE_WEB_FIGURE_WORKER", "fork", "one_of"),
        ("BATTRACE_WEB_FIGURE_SECONDS", "0", "positive_integer"),
        ("BATTRACE_WEB_FIGURE_SECONDS", "soon", "positive_integer"),
    ],
)
def test_bad_figure_settings_are_refused_at_start(variable: str, value: str, rule: str) -> None:
    with pytest.raises(ValidationError) as raised:
        load_settings({variable: value})
    assert raised.value.field == variable
    assert raised.value.rule == rule


def test_closing_during_a_figure_starts_no_other_worker(tmp_path: Path) -> None:
    import multiprocessing

    db = tmp_path / "closing.db"
    open_store(db).close()
    before = {p.pid for p in multiprocessing.active_children()}  # earlier tests' workers
    cache = FigureCache(nullcontext, target=str(db))  # type: ignore[arg-type]
    assert isinstance(cache.figures, FigureProcess)
    figures = cache.figures
    pid = figures.pid()
    # the cache's thread waits on a long job in the worker, as on a build of the facts
    job = cache._executor.submit(figures._call, time.sleep, 120)
    time.sleep(0.5)
    cache.close()
    # the job's worker died under it; asking again would have started another: it may not
    with pytest.raises(RuntimeError, match="closed"):
        job.result(timeout=30)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not {p.pid for p in multiprocessing.active_children()} - before
