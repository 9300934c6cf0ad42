"""Tests for battrace.codes.battery (GB/T 34014 battery codes)."""

from __future__ import annotations

import dataclasses
import datetime
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from battrace.codes.battery import (
    BATTERY_TYPES,
    PRODUCT_TYPES,
    YEARS,
    BatteryCode,
    decode_date,
    encode_date,
    generate_battery_code,
    next_code_prefix,
    parse_battery_code,
)
from battrace.errors import CodeError

VALID = "N1DPBA1TEST001E3F0000001"  # pack, LFP, 15 March 2024, serial 1
SECOND_LIFE = "E7LMER1YC00000042RM"  # module, NCM/NCA, 31 December 2040, serial 42

FIRST_DAY = datetime.date(YEARS.start, 1, 1)
LAST_DAY = datetime.date(YEARS.stop - 1, 12, 31)
ALL_DATES = [FIRST_DAY + datetime.timedelta(days=n) for n in range((LAST_DAY - FIRST_DAY).days + 1)]

# The date alphabet written out as the reference file states it, independently of the module.
REFERENCE_YEARS = {str(y - 2010): y for y in range(2011, 2020)} | {
    "A": 2020, "B": 2021, "C": 2022, "D": 2023, "E": 2024, "F": 2025, "G": 2026, "H": 2027,
    "J": 2028, "K": 2029, "L": 2030, "M": 2031, "N": 2032, "P": 2033, "R": 2034, "S": 2035,
    "T": 2036, "V": 2037, "W": 2038, "X": 2039, "Y": 2040,
}  # fmt: skip
REFERENCE_MONTHS = {str(m): m for m in range(1, 10)} | {"A": 10, "B": 11, "C": 12}
REFERENCE_DAYS = (
    {str(d): d for d in range(1, 10)}
    | dict(zip("ABCDEFGH", range(10, 18), strict=True))
    | dict(zip("JKLMN", range(18, 23), strict=True))
    | {"P": 23}
    | dict(zip("RST", range(24, 27), strict=True))
    | dict(zip("VWXY", range(27, 31), strict=True))
    | {"0": 31}
)


def reject(text: str) -> CodeError:
    with pytest.raises(CodeError) as info:
        parse_battery_code(text)
    return info.value


def with_char(code: str, position: int, char: str) -> str:
    """``code`` with the character at 1-based ``position`` replaced."""
    return code[: position - 1] + char + code[position:]


# --- parsing valid codes -------------------------------------------------------------------


def test_parse_standard_code() -> None:
    parsed = parse_battery_code(VALID)
    assert parsed == BatteryCode(
        manufacturer="N1D",
        product_type="pack",
        battery_type="B",
        spec="A1",
        traceability="TEST001",
        production_date=datetime.date(2024, 3, 15),
        serial="0000001",
        second_life=False,
    )
    assert parsed.text == VALID
    assert parsed.chemistry == "LFP"


def test_parse_second_life_code() -> None:
    parsed = parse_battery_code(SECOND_LIFE)
    assert parsed.second_life is True
    assert parsed.traceability is None
    assert parsed.product_type == "module"
    assert parsed.production_date == datetime.date(2040, 12, 31)
    assert parsed.serial == "0000042"
    assert parsed.chemistry == "NCM/NCA"
    assert parsed.text == SECOND_LIFE


def test_to_dict_has_exactly_the_fixed_keys() -> None:
    assert parse_battery_code(VALID).to_dict() == {
        "manufacturer": "N1D",
        "product_type": "pack",
        "battery_type": "B",
        "spec": "A1",
        "traceability": "TEST001",
        "production_date": "2024-03-15",
        "serial": "0000001",
        "second_life": False,
    }
    assert list(parse_battery_code(SECOND_LIFE).to_dict()) == [
        "manufacturer",
        "product_type",
        "battery_type",
        "spec",
        "traceability",
        "production_date",
        "serial",
        "second_life",
    ]


def test_input_is_stripped_and_upper_cased() -> None:
    assert parse_battery_code(f"  {VALID.lower()}\n").text == VALID


def test_parsed_code_is_frozen() -> None:
    parsed = parse_battery_code(VALID)
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.serial = "0000002"  # type: ignore[misc]


def test_fast_constructor_matches_dataclass_init() -> None:
    parsed = parse_battery_code(SECOND_LIFE)
    rebuilt = BatteryCode(**{f.name: getattr(parsed, f.name) for f in dataclasses.fields(parsed)})
    assert rebuilt == parsed
    assert hash(rebuilt) == hash(parsed)
    assert repr(rebuilt) == repr(parsed)


