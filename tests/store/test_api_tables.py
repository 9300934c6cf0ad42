"""The API's tables (tokens, idempotency answers), the party filter and nested writes, on
both engines (the ``store`` and ``world`` fixtures)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from battrace.domain.entities import ApiToken
from battrace.errors import BatchError
from battrace.services.reporting import SourceItem, report_event, report_events
from battrace.store import BatteryFilter, Store
from battrace.store.rows import IdempotentAnswer
from tests.builders import LFP_CELL, LFP_MODULE, code, event, produced, vin
from tests.epcis.stories import every_type_story


def test_tokens_round_trip(world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    owner = firms["battery_maker"].credit_code
    token = ApiToken(
        "0123456789abcdef",
        owner,
        b"\x01" * 32,
        "ERP",
        "2024-01-01T00:00:00.000000Z",
        "2025-01-01T00:00:00.000000Z",
        None,
    )
    with world.write() as tx:
        tx.insert_api_token(token)
    assert world.api_token(token.token_id) == token
    assert world.api_tokens(owner) == [token]
    assert world.api_tokens(firms["recycler"].credit_code) == []
    with world.write() as tx:
        tx.revoke_api_token(token.token_id, "2024-06-01T00:00:00.000000Z")
    revoked = world.api_token(token.token_id)
    assert revoked is not None
    assert revoked.revoked_at == "2024-06-01T00:00:00.000000Z"
    assert not revoked.valid_at("2024-07-01T00:00:00.000000Z")
    assert revoked.valid_at("2024-05-01T00:00:00.000000Z")


def test_idempotent_answers(store: Store) -> None:
    answer = IdempotentAnswer("E1", "k", b"h" * 32, 201, b'{"id":1}', "2024-01-01T00:00:00.000000Z")
    with store.write() as tx:
        assert tx.idempotent_answer("E1", "k") is None
        tx.save_idempotent_answer(answer)
    with store.write() as tx:
        assert tx.idempotent_answer("E1", "k") == answer
        assert tx.idempotent_answer("E2", "k") is None
        tx.forget_idempotent_answers("E1", "2023-12-31T00:00:00.000000Z")
        assert tx.idempotent_answer("E1", "k") == answer
        tx.forget_idempotent_answers("E1", "2024-01-02T00:00:00.000000Z")
        assert tx.idempotent_answer("E1", "k") is None


def test_nested_write_is_a_savepoint(world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker = firms["battery_maker"]
    with world.write():
        report_event(world, produced(maker, [code(n=1)]))
        with pytest.raises(BatchError):
            report_events(world, [SourceItem(produced(maker, [code(n=1)]))])  # twice: refused
        report_event(world, produced(maker, [code(n=2)]))
    assert [e.id for e in world.iter_events()] == [1, 2]

    def fail_after_an_inner_write() -> None:
        with world.write():
            report_event(world, produced(maker, [code(n=3)]))
            raise RuntimeError("the outer write fails after the inner one succeeded")

    with pytest.raises(RuntimeError):
        fail_after_an_inner_write()
    assert world.count("events") == 2
    assert world.log_size() == 2


def test_writes_of_other_threads_wait(world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    """A write opened by another thread does not join this thread's transaction."""
    maker = firms["battery_maker"]
    done: list[int] = []

    def other() -> None:
        done.append(report_event(world, produced(maker, [code(n=9)])).id)

    with world.write():
        report_event(world, produced(maker, [code(n=8)]))
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(0.3)
        assert thread.is_alive()  # blocked on the writer lock
    thread.join(30)
    assert done == [2]


