"""The simulated enterprises: every role, all provinces, valid codes, a whitelist history."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest

from battrace.codes import validate_credit_code, validate_division_code
from battrace.domain.roles import CODING_ROLES, Role
from battrace.simulate import parameters as params
from battrace.simulate.world import SimFirm, build_world, world_counts


@pytest.fixture(scope="module")
def firms() -> list[SimFirm]:
    return build_world(3, 5_000).firms


def test_every_role_is_present(firms: list[SimFirm]) -> None:
    roles = Counter(role for firm in firms for role in firm.roles)
    assert set(roles) == {r.value for r in Role}
    counts = world_counts(5_000)
    for role, count in counts.items():
        assert roles[role.value] == count
    assert roles[Role.REGULATOR.value] == 32  # national + 31 provincial


def test_firms_have_valid_unique_identities(firms: list[SimFirm]) -> None:
    credit_codes = [f.credit_code for f in firms]
    assert len(set(credit_codes)) == len(firms)
    maker_codes = [f.manufacturer_code for f in firms if f.manufacturer_code]
    assert len(set(maker_codes)) == len(maker_codes)
    for firm in firms:
        assert validate_credit_code(firm.credit_code) == firm.credit_code
        assert validate_division_code(firm.division).province_code == firm.province
        coding = bool(set(firm.roles) & {r.value for r in CODING_ROLES})
        assert (firm.manufacturer_code is not None) == coding
        assert firm.manufacturer_code is None or len(firm.manufacturer_code) == 3


def test_local_roles_cover_all_31_provinces(firms: list[SimFirm]) -> None:
    for role in ("dealer", "repairer", "dismantler", "collection_outlet", "regulator"):
        provinces = {f.province for f in firms if role in f.roles}
        assert provinces == set(params.PROVINCES), role


def test_world_grows_with_the_run_up_to_national_numbers() -> None:
    small, large = world_counts(1_000), world_counts(10_000_000)
    assert small[Role.COLLECTION_OUTLET] == 93
    assert large[Role.COLLECTION_OUTLET] > 10_000
    assert all(small[role] <= large[role] for role in small)


def test_whitelist_history(firms: list[SimFirm]) -> None:
    treating = [f for f in firms if {"echelon_firm", "recycler"} & set(f.roles)]
    listed = [f for f in treating if any(listed for _, listed in f.whitelist)]
    delisted = [f for f in treating if any(not listed for _, listed in f.whitelist)]
    never = [f for f in treating if not f.whitelist]
    assert len(listed) == 144
    assert len(delisted) == sum(n for _, n in params.DELISTED)
    assert len(never) == params.UNLISTED_ECHELON + params.UNLISTED_RECYCLERS
    first = params.WHITELIST_BATCHES[0][0]
    assert min(d for f in listed for d, _ in f.whitelist) == first
    for firm in delisted:
        (start, _), (end, _) = firm.whitelist
        day = start.toordinal()
        assert firm.listed_through(day, end.toordinal() - 1)
        assert not firm.listed_through(day, end.toordinal())
        assert firm.unlisted_through(end.toordinal(), end.toordinal() + 400)


def test_pick_listed_and_unlisted_firms_by_date() -> None:
    world = build_world(3, 5_000)
    rng = random.Random(1)
    before = date(2018, 1, 1).toordinal()
    with pytest.raises(LookupError):
        world.listed(rng, "recycler", before, 30, "440000")
    for year in (2019, 2021, 2024):
        day = date(year, 6, 1).toordinal()
        for role in ("echelon_firm", "recycler"):
            for _ in range(20):
                assert world.listed(rng, role, day, 30, "440000").listed_through(day, day + 30)
                off = world.unlisted(rng, role, day, 30)
                assert off is not None
                assert off.unlisted_through(day, day + 30)


def test_same_seed_same_world_and_records_round_trip() -> None:
    first, again, other = build_world(9, 2_000), build_world(9, 2_000), build_world(10, 2_000)
    assert first.firms == again.firms
    assert first.firms != other.firms
    for firm in first.firms:
        back = SimFirm.from_record(firm.to_record())
        assert back == firm
        assert back.listed_through(0, 0) == firm.listed_through(0, 0)
