"""One conformance suite, run against SQLite and PostgreSQL (the ``store`` fixture)."""

from __future__ import annotations

import pytest

from battrace.codes.credit import generate_credit_code
from battrace.errors import BatchError
from battrace.services.demo import DemoFirm, register_demo_firm
from battrace.services.reporting import SourceItem, report_event, report_events
from battrace.store import BatteryFilter, Store, open_store
from battrace.store.schema import SCHEMA_VERSION
from tests.builders import code, event, produced


def test_migrate_is_idempotent(store: Store) -> None:
    assert store.schema_version() == SCHEMA_VERSION
    assert store.migrate() == 0
    assert store.schema_version() == SCHEMA_VERSION


def test_event_ids_are_dense_and_ordered(world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker = firms["battery_maker"]
    first = report_event(world, produced(maker, [code(n=1)]))
    result = report_events(world, [SourceItem(produced(maker, [code(n=i)])) for i in (2, 3, 4)])
    assert first.id == 1
    assert (result.first_id, result.last_id, result.accepted) == (2, 4, 3)
    assert [e.id for e in world.iter_events()] == [1, 2, 3, 4]


def test_failed_batch_writes_nothing(world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker, vm = firms["battery_maker"], firms["vehicle_maker"]
    items = [
        SourceItem(produced(maker, [code(n=1)])),
        SourceItem(event("shipped", maker, [code(n=1)], counterparty=vm)),
        SourceItem(event("received", firms["dealer"], [code(n=1)])),  # not addressed to dealer
    ]
    with pytest.raises(BatchError) as info:
        report_events(world, items)
    assert info.value.index == 2
    assert info.value.rule == "receipt_needs_shipment"
    assert world.count("events") == 0
    assert world.count("batteries") == 0
    assert world.count("event_batteries") == 0


def test_batch_spanning_chunks_sees_its_own_writes(world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker, vm = firms["battery_maker"], firms["vehicle_maker"]
    items = [SourceItem(produced(maker, [code(n=i)])) for i in range(1, 8)]
    items += [
        SourceItem(event("shipped", maker, [code(n=i)], counterparty=vm)) for i in range(1, 8)
    ]
    result = report_events(world, items, chunk_size=3)
    assert result.accepted == 14
    assert {b.pending_to for b in world.list_batteries(BatteryFilter())} == {vm.credit_code}


def test_reads(world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker, vm = firms["battery_maker"], firms["vehicle_maker"]
    for i in (1, 2, 3):
        report_event(world, produced(maker, [code(n=i)]))
    report_event(world, event("shipped", maker, [code(n=2)], counterparty=vm))
    battery = world.battery(code(n=2))
    assert battery is not None
    assert battery.pending_to == vm.credit_code
    assert [e.type for e in world.history(code(n=2))] == ["produced", "shipped"]
    pending = world.pending_shipments(vm.credit_code)
    assert [(b.code, e.type) for b, e in pending] == [(code(n=2), "shipped")]
    page = world.list_batteries(BatteryFilter(maker=maker.credit_code, limit=2))
    assert [b.code for b in page] == sorted(code(n=i) for i in (1, 2, 3))[:2]
    rest = world.list_batteries(BatteryFilter(maker=maker.credit_code, after=page[-1].code))
    assert len(rest) == 1
    assert world.list_batteries(BatteryFilter(province="110000")) == []
    assert len(world.list_batteries(BatteryFilter(province=maker.division[:2] + "0000"))) == 3
    assert world.event(99) is None


def test_a_makers_batteries_are_the_codes_of_its_manufacturer_code(world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    # neighbours in code order, across a digit-to-letter step and a carry (N19 | N1A,
    # N1Z | N20), beside the demo makers N1D and S2C
    makers = [firms["battery_maker"]]
    for n, prefix in enumerate(("N19", "N1A", "N1Z", "N20"), start=1):
        maker = DemoFirm(
            generate_credit_code("350900", 900 + n),
            f"Maker {prefix}",
            ("battery_maker",),
            "350900",
            prefix,
        )
        register_demo_firm(world, maker)
        makers.append(maker)
    made: dict[str, list[str]] = {}
    for maker in makers:
        assert maker.manufacturer_code is not None
        codes = [code(maker.manufacturer_code, n=i) for i in (1, 2, 3)]
        report_events(world, [SourceItem(produced(maker, [c])) for c in codes])
        made[maker.credit_code] = sorted(codes)
    for maker in makers:
        found = world.list_batteries(BatteryFilter(maker=maker.credit_code))
        assert [b.code for b in found] == made[maker.credit_code]
        assert {b.maker for b in found} == {maker.credit_code}
        first = world.list_batteries(BatteryFilter(maker=maker.credit_code, limit=2))
        rest = world.list_batteries(BatteryFilter(maker=maker.credit_code, after=first[-1].code))
        assert [b.code for b in first + rest] == made[maker.credit_code]
    # not a maker, or nobody: no batteries (not everything)
    assert world.list_batteries(BatteryFilter(maker=firms["vehicle_maker"].credit_code)) == []
    assert world.list_batteries(BatteryFilter(maker=generate_credit_code("110000", 4242))) == []
    # with the other filters
    holder = firms["battery_maker"].credit_code
    assert len(world.list_batteries(BatteryFilter(maker=holder, holder=holder))) == 3
    assert world.list_batteries(BatteryFilter(maker=makers[1].credit_code, holder=holder)) == []


def test_the_registry_version_moves_with_whitelist_changes_and_keys(world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from battrace.ledger.submission import generate_key
    from battrace.services.enterprises import change_whitelist
    from battrace.services.keys import register_key, revoke_key

    dealer = firms["dealer"].credit_code
    seen = [world.registry_version()]
    register_demo_firm(  # a new enterprise changes no kept one: the version stays
        world, DemoFirm(generate_credit_code("350100", 7777), "New", ("repairer",), "350100")
    )
    assert world.registry_version() == seen[-1]
    change_whitelist(world, dealer, listed=True, effective_date=date(2020, 1, 1))
    seen.append(world.registry_version())
    key = register_key(world, dealer, generate_key()[1])
    seen.append(world.registry_version())
    revoke_key(world, key.key_id)
    seen.append(world.registry_version())
    assert len(set(seen)) == 4


def test_reopen_keeps_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from battrace.services.demo import register_demo_firms

    path = tmp_path / "x.db"
    with open_store(path) as s:
        register_demo_firms(s)
    with open_store(path) as s:
        assert s.count("enterprises") == 12


def test_refs_are_unique_per_reporter(world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker, vm = firms["battery_maker"], firms["vehicle_maker"]
    report_event(world, {**produced(maker, [code(n=1)]), "ref": "r-1"})
    # a later chunk of the same batch sees the earlier chunks' refs (one query for all pairs)
    items = [SourceItem({**produced(maker, [code(n=i)]), "ref": f"r-{i}"}) for i in (2, 3, 4)]
    items.append(SourceItem({**produced(maker, [code(n=5)]), "ref": "r-3"}))
    with pytest.raises(BatchError) as info:
        report_events(world, items, chunk_size=2)
    assert (info.value.index, info.value.rule) == (3, "ref_unique")
    assert world.count("events") == 1  # nothing of the failed batch
    with pytest.raises(BatchError) as again:
        report_events(world, [SourceItem({**produced(maker, [code(n=6)]), "ref": "r-1"})])
    assert again.value.rule == "ref_unique"
    # the same ref from another reporter is its own
    shipped = event("shipped", maker, [code(n=1)], counterparty=vm)
    report_event(world, {**shipped, "ref": "s-1"})
    received = report_event(world, {**event("received", vm, [code(n=1)]), "ref": "r-1"})
    assert (received.actor, received.ref) == (vm.credit_code, "r-1")
