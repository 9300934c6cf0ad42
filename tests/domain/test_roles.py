from __future__ import annotations

import pytest

from battrace.domain.roles import Role, parse_roles
from battrace.errors import ValidationError


def test_parse_roles() -> None:
    assert parse_roles("battery_maker, recycler") == {Role.BATTERY_MAKER, Role.RECYCLER}
    assert parse_roles(["dealer"]) == {Role.DEALER}


@pytest.mark.parametrize(
    ("given", "rule"), [("wizard", "known_role"), ("", "required"), ([], "required")]
)
def test_bad_roles(given: str | list[str], rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_roles(given)
    assert (info.value.field, info.value.rule) == ("roles", rule)
