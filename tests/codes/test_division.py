"""Tests for battrace.codes.division (GB/T 2260 division codes)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from battrace.codes.division import (
    CITIES,
    PROVINCES,
    Division,
    province_of,
    validate_division_code,
)
from battrace.errors import CodeError

MAINLAND = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65",
]  # fmt: skip
# Groupings listed at city level that are not prefecture-level divisions.
GROUPINGS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


def reject(text: str) -> CodeError:
    with pytest.raises(CodeError) as info:
        validate_division_code(text)
    return info.value


def test_province_table_is_complete_and_ordered() -> None:
    assert list(PROVINCES) == [*MAINLAND, "71", "81", "82"]
    assert PROVINCES["44"].name_zh == "广东省"
    assert PROVINCES["44"].name_en == "Guangdong"
    assert PROVINCES["44"].code == "440000"
    assert all(p.code2 == code2 for code2, p in PROVINCES.items())


def test_city_table_has_every_prefecture_level_division_of_2023() -> None:
    prefectures = {code: name for code, name in CITIES.items() if name not in GROUPINGS}
    assert len(prefectures) == 333
    names = list(prefectures.values())
    assert sum(n.endswith("地区") for n in names) == 7
    assert sum(n.endswith("自治州") for n in names) == 30
    assert sum(n.endswith("盟") for n in names) == 3
    assert sum(n.endswith("市") for n in names) == 293
    assert list(CITIES) == sorted(CITIES)
    for code in CITIES:
        assert code[:2] in PROVINCES
        assert code.endswith("00")
        assert not code.endswith("0000")
    # every province but the three outside the mainland system has its capital listed
    assert {code[:2] for code in CITIES} == set(MAINLAND)


@pytest.mark.parametrize(
    ("code", "name"),
    [("440300", "深圳市"), ("320500", "苏州市"), ("350900", "宁德市"), ("650100", "乌鲁木齐市")],
)
def test_known_city(code: str, name: str) -> None:
    division = validate_division_code(code)
    assert division.level == "city"
    assert division.name_zh == name
    assert division.known is True
    assert division.city_code == code


def test_province() -> None:
    assert validate_division_code(" 440000 ") == Division(
        code="440000",
        province_code="440000",
        province_name_zh="广东省",
        province_name_en="Guangdong",
        level="province",
        city_code=None,
        name_zh="广东省",
        known=True,
    )


def test_county_is_accepted_but_not_known() -> None:
    division = validate_division_code("440305")
    assert (division.level, division.known, division.city_code) == ("county", False, "440300")
    assert division.province_code == "440000"
    assert division.name_zh is None


def test_unknown_city_under_known_province_is_accepted() -> None:
    division = validate_division_code("449900")
    assert (division.level, division.known, division.name_zh) == ("city", False, None)


@pytest.mark.parametrize("text", ["44030", "4403000", ""])
def test_length_rule_fires(text: str) -> None:
    error = reject(text)
    assert (error.rule, error.position) == ("length", None)


@pytest.mark.parametrize(("text", "position"), [("44030A", 6), ("4-0300", 2), ("٤٤0300", 1)])
def test_charset_rule_fires(text: str, position: int) -> None:
    error = reject(text)
    assert (error.rule, error.position) == ("charset", position)
    assert f"division code position {position}" in error.message


@pytest.mark.parametrize("text", ["000000", "990000", "100000", "720000", "660100"])
def test_province_rule_fires(text: str) -> None:
    error = reject(text)
    assert (error.rule, error.position) == ("province", 1)


@pytest.mark.parametrize("code2", list(PROVINCES))
def test_province_rule_accepts_every_province(code2: str) -> None:
    assert validate_division_code(code2 + "0000").level == "province"


@pytest.mark.parametrize("text", ["440001", "110099"])
def test_level_rule_fires(text: str) -> None:
    error = reject(text)
    assert (error.rule, error.position) == ("level", 5)


def test_field_name_is_the_callers() -> None:
    with pytest.raises(CodeError) as info:
        validate_division_code("99", field="place")
    assert info.value.field == "place"


def test_province_of() -> None:
    assert province_of("440305") == "440000"
    assert province_of("419001") == "410000"
    assert province_of("110000") == "110000"
    with pytest.raises(CodeError):
        province_of("990000")


@given(
    code2=st.sampled_from(list(PROVINCES)),
    city=st.integers(min_value=1, max_value=99),
    county=st.integers(min_value=0, max_value=99),
)
def test_any_well_formed_code_under_a_known_province_is_accepted(
    code2: str, city: int, county: int
) -> None:
    code = f"{code2}{city:02d}{county:02d}"
    division = validate_division_code(code)
    assert division.code == code
    assert division.province_code == code2 + "0000"
    assert division.level == ("city" if county == 0 else "county")
    assert division.known == (code in CITIES)
