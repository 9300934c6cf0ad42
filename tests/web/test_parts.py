"""The dashboard's parts: the province grid, the figure cache, the per-event proof check."""

from __future__ import annotations

import re
import sqlite3
import time
from contextlib import nullcontext
from pathlib import Path

from battrace.codes.division import PROVINCES
from battrace.services.reporting import report_event
from battrace.store.base import Store
from battrace.web import tilemap
from battrace.web.figcache import FigureCache
from battrace.web.pages import custody_chain
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


def test_the_figure_cache_keeps_figures_and_refreshes_them_in_the_background(
    tmp_path: Path,
) -> None:
    with build_world(tmp_path / "figures.db") as world:
        now = [0.0]

        def reading() -> nullcontext[Store]:
            return nullcontext(world.store)

        cache = FigureCache(reading, ttl=60, clock=lambda: now[0])
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
