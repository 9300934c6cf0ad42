"""Event validation: every field rule fires with the field named, and valid events pass."""

from __future__ import annotations

from typing import Any

import pytest

from battrace.domain.events import EventType, ProducedBody, parse_event
from battrace.errors import ValidationError
from battrace.services.demo import demo_firms
from tests.builders import LFP_PACK, code, event, produced, vin

MAKER = next(f for f in demo_firms() if "battery_maker" in f.roles)
VM = next(f for f in demo_firms() if "vehicle_maker" in f.roles)


def _error(data: Any) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        parse_event(data)
    return info.value


def test_valid_event_is_normalised() -> None:
    parsed = parse_event(produced(MAKER, [code().lower()]))
    assert parsed.type is EventType.PRODUCED
    assert parsed.batteries == (code(),)
    assert isinstance(parsed.body, ProducedBody)
    assert parsed.body_dict()["energy_kwh"] == "57.6"
    assert parsed.occurred_at.utcoffset() is not None


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"type": "teleported"}, "type", "enum"),
        ({"actor": "12345"}, "actor", None),
        ({"batteries": ["NOTACODE"]}, "batteries[0]", None),
        ({"occurred_at": "2024-04-01T10:00:00"}, "occurred_at", "value"),
        ({"occurred_at": "yesterday"}, "occurred_at", "value"),
        ({"place": "999999"}, "place", None),
        ({"surprise": 1}, "surprise", "extra_forbidden"),
        ({"ref": ""}, "ref", "string_length"),
    ],
)
def test_envelope_rules(change: dict[str, Any], field: str, rule: str | None) -> None:
    err = _error({**produced(MAKER, [code()]), **change})
    assert err.field == field
    assert field in err.message
    if rule is not None:
        assert err.rule == rule


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**LFP_PACK, "mass_kg": "-3"}, "body.mass_kg"),
        ({**LFP_PACK, "mass_kg": True}, "body.mass_kg"),
        ({**LFP_PACK, "mass_kg": "1e400"}, "body.mass_kg"),
        ({**LFP_PACK, "mass_kg": "1.1234567"}, "body.mass_kg"),
        ({**LFP_PACK, "chemistry": "unobtainium"}, "body.chemistry"),
        ({**LFP_PACK, "composition": {"gold": "1"}}, "body.composition.gold"),
        ({**LFP_PACK, "energy_kwh": "90"}, "body"),
        ({**LFP_PACK, "composition": {"li": "500"}}, "body"),
    ],
)
def test_body_rules(body: dict[str, Any], field: str) -> None:
    data = {**produced(MAKER, [code()]), "body": body}
    assert _error(data).field == field


def test_quantities_accept_numbers_and_strings() -> None:
    body = {**LFP_PACK, "mass_kg": 400, "energy_kwh": 57.6}
    parsed = parse_event({**produced(MAKER, [code()]), "body": body})
    assert parsed.body_dict()["mass_kg"] == "400"
    assert parsed.body_dict()["energy_kwh"] == "57.6"


def test_type_specific_rules() -> None:
    assert _error(event("shipped", MAKER, [code()])).field == "counterparty"
    assert _error(event("shipped", MAKER, [code()], counterparty=MAKER)).rule == "not_self"
    assert _error(event("tested", MAKER, [])).field == "batteries"
    assert _error(event("tested", MAKER, [code(), code()], soh_percent="9")).rule == "unique"
    assert _error(event("installed", VM, [code()], vin="LDM00000000000000")).field == "body.vin"
    assert _error(event("installed", VM, [code()], vin=vin())).field == "body.certificate_date"
    assert _error(event("tested", MAKER, [code()], soh_percent="151")).field == "body.soh_percent"
    late = {
        **event("tested", MAKER, [code()], soh_percent="90"),
        "occurred_at": "2024-05-02",
        "reported_at": "2024-05-01",
    }
    assert _error(late).rule == "not_after_reported"
    # and the valid forms pass
    assert parse_event(event("shipped", MAKER, [code()], counterparty=VM))
    assert parse_event(event("vehicle_scrapped", VM, [], vin=vin()))
    assert parse_event(event("installed", VM, [code()], vin=vin(), certificate_date="2024-04-01"))


def test_not_an_object() -> None:
    assert _error([1, 2]).field == "event"