def test_every_chemistry_has_a_name() -> None:
    assert set(BATTERY_TYPES) == set("ABCDEFGZ")
    assert BATTERY_TYPES["B"] == "LFP"
    assert BATTERY_TYPES["E"] == "NCM/NCA"
    for letter, name in BATTERY_TYPES.items():
        assert parse_battery_code(with_char(VALID, 5, letter)).chemistry == name


# --- each rule fires, at its position, and does not fire on a valid character ----------------


@pytest.mark.parametrize("text", [VALID[:-1], VALID + "1", "", SECOND_LIFE[:-1], "N1DPB"])
def test_length_rule_fires(text: str) -> None:
    error = reject(text)
    assert error.rule == "length"
    assert error.position is None
    assert f"has {len(text)} characters" in error.message


def test_length_rule_accepts_24_and_19() -> None:
    assert len(parse_battery_code(VALID).text) == 24
    assert len(parse_battery_code(SECOND_LIFE).text) == 19


@pytest.mark.parametrize(
    ("position", "char"), [(1, "-"), (7, " "), (12, "."), (14, "ß"), (24, "条"), (3, "é")]
)
def test_charset_rule_fires(position: int, char: str) -> None:
    error = reject(with_char(VALID, position, char))
    assert error.rule == "charset"
    assert error.position == position
    assert error.field == "code"
    assert f"battery code position {position}: character {char!r}" in error.message


def test_charset_rule_accepts_letters_and_digits_in_filed_fields() -> None:
    for position in (1, 2, 3, 6, 7, *range(8, 15)):
        for char in "AZ09":
            parse_battery_code(with_char(VALID, position, char))


@pytest.mark.parametrize("char", ["A", "X", "0", "B"])
def test_product_type_rule_fires(char: str) -> None:
    error = reject(with_char(VALID, 4, char))
    assert (error.rule, error.position) == ("product_type", 4)
    assert "position 4" in error.message


@pytest.mark.parametrize(("letter", "level"), list(PRODUCT_TYPES.items()))
def test_product_type_rule_accepts(letter: str, level: str) -> None:
    assert parse_battery_code(with_char(VALID, 4, letter)).product_type == level


@pytest.mark.parametrize("char", ["H", "Y", "0", "1"])
def test_battery_type_rule_fires(char: str) -> None:
    error = reject(with_char(VALID, 5, char))
    assert (error.rule, error.position) == ("battery_type", 5)


@pytest.mark.parametrize("char", ["I", "O", "Q", "U", "Z", "0"])
def test_year_rule_fires(char: str) -> None:
    error = reject(with_char(VALID, 15, char))
    assert (error.rule, error.position) == ("year", 15)
    assert error.message.startswith(
        f"battery code position 15: year character {char!r} is not in the date alphabet"
    )
    assert "I, O, Q, U, Z are never used" in error.message


def test_year_rule_accepts_every_year_character() -> None:
    for char, year in REFERENCE_YEARS.items():
        assert parse_battery_code(with_char(VALID, 15, char)).production_date.year == year


@pytest.mark.parametrize("char", ["0", "D", "I", "Z"])
def test_month_rule_fires(char: str) -> None:
    error = reject(with_char(VALID, 16, char))
    assert (error.rule, error.position) == ("month", 16)


def test_month_rule_accepts_every_month_character() -> None:
    for char, month in REFERENCE_MONTHS.items():
        code = with_char(with_char(VALID, 16, char), 17, "1")
        assert parse_battery_code(code).production_date.month == month


@pytest.mark.parametrize("char", ["I", "O", "Q", "U", "Z"])
def test_day_rule_fires(char: str) -> None:
    error = reject(with_char(VALID, 17, char))
    assert (error.rule, error.position) == ("day", 17)


def test_day_rule_accepts_every_day_character() -> None:
    for char, day in REFERENCE_DAYS.items():
        code = with_char(with_char(VALID, 16, "1"), 17, char)  # January has 31 days
        assert parse_battery_code(code).production_date.day == day


@pytest.mark.parametrize(
    "date_chars",
    [
        "E2Y",  # 30 February 2024
        "D2X",  # 29 February 2023, not a leap year
        "E40",  # 31 April 2024
        "1B0",  # 31 November 2011
    ],
)
def test_date_rule_fires(date_chars: str) -> None:
    error = reject(VALID[:14] + date_chars + VALID[17:])
    assert (error.rule, error.position) == ("date", 17)
    assert "does not exist" in error.message


