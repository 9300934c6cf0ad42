"""New events update alerts where they enter: the command-line import and the server."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import orjson
import pytest

from battrace.api.app import sweep_now, update_alerts_now
from battrace.services.demo import register_demo_firms
from battrace.store import open_store
from battrace.supervision.alerts import list_alerts
from tests.api.conftest import ApiWorld
from tests.builders import LFP_PACK, code
from tests.supervision.scenario import Scenario, at
from tests.test_cli import run


def _late_production(maker_code: str, n: int, day: date) -> dict[str, object]:
    """A pack produced on ``day`` and reported 90 days later: late under every deadline."""
    return {
        "type": "produced",
        "batteries": [code(n=n)],
        "actor": maker_code,
        "occurred_at": at(day),
        "reported_at": at(day + timedelta(days=90)),
        "body": LFP_PACK,
    }


def test_cli_import_updates_alerts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    with open_store(db) as store:
        sc = Scenario(store)
        maker = sc.f["battery_maker"].credit_code
    events = tmp_path / "events.ndjson"
    late = _late_production(maker, 1, date(2024, 3, 1))
    on_time = {**_late_production(maker, 2, date(2024, 3, 1)), "reported_at": at(date(2024, 3, 2))}
    events.write_bytes(orjson.dumps(late) + b"\n" + orjson.dumps(on_time) + b"\n")
    status, out, _ = run(capsys, "import", str(events), "--db", str(db), "--json")
    assert status == 0
    assert orjson.loads(out)["alerts"]["opened"] == 1
    status, out, _ = run(capsys, "alerts", "list", "--db", str(db), "--json")
    (alert,) = orjson.loads(out)
    assert (alert["rule"], alert["battery"], alert["enterprise"]) == (
        "late_report",
        code(n=1),
        maker,
    )
    assert alert["status"] == "open"
    assert alert["evidence"] == [1]


def test_cli_import_may_leave_alerts_to_a_sweep(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "bulk.db"
    with open_store(db) as store:
        maker = Scenario(store).f["battery_maker"].credit_code
    events = tmp_path / "events.ndjson"
    events.write_bytes(orjson.dumps(_late_production(maker, 1, date(2024, 3, 1))) + b"\n")
    status, out, _ = run(capsys, "import", str(events), "--db", str(db), "--no-alerts", "--json")
    assert status == 0
    assert orjson.loads(out)["alerts"] == {}
    assert orjson.loads(run(capsys, "alerts", "list", "--db", str(db), "--json")[1]) == []
    assert run(capsys, "alerts", "sweep", "--db", str(db), "--json")[0] == 0
    (alert,) = orjson.loads(run(capsys, "alerts", "list", "--db", str(db), "--json")[1])
    assert alert["rule"] == "late_report"


def test_server_updates_alerts_of_new_reports(api: ApiWorld) -> None:
    maker = api.ids["maker"]
    # the API sets report times itself: an event that happened long ago is reported late
    long_ago = _late_production(maker, 50, date(2024, 3, 1))
    del long_ago["reported_at"]
    answer = api.client.post("/api/v1/events", json=long_ago, headers=api.auth("maker"))
    assert answer.status_code == 201, answer.text
    context = api.client.app.state.battrace  # type: ignore[attr-defined]
    assert list_alerts(api.store, rule="late_report") == []
    counts = update_alerts_now(context)
    assert counts["opened"] == 1
    (alert,) = list_alerts(api.store, rule="late_report")
    assert alert.battery == code(n=50)
    # nothing new: the next update does nothing
    assert update_alerts_now(context) == {}
    # a full sweep through the server's reader and writer keeps it, and also finds the
    # world's own events, written to the store directly (never through the server), late
    swept = sweep_now(context)
    assert swept["reconciled"]["cleared"] == 0
    assert swept["reconciled"]["opened"] == 3
    assert alert.id in {a.id for a in list_alerts(api.store, rule="late_report")}


def test_in_memory_database_is_refused_for_supervision(tmp_path: Path) -> None:
    from battrace.errors import ValidationError
    from battrace.supervision.engine import store_engine

    with open_store(":memory:") as store:
        register_demo_firms(store)
        with pytest.raises(ValidationError, match="in-memory"):
            store_engine(store)