def test_party_filter(world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker, vm, other = firms["battery_maker"], firms["vehicle_maker"], firms["recycler"]
    report_event(world, produced(maker, [code(n=1)]))
    report_event(world, produced(maker, [code(n=2)]))
    report_event(world, event("shipped", maker, [code(n=2)], counterparty=vm))

    def party(name: str) -> list[str]:
        return [b.code for b in world.list_batteries(BatteryFilter(party=name))]

    assert party(maker.credit_code) == [code(n=1), code(n=2)]
    assert party(vm.credit_code) == [code(n=2)]
    assert party(other.credit_code) == []


def test_party_pages_and_filters(world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker, vm = firms["battery_maker"], firms["vehicle_maker"]
    codes = [code(n=i) for i in range(1, 8)]
    report_event(world, produced(maker, codes))
    report_event(world, event("shipped", maker, codes[1::2], counterparty=vm))  # 2, 4, 6
    report_event(world, event("received", vm, codes[1:4:2], counterparty=maker))  # 2, 4

    def page(name: str, **f: Any) -> list[str]:
        return [b.code for b in world.list_batteries(BatteryFilter(party=name, **f))]

    assert page(vm.credit_code) == codes[1::2]
    assert page(vm.credit_code, limit=2) == codes[1:4:2]
    assert page(vm.credit_code, after=codes[3]) == [codes[5]]
    assert page(vm.credit_code, holder=vm.credit_code) == codes[1:4:2]
    assert page(maker.credit_code, after=codes[0], limit=3) == codes[1:4]
    # 6 is on its way to the vehicle maker: still the battery maker's, in stock
    in_stock = [codes[i] for i in (0, 2, 4, 5, 6)]
    assert page(maker.credit_code, state="in_stock", holder=maker.credit_code) == in_stock
    assert page(maker.credit_code, maker=vm.credit_code) == []  # not a maker


def test_party_lists_a_pack_it_holds_through_a_replacement(world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    # a pack put into a vehicle takes the holder of the pack it replaces, who reported none
    # of the new pack's events: still its battery
    maker, vm, repairer = firms["battery_maker"], firms["vehicle_maker"], firms["repairer"]
    old, new = code(n=1), code(n=2)
    report_event(world, produced(maker, [old, new]))
    report_event(world, event("shipped", maker, [old], counterparty=vm))
    report_event(world, event("received", vm, [old], counterparty=maker))
    report_event(world, event("installed", vm, [old], vin=vin(), certificate_date="2024-04-01"))
    report_event(world, event("shipped", maker, [new], counterparty=repairer))
    report_event(world, event("received", repairer, [new], counterparty=maker))
    report_event(world, event("replaced", repairer, [old], vin=vin(), new=new))
    held = world.battery(new)
    assert held is not None
    assert held.holder == vm.credit_code
    listed = [b.code for b in world.list_batteries(BatteryFilter(party=vm.credit_code))]
    assert listed == [old, new]
    assert [b.code for b in world.list_batteries(BatteryFilter(party=vm.credit_code, limit=1))] == [
        old
    ]


def test_readable_batteries_follow_assembly_and_stop_at_the_cap(world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker, vm = firms["battery_maker"], firms["vehicle_maker"]
    cells = [code(level="cell", n=i) for i in (1, 2)]
    module, pack = code(level="module", n=1), code(n=1)
    report_event(world, produced(maker, cells, LFP_CELL))
    report_event(world, produced(maker, [module], LFP_MODULE, children=cells))
    report_event(world, produced(maker, [pack], children=[module]))
    report_event(world, event("shipped", maker, [pack], counterparty=vm))
    report_event(world, event("received", vm, [pack], counterparty=maker))
    # the vehicle maker was party to the pack's events only; it holds the module and the
    # cells through it
    assert world.readable_batteries(vm.credit_code, 10) == sorted([pack, module, *cells])
    assert world.readable_batteries(vm.credit_code, 3) is None
    assert world.readable_batteries(firms["recycler"].credit_code, 10) == []
    recycler = firms["recycler"].credit_code
    rows = world.reader_events([module, pack], recycler, 0, 10)
    # the module's making, the pack's (which names it), shipped, received
    assert [r.id for r in rows] == [2, 3, 4, 5]
    assert rows[0] == world.event(2)
    assert [r.id for r in world.reader_events([module, pack], recycler, 2, 2)] == [3, 4]
    assert world.reader_events([], recycler, 0, 10) == []


def test_reader_events_find_events_without_batteries(world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    for item in every_type_story(firms):
        report_event(world, item)
    (batteryless,) = [e for e in world.iter_events() if not e.batteries]
    assert world.reader_events([], batteryless.actor, 0, 100) == [batteryless]
    assert world.reader_events([], batteryless.actor, batteryless.id, 100) == []
    assert world.reader_events([], firms["recycler"].credit_code, 0, 100) == []
