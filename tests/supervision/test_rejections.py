"""Refused reports are recorded (docs/supervision.md "Refused reports"), on both engines: a
state, custody or identity refusal leaves exactly one rejection row and no event; a format
error, a bad signature or an accepted batch leaves none."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
import pytest

from battrace.errors import BatchError, ConflictError, NotFoundError, RuleViolation
from battrace.errors import ValidationError as FieldError
from battrace.ledger.errors import SignatureError
from battrace.ledger.submission import generate_key
from battrace.services.demo import DemoFirm
from battrace.services.keys import register_key
from battrace.services.reporting import SourceItem, report_event, report_events
from battrace.store import Store
from battrace.store.writes import WriteTransaction
from tests.api.conftest import build_world
from tests.builders import code, event, produced, vin

Firms = dict[str, DemoFirm]


def _recycled(store: Store, firms: Firms, pack: str) -> None:
    """Report ``pack``'s whole life, from production to recycling."""
    maker, vm, dealer = firms["battery_maker"], firms["vehicle_maker"], firms["dismantler"]
    outlet, recycler = firms["collection_outlet"], firms["recycler"]
    car = vin(7)
    for data in (
        produced(maker, [pack]),
        event("shipped", maker, [pack], counterparty=vm),
        event("received", vm, [pack], counterparty=maker),
        event("installed", vm, [pack], vin=car, certificate_date="2024-04-01"),
        event("vehicle_sold", vm, [pack], vin=car, buyer_region="310000"),
        event("vehicle_scrapped", dealer, [pack], vin=car),
        event("removed", dealer, [pack], vin=car),
        event("shipped", dealer, [pack], counterparty=outlet),
        event("collected", outlet, [pack], counterparty=dealer),
        event("shipped", outlet, [pack], counterparty=recycler),
        event("received", recycler, [pack]),
        event("recycled", recycler, [pack], input_mass_kg="400", outputs={"li": "3.8"}),
    ):
        report_event(store, data)


def test_refused_reregistration_is_recorded(world: Store, firms: Firms) -> None:
    maker = firms["battery_maker"]
    report_event(world, produced(maker, [code(n=1)]))
    again = {**produced(maker, [code(n=1)]), "ref": "again-1"}
    with pytest.raises(ConflictError, match="registered_once"):
        report_event(world, again)
    assert world.count("events") == 1
    [row] = world.rejections()
    assert row.rule == "registered_once"
    assert row.field == "batteries[0]"
    assert (row.actor, row.type, row.batteries) == (maker.credit_code, "produced", (code(n=1),))
    assert row.occurred_at == "2024-03-14T16:00:00.000000Z"
    assert "registered once" in row.message
    assert row.event is not None
    assert orjson.loads(row.event) == again
    assert row.received_at.endswith("Z")
    assert row.to_dict()["event"] == again


def test_event_after_recycling_is_recorded(world: Store, firms: Firms) -> None:
    _recycled(world, firms, code(n=2))
    events = world.count("events")
    with pytest.raises(RuleViolation, match="after_end_of_life"):
        report_event(world, event("tested", firms["recycler"], [code(n=2)], soh_percent="50"))
    assert world.count("events") == events
    [row] = world.rejections()
    assert (row.rule, row.field, row.type) == ("after_end_of_life", "batteries[0]", "tested")
    assert row.actor == firms["recycler"].credit_code


def test_event_for_unknown_code_is_recorded(world: Store, firms: Firms) -> None:
    maker, vm = firms["battery_maker"], firms["vehicle_maker"]
    with pytest.raises(NotFoundError):
        report_event(world, event("shipped", maker, [code(n=3)], counterparty=vm))
    assert world.count("events") == 0
    [row] = world.rejections()
    assert (row.rule, row.field, row.batteries) == ("registered", "batteries[0]", (code(n=3),))


def test_field_names_the_refused_battery_of_several(world: Store, firms: Firms) -> None:
    maker, vm = firms["battery_maker"], firms["vehicle_maker"]
    report_event(world, produced(maker, [code(n=4)]))
    with pytest.raises(NotFoundError):
        report_event(world, event("shipped", maker, [code(n=4), code(n=5)], counterparty=vm))
    assert world.rejections()[0].field == "batteries[1]"


def test_refused_item_of_a_batch_is_the_only_row(world: Store, firms: Firms) -> None:
    maker = firms["battery_maker"]
    items = [
        SourceItem(produced(maker, [code(n=6)])),
        SourceItem(produced(maker, [code(n=7)])),
        SourceItem(produced(maker, [code(n=6)])),  # the batch's own first item registered it
    ]
    with pytest.raises(BatchError) as info:
        report_events(world, items)
    assert info.value.index == 2
    assert (world.count("events"), world.count("batteries")) == (0, 0)
    [row] = world.rejections()
    assert (row.rule, row.batteries) == ("registered_once", (code(n=6),))


def test_duplicate_ref_is_recorded(world: Store, firms: Firms) -> None:
    maker = firms["battery_maker"]
    report_event(world, {**produced(maker, [code(n=8)]), "ref": "r-1"})
    with pytest.raises(ConflictError):
        report_event(world, {**produced(maker, [code(n=9)]), "ref": "r-1"})
    assert [(r.rule, r.field) for r in world.rejections()] == [("ref_unique", "ref")]


