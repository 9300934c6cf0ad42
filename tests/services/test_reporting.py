"""The reporting path: refs, corrections, report times, errors naming item and line."""

from __future__ import annotations

import pytest

from battrace.errors import BatchError, ConflictError, NotFoundError, RuleViolation, ValidationError
from battrace.services.queries import battery_view
from battrace.services.reporting import SourceItem, report_event, report_events
from battrace.store import Store
from tests.builders import code, event, produced


def test_ref_is_unique_per_actor(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker = firms["battery_maker"]
    report_event(sqlite_world, {**produced(maker, [code(n=1)]), "ref": "r-1"})
    with pytest.raises(ConflictError, match="ref_unique"):
        report_event(sqlite_world, {**produced(maker, [code(n=2)]), "ref": "r-1"})
    with pytest.raises(BatchError, match="ref_unique"):
        report_events(
            sqlite_world,
            [SourceItem({**produced(maker, [code(n=i)]), "ref": "dup"}) for i in (3, 4)],
        )
    assert sqlite_world.count("events") == 1
    report_event(sqlite_world, {**produced(maker, [code(n=5)]), "ref": "r-2"})
    assert sqlite_world.event_by_ref(maker.credit_code, "r-2") is not None


def test_reported_at_is_platform_set_unless_trusted(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker = firms["battery_maker"]
    data = {**produced(maker, [code(n=1)]), "reported_at": "2024-03-20T10:00:00+08:00"}
    with pytest.raises(ValidationError, match="reported_at"):
        report_event(sqlite_world, data)
    stored = report_event(sqlite_world, data, trust_reported_at=True)
    assert stored.reported_at == "2024-03-20T02:00:00.000000Z"
    fresh = report_event(sqlite_world, produced(maker, [code(n=2)]))
    assert fresh.reported_at > "2026"


def test_correction_refers_to_own_earlier_event(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker = firms["battery_maker"]
    original = report_event(sqlite_world, produced(maker, [code(n=1)]))
    fix = {"corrects": original.id, "reason": "mass typo", "changes": {"body": {"mass_kg": "401"}}}
    with pytest.raises(RuleViolation, match="own_events_only"):
        report_event(sqlite_world, event("correction", firms["recycler"], [], **fix))
    with pytest.raises(NotFoundError):
        report_event(sqlite_world, event("correction", maker, [], **{**fix, "corrects": 42}))
    bad = {**fix, "changes": {"body": {"mass_kg": "-1"}}}
    with pytest.raises(ValidationError, match=r"body\.changes\.body\.mass_kg"):
        report_event(sqlite_world, event("correction", maker, [], **bad))
    with pytest.raises(ValidationError, match="cannot correct actor"):
        report_event(
            sqlite_world, event("correction", maker, [], **{**fix, "changes": {"actor": "x"}})
        )
    stored = report_event(sqlite_world, event("correction", maker, [], **fix))
    assert stored.batteries == [code(n=1)]
    assert stored.corrects == original.id
    history = battery_view(sqlite_world, code(n=1))["history"]
    assert history[0]["corrected_by"] == [stored.id]
    assert history[0]["effective"]["body"]["mass_kg"] == "401"
    assert history[0]["body"]["mass_kg"] == "400"  # the original is never edited


def test_batch_error_names_item_and_line(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker = firms["battery_maker"]
    items = [SourceItem(produced(maker, [code(n=1)]), line=1), SourceItem({"type": "nope"}, line=2)]
    with pytest.raises(BatchError) as info:
        report_events(sqlite_world, items)
    err = info.value
    assert (err.index, err.line, err.field) == (1, 2, "type")
    assert "line 2" in err.message
    assert err.to_dict()["error"]["cause"]["field"] == "type"


def test_empty_batch(sqlite_world: Store) -> None:
    result = report_events(sqlite_world, [])
    assert (result.accepted, result.first_id, result.last_id) == (0, None, None)
