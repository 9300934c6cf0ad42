"""Tests for battrace.codes.credit (GB 32100 unified social credit codes)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from battrace.codes.credit import (
    CREDIT_ALPHABET,
    credit_check_character,
    generate_credit_code,
    org_code_check_character,
    validate_credit_code,
)
from battrace.errors import CodeError

# Published codes of well-known companies (business licences, annual reports).
REAL_CODES = {
    "914403001922038216": "Huawei Technologies Co., Ltd. (Shenzhen)",
    "91350900587527783P": "Contemporary Amperex Technology Co., Ltd. (Ningde)",
    "91440300192317458F": "BYD Company Limited (Shenzhen)",
}
GENERATED = [
    generate_credit_code(division, seq) for division, seq in [("440300", 1), ("110000", 42)]
]
SAMPLES = [*REAL_CODES, *GENERATED]

# The standard's weight table, written out as published.
PUBLISHED_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def reference_check_character(first17: str) -> str:
    total = sum(
        CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, PUBLISHED_WEIGHTS, strict=True)
    )
    check = 31 - total % 31
    return CREDIT_ALPHABET[0 if check == 31 else check]


def reject(text: str, *, strict_org_code: bool = False) -> CodeError:
    with pytest.raises(CodeError) as info:
        validate_credit_code(text, strict_org_code=strict_org_code)
    return info.value


def with_char(code: str, position: int, char: str) -> str:
    return code[: position - 1] + char + code[position:]


def test_alphabet_and_weights_are_the_standards() -> None:
    assert len(CREDIT_ALPHABET) == 31
    assert not set("IOSVZ") & set(CREDIT_ALPHABET)
    assert [pow(3, i, 31) for i in range(17)] == PUBLISHED_WEIGHTS


@pytest.mark.parametrize("code", list(REAL_CODES))
def test_real_codes_are_valid(code: str) -> None:
    assert validate_credit_code(code, strict_org_code=True) == code
    assert credit_check_character(code[:17]) == code[17]
    assert reference_check_character(code[:17]) == code[17]
    assert org_code_check_character(code[8:16]) == code[16]


def test_code_is_normalised() -> None:
    assert validate_credit_code(" 91350900587527783p ") == "91350900587527783P"


@pytest.mark.parametrize("text", ["91350900587527783", "91350900587527783PP", ""])
def test_length_rule_fires(text: str) -> None:
    error = reject(text)
    assert (error.rule, error.position) == ("length", None)


@pytest.mark.parametrize(
    ("position", "char"), [(1, "I"), (2, "O"), (10, "S"), (12, "V"), (18, "Z")]
)
def test_charset_rule_fires(position: int, char: str) -> None:
    error = reject(with_char("91350900587527783P", position, char))
    assert (error.rule, error.position) == ("charset", position)
    assert f"credit code position {position}: character {char!r}" in error.message


@pytest.mark.parametrize("position", range(3, 9))
def test_division_rule_fires(position: int) -> None:
    code = with_char("91350900587527783P", position, "A")
    error = reject(code[:17] + reference_check_character(code[:17]))
    assert (error.rule, error.position) == ("division", position)


def test_org_check_digit_rule_fires_only_when_strict() -> None:
    # Some registered codes are like this: the GB 32100 check holds, the GB 11714 one not.
    first17 = "91440300192203820"  # Huawei with a wrong organisation-code check character
    code = first17 + credit_check_character(first17)
    assert validate_credit_code(code) == code
    error = reject(code, strict_org_code=True)
    assert (error.rule, error.position) == ("org_check_digit", 17)
    assert "expected '1'" in error.message


@pytest.mark.parametrize("code", SAMPLES)
def test_check_digit_rule_fires(code: str) -> None:
    wrong = CREDIT_ALPHABET[(CREDIT_ALPHABET.index(code[17]) + 1) % 31]
    error = reject(code[:17] + wrong)
    assert (error.rule, error.position) == ("check_digit", 18)
    assert f"expected {code[17]!r}" in error.message


def test_field_name_is_the_callers() -> None:
    with pytest.raises(CodeError) as info:
        validate_credit_code("91350900587527783Q", field="actor")
    assert info.value.field == "actor"


@pytest.mark.parametrize("code", SAMPLES)
def test_every_single_substitution_is_detected(code: str) -> None:
    """Exhaustive over all 18 positions x 30 other characters (plus 5 forbidden letters).

    Why it holds: a change at position i moves the weighted sum by w_i * (b - a), where
    w_i = 3**(i-1) is invertible mod the prime 31 and 0 < |b - a| < 31, so the sum mod 31
    always changes; a change of the check character itself is a mismatch by construction.
    """
    for position in range(1, 19):
        for char in CREDIT_ALPHABET + "IOSVZ":
            if char == code[position - 1]:
                continue
            with pytest.raises(CodeError):
                validate_credit_code(with_char(code, position, char))


@pytest.mark.parametrize("code", SAMPLES)
def test_every_adjacent_transposition_is_detected(code: str) -> None:
    for i in range(17):
        if code[i] == code[i + 1]:
            continue
        swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        with pytest.raises(CodeError):
            validate_credit_code(swapped)


def test_substitution_detection_holds_for_every_weight_and_difference() -> None:
    # The algebra behind the mutation test, checked for every case rather than sampled.
    for weight in [*PUBLISHED_WEIGHTS, 1]:  # the check character counts with weight 1
        for difference in range(1, 31):
            assert weight * difference % 31 != 0


def test_credit_check_character_validates_its_input() -> None:
    with pytest.raises(CodeError) as info:
        credit_check_character("9135090058752778")
    assert info.value.rule == "length"
    with pytest.raises(CodeError) as info:
        credit_check_character("9135090058752778I")
    assert (info.value.rule, info.value.position) == ("charset", 17)


def test_org_code_check_character() -> None:
    # Organisation codes of the published credit codes above, and the X and 0 cases.
    assert org_code_check_character("19220382") == "1"
    assert org_code_check_character("58752778") == "3"
    assert org_code_check_character("19231745") == "8"
    assert org_code_check_character("00000001") == "9"  # 2 -> 11 - 2
    assert org_code_check_character("00000000") == "0"  # 11 - 0 = 11 -> '0'
    assert org_code_check_character("00000005") == "1"  # 10 -> 11 - 10
    assert org_code_check_character("00000006") == "X"  # 12 % 11 = 1 -> 10 -> 'X'
    with pytest.raises(CodeError) as info:
        org_code_check_character("1922038")
    assert info.value.rule == "length"
    with pytest.raises(CodeError) as info:
        org_code_check_character("1922-382")
    assert (info.value.rule, info.value.position) == ("charset", 5)


def test_generate_is_deterministic_and_strictly_valid() -> None:
    assert generate_credit_code("650100", 999) == generate_credit_code("650100", 999)
    code = generate_credit_code("440300", 1, authority="5", entity_type="2")
    assert code.startswith("52440300")
    assert validate_credit_code(code, strict_org_code=True) == code


@pytest.mark.parametrize(
    ("args", "kwargs", "field", "rule"),
    [
        (("990000", 1), {}, "division", "province"),
        (("4403", 1), {}, "division", "length"),
        (("440300", -1), {}, "seq", "range"),
        (("440300", 100_000_000), {}, "seq", "range"),
        (("440300", 1), {"authority": "I"}, "authority", "charset"),
        (("440300", 1), {"entity_type": "12"}, "entity_type", "charset"),
    ],
)
def test_generate_rejects_bad_input(
    args: tuple[str, int], kwargs: dict[str, str], field: str, rule: str
) -> None:
    with pytest.raises(CodeError) as info:
        generate_credit_code(
            *args,
            authority=kwargs.get("authority", "9"),
            entity_type=kwargs.get("entity_type", "1"),
        )
    assert (info.value.field, info.value.rule) == (field, rule)


@given(
    division=st.sampled_from(["110000", "310115", "440300", "650100", "820000"]),
    seq=st.integers(min_value=0, max_value=99_999_999),
)
def test_generate_validate_round_trip(division: str, seq: int) -> None:
    code = generate_credit_code(division, seq)
    assert validate_credit_code(code, strict_org_code=True) == code
    assert code[2:8] == division
    assert code[8:16] == f"{seq:08d}"
    assert code[17] == reference_check_character(code[:17])