def test_format_error_is_not_recorded(world: Store, firms: Firms) -> None:
    maker = firms["battery_maker"]
    with pytest.raises(FieldError):
        report_event(world, {**produced(maker, [code(n=1)]), "type": "nope"})
    with pytest.raises(FieldError):  # a value the state machine checks as a format rule
        report_event(world, {**produced(maker, [code(n=1)]), "reported_at": "2024-03-20"})
    assert world.rejections() == []


def test_signature_error_is_not_recorded(world: Store, firms: Firms) -> None:
    maker = firms["battery_maker"]
    register_key(world, maker.credit_code, generate_key()[1])
    with pytest.raises(SignatureError):
        report_event(world, produced(maker, [code(n=1)]))
    assert world.rejections() == []


def test_accepted_batch_is_not_recorded(world: Store, firms: Firms) -> None:
    maker = firms["battery_maker"]
    report_events(world, [SourceItem(produced(maker, [code(n=i)])) for i in (1, 2, 3)])
    assert world.rejections() == []


def test_rejections_filter_by_rule_and_id(world: Store, firms: Firms) -> None:
    maker, vm = firms["battery_maker"], firms["vehicle_maker"]
    report_event(world, produced(maker, [code(n=1)]))
    for data in (
        produced(maker, [code(n=1)]),
        event("shipped", maker, [code(n=2)], counterparty=vm),
        produced(maker, [code(n=1)]),
    ):
        with pytest.raises((ConflictError, NotFoundError)):
            report_event(world, data)
    rows = world.rejections()
    assert [r.rule for r in rows] == ["registered_once", "registered", "registered_once"]
    assert [r.id for r in world.rejections(["registered_once"])] == [rows[0].id, rows[2].id]
    assert world.rejections(["registered"], after_id=rows[1].id) == []
    assert [r.id for r in world.rejections(after_id=rows[0].id)] == [rows[1].id, rows[2].id]
    assert [r.id for r in world.rejections(limit=1)] == [rows[0].id]
    assert world.rejections(rules=[]) == []


def test_trusted_report_time_is_the_refusal_time(world: Store, firms: Firms) -> None:
    maker = firms["battery_maker"]
    report_event(world, produced(maker, [code(n=1)]))
    late = {**produced(maker, [code(n=1)]), "reported_at": "2024-03-20T10:00:00+08:00"}
    with pytest.raises(ConflictError):
        report_event(world, late, trust_reported_at=True)
    assert world.rejections()[0].received_at == "2024-03-20T02:00:00.000000Z"


def test_refusal_inside_an_outer_write_is_recorded_after_it(world: Store, firms: Firms) -> None:
    """The API reports inside its request's transaction: the refusal survives its rollback."""
    maker = firms["battery_maker"]
    report_event(world, produced(maker, [code(n=1)]))

    def refused_in_outer_write() -> None:
        with world.write():
            try:
                report_events(world, [SourceItem(produced(maker, [code(n=1)]))])
            finally:
                assert world.rejections() == []  # not yet: the outer write is open

    with pytest.raises(BatchError):
        refused_in_outer_write()
    assert [r.rule for r in world.rejections()] == ["registered_once"]
    # and when the outer transaction commits (per-item batches, group commit)
    with world.write():
        with pytest.raises(BatchError):
            report_events(world, [SourceItem(produced(maker, [code(n=1)]))])
        report_event(world, produced(maker, [code(n=2)]))
    assert len(world.rejections()) == 2
    assert world.count("events") == 2


def test_failing_to_record_never_changes_the_answer(
    world: Store,
    firms: Firms,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    maker = firms["battery_maker"]
    report_event(world, produced(maker, [code(n=1)]))

    def broken(self: WriteTransaction, rows: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(WriteTransaction, "insert_rejections", broken)
    with caplog.at_level(logging.ERROR), pytest.raises(ConflictError, match="registered_once"):
        report_event(world, produced(maker, [code(n=1)]))
    assert "recording 1 refused report(s) failed" in caplog.text
    assert world.count("events") == 1


def test_api_refusals_are_recorded(tmp_path: Path) -> None:
    """Through the API: a single report (group commit), an all-or-nothing batch (rolled back
    with its request) and a per-item batch (committed with it)."""
    with build_world(tmp_path / "api.db") as w:
        h = w.auth("maker")
        taken = {**w.new_battery_event(), "batteries": [w.battery]}
        one = w.client.post("/api/v1/events", json=taken, headers=h)
        assert one.status_code == 409, one.text
        batch = w.client.post(
            "/api/v1/events/batch", json=[w.new_battery_event(), taken], headers=h
        )
        assert batch.status_code == 422, batch.text
        per_item = w.client.post(
            "/api/v1/events/batch",
            params={"mode": "per_item"},
            json=[taken, w.new_battery_event()],
            headers=h,
        )
        assert per_item.json()["accepted"] == 1
        bad = w.client.post("/api/v1/events", json={**taken, "type": "nope"}, headers=h)
        assert bad.status_code == 422
        rows = w.store.rejections()
        assert [r.rule for r in rows] == ["registered_once"] * 3
        assert {r.batteries for r in rows} == {(w.battery,)}
