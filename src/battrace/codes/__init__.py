"""Identity codes: parse, validate and generate, with no I/O.

- :mod:`~battrace.codes.battery`: GB/T 34014-2017 battery codes (24 characters, or 19 for
  a second-life code).
- :mod:`~battrace.codes.vin`: vehicle identification numbers with their check digit.
- :mod:`~battrace.codes.credit`: GB 32100 unified social credit codes of enterprises.
- :mod:`~battrace.codes.division`: GB/T 2260 administrative division codes.

Every rejected code raises :class:`battrace.errors.CodeError` with the caller's ``field``,
a stable snake_case ``rule`` and the 1-based ``position`` of the offending character.
"""

from battrace.codes.battery import (
    BATTERY_TYPES,
    PRODUCT_TYPES,
    YEARS,
    BatteryCode,
    decode_date,
    encode_date,
    generate_battery_code,
    parse_battery_code,
)
from battrace.codes.credit import (
    credit_check_character,
    generate_credit_code,
    org_code_check_character,
    validate_credit_code,
)
from battrace.codes.division import (
    CITIES,
    PROVINCES,
    Division,
    Province,
    province_of,
    validate_division_code,
)
from battrace.codes.vin import generate_vin, validate_vin, vin_check_digit

__all__ = [
    "BATTERY_TYPES",
    "CITIES",
    "PRODUCT_TYPES",
    "PROVINCES",
    "YEARS",
    "BatteryCode",
    "Division",
    "Province",
    "credit_check_character",
    "decode_date",
    "encode_date",
    "generate_battery_code",
    "generate_credit_code",
    "generate_vin",
    "org_code_check_character",
    "parse_battery_code",
    "province_of",
    "validate_credit_code",
    "validate_division_code",
    "validate_vin",
    "vin_check_digit",
]