def test_date_rule_accepts_leap_day_and_month_ends() -> None:
    for date_chars, expected in [
        ("E2X", datetime.date(2024, 2, 29)),
        ("D2W", datetime.date(2023, 2, 28)),
        ("E30", datetime.date(2024, 3, 31)),
        ("EC0", datetime.date(2024, 12, 31)),
    ]:
        code = VALID[:14] + date_chars + VALID[17:]
        assert parse_battery_code(code).production_date == expected


@pytest.mark.parametrize("position", range(18, 25))
def test_serial_rule_fires(position: int) -> None:
    error = reject(with_char(VALID, position, "A"))
    assert (error.rule, error.position) == ("serial", position)
    assert "not a digit" in error.message


def test_serial_rule_accepts_digits() -> None:
    assert parse_battery_code(VALID[:17] + "9876543").serial == "9876543"


@pytest.mark.parametrize("char", ["P", "X", "0"])
def test_second_life_marker_rule_fires(char: str) -> None:
    error = reject(with_char(SECOND_LIFE, 18, char))
    assert (error.rule, error.position) == ("second_life_marker", 18)


@pytest.mark.parametrize("char", ["P", "C", "X", "1"])
def test_second_life_type_rule_fires(char: str) -> None:
    error = reject(with_char(SECOND_LIFE, 19, char))
    assert (error.rule, error.position) == ("second_life_type", 19)


def test_second_life_positions_are_shifted() -> None:
    assert reject(with_char(SECOND_LIFE, 8, "I")).position == 8
    assert reject(with_char(SECOND_LIFE, 8, "I")).rule == "year"
    assert reject(with_char(SECOND_LIFE, 9, "D")).rule == "month"
    assert reject(with_char(SECOND_LIFE, 11, "A")).position == 11
    assert reject(with_char(SECOND_LIFE, 11, "A")).rule == "serial"


def test_field_name_is_the_callers() -> None:
    with pytest.raises(CodeError) as info:
        parse_battery_code(with_char(VALID, 4, "X"), field="children")
    assert info.value.field == "children"
    assert info.value.to_dict()["error"]["position"] == 4
    assert info.value.to_dict()["error"]["code"] == "invalid_code"


def test_first_failing_position_is_reported() -> None:
    error = reject(with_char(with_char(VALID, 20, "-"), 9, "*"))
    assert (error.rule, error.position) == ("charset", 9)


# --- the date alphabet: exhaustive ---------------------------------------------------------


def test_encode_decode_every_date_in_range() -> None:
    seen: set[str] = set()
    for day in ALL_DATES:
        chars = encode_date(day)
        assert chars == (
            next(k for k, v in REFERENCE_YEARS.items() if v == day.year)
            + next(k for k, v in REFERENCE_MONTHS.items() if v == day.month)
            + next(k for k, v in REFERENCE_DAYS.items() if v == day.day)
        )
        assert decode_date(chars) == day
        seen.add(chars)
    assert len(seen) == len(ALL_DATES) == 10_958


def test_decode_accepts_exactly_the_encoded_dates() -> None:
    valid = {encode_date(day) for day in ALL_DATES}
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    for triple in map("".join, itertools.product(alphabet, repeat=3)):
        if triple in valid:
            decode_date(triple)
        else:
            with pytest.raises(CodeError) as info:
                decode_date(triple)
            assert info.value.rule in {"year", "month", "day", "date"}


@pytest.mark.parametrize("day", [datetime.date(2010, 12, 31), datetime.date(2041, 1, 1)])
def test_encode_rejects_years_out_of_range(day: datetime.date) -> None:
    with pytest.raises(CodeError) as info:
        encode_date(day)
    assert (info.value.rule, info.value.field) == ("year", "production_date")


def test_decode_date_errors_name_the_date_position() -> None:
    with pytest.raises(CodeError) as info:
        decode_date("EX9")
    assert (info.value.rule, info.value.position) == ("month", 2)
    assert info.value.message.startswith("production date position 2:")
    with pytest.raises(CodeError) as info:
        decode_date("E3")
    assert info.value.rule == "length"
    assert decode_date("e3f") == datetime.date(2024, 3, 15)


# --- generation ----------------------------------------------------------------------------


def test_generate_matches_known_code() -> None:
    code = generate_battery_code(
        manufacturer="n1d",
        product_type="pack",
        battery_type="B",
        spec="A1",
        traceability="TEST001",
        production_date=datetime.date(2024, 3, 15),
        serial=1,
    )
    assert code == VALID
    second = generate_battery_code(
        manufacturer="E7L",
        product_type="M",
        battery_type="e",
        spec="R1",
        traceability=None,
        production_date=datetime.date(2040, 12, 31),
        serial="0000042",
        second_life=True,
    )
    assert second == SECOND_LIFE


