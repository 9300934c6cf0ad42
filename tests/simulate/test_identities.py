"""Minted battery codes and VINs are valid and never repeat."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from battrace.codes import parse_battery_code, validate_vin
from battrace.simulate.identities import Mint


def test_original_codes_are_valid_and_unique_per_day() -> None:
    mint = Mint()
    seen = set()
    for offset in range(40):
        day = date(2024, 12, 20) + timedelta(days=offset)
        for n in range(25):
            for level in ("pack", "module", "cell"):
                code = mint.original(f"W0{n % 3}", level, "B", "B1", day)
                parsed = parse_battery_code(code)
                assert parsed.production_date == day
                assert parsed.product_type == level
                seen.add(code)
    assert len(seen) == 40 * 25 * 3


def test_originals_must_come_in_date_order() -> None:
    mint = Mint()
    mint.original("W00", "pack", "B", "B1", date(2024, 5, 2))
    with pytest.raises(ValueError, match="order"):
        mint.original("W00", "pack", "B", "B1", date(2024, 5, 1))


def test_spares_never_collide_with_originals_of_the_same_day() -> None:
    mint = Mint()
    day = date(2023, 3, 3)
    originals = {mint.original("W00", "pack", "E", "E1", day) for _ in range(50)}
    spares = {mint.spare("W00", "E", "E1", day) for _ in range(50)}
    assert len(originals | spares) == 100
    assert all(not parse_battery_code(c).second_life for c in spares)


def test_second_life_codes() -> None:
    mint = Mint()
    codes = {mint.second_life("Y00", "B", date(2026, 2, 2)) for _ in range(20)}
    assert len(codes) == 20
    assert all(parse_battery_code(c).second_life for c in codes)


def test_vins_have_the_right_check_digit_across_plants() -> None:
    mint = Mint()
    vins = [mint.vin("LAB", "PBA1N", 2024) for _ in range(3000)]
    mint._vins["LAB"] = 999_998  # jump to the end of the first plant's serials
    vins += [mint.vin("LAB", "PBA1N", 2024) for _ in range(4)]
    assert len(set(vins)) == len(vins)
    for vin in vins:
        assert validate_vin(vin) == vin
    assert vins[-1][10] != vins[0][10]  # the plant character moved on
