"""Tests for battrace.codes.vin (VIN check digit)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from battrace.codes.vin import VIN_ALPHABET, generate_vin, validate_vin, vin_check_digit
from battrace.errors import CodeError

# Published VINs whose check digit is right: the textbook example of 49 CFR 565, a Honda
# Accord often used in documentation, and the all-ones VIN (sum 1 * 89 = 89 = 8*11 + 1).
REAL_VINS = ["1M8GDM9AXKP042788", "1HGCM82633A004352", "JHMCM56557C404453", "11111111111111111"]

# A slow, literal reading of the standard's tables, to cross-check the module.
TRANSLITERATION = {
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}  # fmt: skip
WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


def reference_check_digit(vin: str) -> str:
    total = 0
    for position, char in enumerate(vin):
        value = int(char) if char.isdigit() else TRANSLITERATION[char]
        total += value * WEIGHTS[position]
    return "X" if total % 11 == 10 else str(total % 11)


def reject(text: str) -> CodeError:
    with pytest.raises(CodeError) as info:
        validate_vin(text)
    return info.value


@pytest.mark.parametrize("vin", REAL_VINS)
def test_real_vins_are_valid(vin: str) -> None:
    assert validate_vin(vin) == vin
    assert vin_check_digit(vin) == vin[8]
    assert reference_check_digit(vin) == vin[8]


def test_vin_is_normalised() -> None:
    assert validate_vin("  1m8gdm9axkp042788\t") == "1M8GDM9AXKP042788"


@pytest.mark.parametrize("text", ["1M8GDM9AXKP04278", "1M8GDM9AXKP0427888", ""])
def test_length_rule_fires(text: str) -> None:
    error = reject(text)
    assert (error.rule, error.position) == ("length", None)


@pytest.mark.parametrize(("position", "char"), [(1, "I"), (5, "O"), (17, "Q")])
def test_charset_rule_fires_for_i_o_q(position: int, char: str) -> None:
    vin = REAL_VINS[0]
    error = reject(vin[: position - 1] + char + vin[position:])
    assert (error.rule, error.position) == ("charset", position)
    assert f"VIN position {position}: character {char!r}" in error.message
    assert "I, O and Q are never used" in error.message


@pytest.mark.parametrize(("position", "char"), [(2, "-"), (12, " "), (16, "Ü")])
def test_charset_rule_fires_for_other_characters(position: int, char: str) -> None:
    vin = REAL_VINS[0]
    error = reject(vin[: position - 1] + char + vin[position:])
    assert (error.rule, error.position) == ("charset", position)


def test_charset_rule_accepts_the_whole_alphabet() -> None:
    assert len(VIN_ALPHABET) == 33
    for char in sorted(VIN_ALPHABET):
        body = "1M8GDM9A" + "_" + char * 8
        vin = body[:8] + vin_check_digit(body) + body[9:]
        assert validate_vin(vin) == vin


@pytest.mark.parametrize("wrong", ["0", "1", "9"])
def test_check_digit_rule_fires(wrong: str) -> None:
    error = reject("1M8GDM9A" + wrong + "KP042788")
    assert (error.rule, error.position) == ("check_digit", 9)
    assert "expected 'X'" in error.message


def test_check_digit_rule_fires_for_a_mistyped_character() -> None:
    error = reject("1M8GDM9AXKP042789")
    assert (error.rule, error.position) == ("check_digit", 9)


def test_field_name_is_the_callers() -> None:
    with pytest.raises(CodeError) as info:
        validate_vin("1M8GDM9A0KP042788", field="body.vin")
    assert info.value.field == "body.vin"


def test_check_digit_ignores_position_nine() -> None:
    assert vin_check_digit("1M8GDM9A_KP042788") == "X"
    assert vin_check_digit("1M8GDM9A0KP042788") == "X"
    with pytest.raises(CodeError) as info:
        vin_check_digit("1M8GDM9A_KP04278")
    assert info.value.rule == "length"


def test_generate_vin_known() -> None:
    assert generate_vin("1M8", "GDM9A", "KP042788") == "1M8GDM9AXKP042788"
    assert generate_vin("jhm", "cm565", "7c404453") == "JHMCM56557C404453"


@pytest.mark.parametrize(
    ("wmi", "vds", "vis", "field", "rule", "position"),
    [
        ("1M", "GDM9A", "KP042788", "wmi", "length", None),
        ("1M8", "GDM9", "KP042788", "vds", "length", None),
        ("1M8", "GDM9A", "KP04278", "vis", "length", None),
        ("1MO", "GDM9A", "KP042788", "wmi", "charset", 3),
        ("1M8", "GDI9A", "KP042788", "vds", "charset", 6),
        ("1M8", "GDM9A", "KP04278Q", "vis", "charset", 17),
    ],
)
def test_generate_vin_names_the_bad_section(
    wmi: str, vds: str, vis: str, field: str, rule: str, position: int | None
) -> None:
    with pytest.raises(CodeError) as info:
        generate_vin(wmi, vds, vis)
    assert (info.value.field, info.value.rule, info.value.position) == (field, rule, position)


VIN_CHARS = "".join(sorted(VIN_ALPHABET))


@given(
    wmi=st.text(VIN_CHARS, min_size=3, max_size=3),
    vds=st.text(VIN_CHARS, min_size=5, max_size=5),
    vis=st.text(VIN_CHARS, min_size=8, max_size=8),
)
def test_generate_validate_round_trip(wmi: str, vds: str, vis: str) -> None:
    vin = generate_vin(wmi, vds, vis)
    assert validate_vin(vin) == vin
    assert vin[:3] == wmi
    assert vin[3:8] == vds
    assert vin[9:] == vis
    assert vin[8] == reference_check_digit(vin)
