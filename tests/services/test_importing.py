from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest

from battrace.errors import BatchError, ValidationError
from battrace.services.demo import demo_events
from battrace.services.importing import (
    PartialImportError,
    battery_event,
    detect_format,
    import_items,
    read_file,
)
from battrace.store import Store
from tests.builders import code


def _ndjson(events: list[dict[str, object]]) -> io.BytesIO:
    return io.BytesIO(b"".join(orjson.dumps(e) + b"\n" for e in events))


def test_ndjson_import_all_or_nothing(sqlite_world: Store) -> None:
    events = list(demo_events(20))
    outcome = import_items(sqlite_world, read_file(_ndjson(events), "ndjson", "events"))
    assert outcome.accepted == len(events) == sqlite_world.count("events")


def test_bad_json_line_is_named_and_nothing_written(sqlite_world: Store) -> None:
    data = _ndjson(list(demo_events(3))).getvalue().splitlines(keepends=True)
    data.insert(4, b"{not json\n")
    with pytest.raises(BatchError) as info:
        import_items(sqlite_world, read_file(io.BytesIO(b"".join(data)), "ndjson", "events"))
    assert info.value.line == 5
    assert info.value.rule == "json"
    assert sqlite_world.count("events") == 0


def test_batches_commit_separately(sqlite_world: Store) -> None:
    events = list(demo_events(4))
    events[30]["type"] = "bogus"
    with pytest.raises(PartialImportError) as info:
        import_items(sqlite_world, read_file(_ndjson(events), "ndjson", "events"), batch_size=10)
    assert info.value.line == 31
    assert info.value.committed == 30
    assert "30 events of earlier batches" in info.value.to_dict()["error"]["message"]
    assert sqlite_world.count("events") == 30
    with pytest.raises(ValidationError, match="batch_size"):
        import_items(sqlite_world, [], batch_size=0)


def test_csv_events_and_batteries(sqlite_world: Store, firms) -> None:  # type: ignore[no-untyped-def]
    maker, vm = firms["battery_maker"], firms["vehicle_maker"]
    batteries_csv = (
        "code,maker,chemistry,rated_capacity_ah,nominal_voltage_v,energy_kwh,mass_kg,li_kg\n"
        f"{code(n=1)},{maker.credit_code},LFP,150,384,57.6,400,4.1\n"
        f"{code(n=2)},{maker.credit_code},LFP,150,384,57.6,400,4.1\n"
    ).encode()
    outcome = import_items(sqlite_world, read_file(io.BytesIO(batteries_csv), "csv", "batteries"))
    assert outcome.accepted == 2
    stored = sqlite_world.battery(code(n=1))
    assert stored is not None
    assert stored.spec["composition"] == {"li": "4.1"}
    events_csv = (
        "type,batteries,actor,counterparty,occurred_at,body\n"
        f"shipped,{code(n=1)};{code(n=2)},{maker.credit_code},{vm.credit_code},2024-04-01,\n"
        f'tested,{code(n=1)},{maker.credit_code},,2024-04-02,"{{""soh_percent"": ""99""}}"\n'
    ).encode()
    with pytest.raises(BatchError) as info:
        import_items(sqlite_world, read_file(io.BytesIO(events_csv), "csv", "events"))
    assert info.value.line == 3
    assert info.value.rule == "in_transit"
    assert sqlite_world.count("events") == 2
    bad_column = b"type,colour\nshipped,red\n"
    with pytest.raises(BatchError, match="unknown column"):
        import_items(sqlite_world, read_file(io.BytesIO(bad_column), "csv", "events"))


def test_battery_record_defaults_to_code_date() -> None:
    record = {"code": code(), "maker": "x", "chemistry": "LFP", "mass_kg": "1", "ni_kg": "0.2"}
    data = battery_event(record)
    assert data["occurred_at"] == "2024-03-15"
    assert data["body"]["composition"] == {"ni": "0.2"}
    with pytest.raises(ValidationError, match="maker"):
        battery_event({"code": code()})


def test_detect_format() -> None:
    assert detect_format(Path("a.ndjson"), None) == "ndjson"
    assert detect_format(Path("a.jsonl"), None) == "ndjson"
    assert detect_format(Path("a.txt"), "CSV") == "csv"
    with pytest.raises(ValidationError, match="format"):
        detect_format(Path("a.txt"), None)
