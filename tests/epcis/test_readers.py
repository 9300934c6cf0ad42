"""An enterprise's EPCIS query goes through its own batteries' events, and a page examines a
bounded number of events: the same answers as a scan of every event, in bounded time."""

from __future__ import annotations

from typing import Any

import pytest

from battrace.domain.access import Caller
from battrace.epcis.service import next_page_token, query_events
from battrace.services.access import may_read_event
from battrace.services.demo import DemoFirm, demo_events, demo_firms
from battrace.services.reporting import SourceItem, report_event, report_events
from battrace.store import Store
from tests.epcis.stories import every_type_story


@pytest.fixture
def world(sqlite_world: Store) -> Store:
    """A SQLite store with the demo enterprises (the reader path is the store's SQL, tested on
    both engines in tests/store)."""
    return sqlite_world


def _ids(
    store: Store, enterprise: str, *, reader: bool, scan: int = 10_000, **params: str
) -> tuple[list[str], int]:
    """Every event id ``enterprise`` reads, page by page, and the number of pages."""
    found = store.enterprise(enterprise)
    caller = Caller(found)
    ids: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        query = {"perPage": "4", **params, **({"nextPageToken": token} if token else {})}
        document = query_events(
            store,
            query,
            visible=lambda row: may_read_event(store, caller, row),
            reader=enterprise if reader else None,
            scan=scan,
        )
        pages += 1
        ids += [
            e["eventID"] for e in document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        ]
        token = next_page_token(document)
        if token is None:
            return ids, pages


def _enterprises() -> list[DemoFirm]:
    return [f for f in demo_firms() if "regulator" not in f.roles]


def test_a_readers_events_are_those_a_scan_finds(world: Store) -> None:
    report_events(world, (SourceItem(e) for e in demo_events(12)), trust_reported_at=True)
    total = world.count("events")
    seen = []
    for firm in _enterprises():
        through_batteries, _ = _ids(world, firm.credit_code, reader=True)
        scanned, _ = _ids(world, firm.credit_code, reader=False)
        assert through_batteries == scanned, firm.credit_code
        seen.append(len(scanned))
    assert max(seen) > 4  # several pages for some
    assert 0 < min(s for s in seen if s) < total  # and not every event for anyone


def test_every_event_type_is_found_through_the_readers_batteries(
    world: Store, firms: dict[str, DemoFirm]
) -> None:
    for item in every_type_story(firms):
        report_event(world, item)
    for firm in _enterprises():
        assert _ids(world, firm.credit_code, reader=True) == _ids(
            world, firm.credit_code, reader=False
        )
    # a vehicle scrapped without its pack touches no battery: its reporter reads it still
    (batteryless,) = [e for e in world.iter_events() if not e.batteries]
    reporter = batteryless.actor
    assert f"urn:battrace:event:{batteryless.id}" in _ids(world, reporter, reader=True)[0]


def test_a_page_examines_at_most_scan_events(world: Store) -> None:
    report_events(world, (SourceItem(e) for e in demo_events(6)), trust_reported_at=True)
    firm = _enterprises()[0].credit_code
    everything, pages = _ids(world, firm, reader=False)
    assert everything
    step, small_pages = _ids(world, firm, reader=False, scan=3)
    assert step == everything
    assert small_pages >= world.count("events") // 3  # pages of three events examined
    assert small_pages > pages


def _query(store: Store, **params: Any) -> dict[str, Any]:
    return query_events(store, {"perPage": "1", **params})


def test_the_last_match_ends_the_pages(world: Store) -> None:
    report_events(world, (SourceItem(e) for e in demo_events(3)), trust_reported_at=True)
    # the first event's type is made only at the start: events of other types follow it
    first = _query(world)
    assert next_page_token(first) is not None
    kinds = first["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]["battrace:type"]
    only = query_events(world, {"EQ_battrace:type": kinds, "perPage": "1000"})
    matches = only["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert next_page_token(only) is None
    last = query_events(world, {"EQ_battrace:type": kinds, "perPage": str(len(matches))})
    assert next_page_token(last) is None  # no page after the last match, however many follow
    shorter = query_events(world, {"EQ_battrace:type": kinds, "perPage": str(len(matches) - 1)})
    assert next_page_token(shorter) is not None
