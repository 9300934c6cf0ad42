from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from battrace.codes import generate_credit_code
from battrace.errors import ConflictError, NotFoundError, ValidationError
from battrace.services.enterprises import (
    RegistryCache,
    change_whitelist,
    enterprise_view,
    register_enterprise,
    whitelisted_on,
)
from battrace.store import Store

CODE = generate_credit_code("310000", 4242)


def _register(store: Store, **over: object) -> object:
    args: dict[str, object] = {
        "credit_code": CODE,
        "name": "Acme Recycling",
        "roles": "recycler",
        "division": "310115",
    }
    args.update(over)
    return register_enterprise(store, **args)  # type: ignore[arg-type]


def test_register_and_read_back(store: Store) -> None:
    created = _register(store, whitelisted_since=date(2020, 1, 1))
    found = store.enterprise(CODE)
    assert found == created
    assert found is not None
    assert found.whitelisted
    assert found.province == "310000"
    assert [e.id for e in store.list_enterprises(role="recycler")] == [CODE]
    assert store.list_enterprises(role="dealer") == []


@pytest.mark.parametrize(
    ("over", "field", "rule"),
    [
        ({"credit_code": CODE[:-1] + ("0" if CODE[-1] != "0" else "1")}, "credit_code", None),
        ({"name": "  "}, "name", "length"),
        ({"roles": "alchemist"}, "roles", "known_role"),
        ({"division": "990000"}, "division", None),
        ({"roles": "battery_maker"}, "manufacturer_code", "required"),
        ({"manufacturer_code": "AB"}, "manufacturer_code", "format"),
        ({"manufacturer_code": "ABC"}, "manufacturer_code", "coding_role"),
    ],
)
def test_register_rules(
    store: Store, over: dict[str, object], field: str, rule: str | None
) -> None:
    with pytest.raises(ValidationError) as info:
        _register(store, **over)
    assert info.value.field == field
    if rule:
        assert info.value.rule == rule
    assert store.count("enterprises") == 0


def test_registered_once_and_maker_code_unique(store: Store) -> None:
    _register(store)
    with pytest.raises(ConflictError, match="already registered"):
        _register(store)
    _register(
        store,
        credit_code=generate_credit_code("310000", 1),
        roles="battery_maker",
        manufacturer_code="AB1",
    )
    with pytest.raises(ConflictError, match="already filed"):
        _register(
            store,
            credit_code=generate_credit_code("310000", 2),
            roles="battery_maker",
            manufacturer_code="ab1",
        )


def test_whitelist_history(store: Store) -> None:
    _register(store)
    change_whitelist(store, CODE, listed=True, effective_date=date(2021, 1, 1), batch="batch 3")
    change_whitelist(store, CODE, listed=False, effective_date=date(2023, 6, 1), note="revoked")
    history = store.whitelist_history(CODE)
    assert [(c.listed, c.effective_date) for c in history] == [
        (True, date(2021, 1, 1)),
        (False, date(2023, 6, 1)),
    ]
    assert whitelisted_on(history, date(2022, 1, 1)) is True
    assert whitelisted_on(history, date(2020, 1, 1)) is False
    assert whitelisted_on(history, date(2024, 1, 1)) is False
    view = enterprise_view(store, CODE)
    assert view["whitelisted"] is False
    assert len(view["whitelist_history"]) == 2
    with pytest.raises(NotFoundError):
        change_whitelist(
            store, generate_credit_code("310000", 7), listed=True, effective_date=date(2021, 1, 1)
        )


def test_future_listing_is_not_current(store: Store) -> None:
    _register(store)
    change_whitelist(
        store,
        CODE,
        listed=True,
        effective_date=date(2999, 1, 1),
        now=lambda: datetime(2026, 1, 1, tzinfo=UTC),
    )
    found = store.enterprise(CODE)
    assert found is not None
    assert not found.whitelisted


def test_the_registry_cache_answers_what_it_has_read(
    sqlite_world: Store, firms, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    recycler = firms["recycler"].credit_code
    cache = RegistryCache()
    cache.refresh(sqlite_world)
    asked: list[str] = []
    enterprise, keys_of = sqlite_world.enterprise, sqlite_world.keys_of
    monkeypatch.setattr(sqlite_world, "enterprise", lambda i: asked.append(i) or enterprise(i))
    monkeypatch.setattr(sqlite_world, "keys_of", lambda i: asked.append(i) or keys_of(i))
    for _ in range(3):
        found = cache.enterprise(sqlite_world, recycler)
        assert found is not None
        assert found.id == recycler
        assert cache.keys_of(sqlite_world, recycler) == []
    assert asked == [recycler, recycler]  # once each
    cache.refresh(sqlite_world)  # nothing changed: still kept
    cache.enterprise(sqlite_world, recycler)
    assert len(asked) == 2
    # an unknown enterprise is not kept: its registration is seen at once
    newcomer = generate_credit_code("350100", 4321)
    assert cache.enterprise(sqlite_world, newcomer) is None
    register_enterprise(
        sqlite_world, credit_code=newcomer, name="New", roles=["repairer"], division="350100"
    )
    again = cache.enterprise(sqlite_world, newcomer)
    assert again is not None
    assert again.id == newcomer


def test_the_registry_cache_forgets_on_a_whitelist_change_or_a_new_day(
    sqlite_world: Store, firms
) -> None:  # type: ignore[no-untyped-def]
    dealer = firms["dealer"].credit_code
    day = ["2026-11-29"]
    cache = RegistryCache(today=lambda: day[0])
    cache.refresh(sqlite_world)
    before = cache.enterprise(sqlite_world, dealer)
    assert before is not None
    assert not before.whitelisted
    change_whitelist(sqlite_world, dealer, listed=True, effective_date=date(2020, 1, 1))
    assert cache.enterprise(sqlite_world, dealer) == before  # kept until the next refresh
    cache.refresh(sqlite_world)
    after = cache.enterprise(sqlite_world, dealer)
    assert after is not None
    assert after.whitelisted
    kept = cache.enterprise(sqlite_world, dealer)
    assert kept is after
    day[0] = "2026-11-30"  # the status is today's: a new day reads it again
    cache.refresh(sqlite_world)
    assert cache.enterprise(sqlite_world, dealer) is not after


def test_the_registry_cache_stays_within_its_size(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    cache = RegistryCache(size=2)
    cache.refresh(sqlite_world)
    for firm in firms.values():
        assert cache.enterprise(sqlite_world, firm.credit_code) is not None
        cache.keys_of(sqlite_world, firm.credit_code)
        assert len(cache._enterprises) <= 2
        assert len(cache._keys) <= 2