GOOD_PARTS: dict[str, object] = {
    "manufacturer": "N1D",
    "product_type": "pack",
    "battery_type": "B",
    "spec": "A1",
    "traceability": "TEST001",
    "production_date": datetime.date(2024, 3, 15),
    "serial": 1,
}


@pytest.mark.parametrize(
    ("part", "value", "rule", "position"),
    [
        ("manufacturer", "N1", "length", None),
        ("manufacturer", "N-D", "charset", 2),
        ("product_type", "battery", "product_type", 4),
        ("battery_type", "H", "battery_type", 5),
        ("spec", "A", "length", None),
        ("spec", "A_", "charset", 7),
        ("traceability", "TEST01", "length", None),
        ("traceability", "TEST 01", "charset", 12),
        ("traceability", None, "length", None),
        ("production_date", datetime.date(2041, 1, 1), "year", None),
        ("serial", 10_000_000, "serial", None),
        ("serial", -1, "serial", None),
        ("serial", "12345", "length", None),
        ("serial", "12345A7", "serial", 23),
    ],
)
def test_generate_names_the_bad_part(
    part: str, value: object, rule: str, position: int | None
) -> None:
    with pytest.raises(CodeError) as info:
        generate_battery_code(**{**GOOD_PARTS, part: value})  # type: ignore[arg-type]
    assert info.value.field == part
    assert info.value.rule == rule
    assert info.value.position == position


def test_generate_second_life_refuses_a_traceability_field() -> None:
    with pytest.raises(CodeError) as info:
        generate_battery_code(**{**GOOD_PARTS, "second_life": True})  # type: ignore[arg-type]
    assert (info.value.field, info.value.rule) == ("traceability", "second_life_traceability")


@given(
    maker=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=3, max_size=3),
    level=st.sampled_from([*PRODUCT_TYPES, *PRODUCT_TYPES.values()]),
    letter=st.sampled_from(sorted(BATTERY_TYPES)),
    spec=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=2, max_size=2),
    trace=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=7, max_size=7),
    day=st.dates(min_value=FIRST_DAY, max_value=LAST_DAY),
    serial=st.integers(min_value=0, max_value=9_999_999),
    second_life=st.booleans(),
)
def test_generate_parse_round_trip(
    maker: str,
    level: str,
    letter: str,
    spec: str,
    trace: str,
    day: datetime.date,
    serial: int,
    second_life: bool,
) -> None:
    code = generate_battery_code(
        manufacturer=maker,
        product_type=level,
        battery_type=letter,
        spec=spec,
        traceability=None if second_life else trace,
        production_date=day,
        serial=serial,
        second_life=second_life,
    )
    parsed = parse_battery_code(code)
    assert parsed.text == code
    assert len(code) == (19 if second_life else 24)
    assert parsed.manufacturer == maker
    assert parsed.product_type == PRODUCT_TYPES.get(level, level)
    assert parsed.battery_type == letter
    assert parsed.spec == spec
    assert parsed.traceability == (None if second_life else trace)
    assert parsed.production_date == day
    assert parsed.serial == f"{serial:07d}"
    assert parsed.second_life is second_life


@pytest.mark.parametrize(
    ("prefix", "following"),
    [("W07", "W08"), ("W09", "W0A"), ("W0Z", "W10"), ("9ZZ", "A00"), ("N1D", "N1E")],
)
def test_next_code_prefix(prefix: str, following: str) -> None:
    assert next_code_prefix(prefix) == following


def test_last_prefix_has_no_following_one() -> None:
    assert next_code_prefix("ZZZ") is None


@pytest.mark.parametrize("prefix", ["", "w07", "W0-"])
def test_next_code_prefix_refuses_what_no_code_holds(prefix: str) -> None:
    with pytest.raises(ValueError, match="upper-case letters and digits"):
        next_code_prefix(prefix)


_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PREFIXES = sorted("".join(p) for p in itertools.product(_ALPHABET, repeat=3))


@given(st.text(_ALPHABET, min_size=3, max_size=3), st.text(_ALPHABET, min_size=0, max_size=21))
def test_codes_with_a_prefix_sort_inside_its_range(prefix: str, rest: str) -> None:
    following = next_code_prefix(prefix)
    assert prefix <= prefix + rest
    assert following is None or prefix + rest < following
    # and no other prefix lies between the two
    after = _PREFIXES.index(prefix) + 1
    assert following == (_PREFIXES[after] if after < len(_PREFIXES) else None)
