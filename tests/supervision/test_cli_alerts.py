"""``battrace alerts ...``, run in-process through ``battrace.cli.main``."""

from __future__ import annotations

import json
import sys
import types
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from battrace.cli import main
from battrace.codes import generate_credit_code
from battrace.services.demo import register_demo_firms
from battrace.services.enterprises import register_enterprise
from battrace.store import open_store
from battrace.supervision.alerts import reconcile
from battrace.supervision.findings import Finding, Severity
from tests.builders import code

MAKER = "91350900000000019P"  # demo battery maker, Fujian
REGULATOR = generate_credit_code("350100", 901, authority="1")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A store with the demo firms, a Fujian regulator and two open alerts."""
    path = str(tmp_path / "alerts.db")
    with open_store(path) as store:
        register_demo_firms(store)
        register_enterprise(
            store, credit_code=REGULATOR, name="Fujian", roles=["regulator"], division="350100"
        )
        reconcile(store, FINDINGS, rules=["late_report", "missing_recycling"])
    return path


FINDINGS = [
    Finding(
        "late_report", Severity.HIGH, code(n=1), MAKER, "e1", (1,), "late", "350900", "2024-04-01"
    ),
    Finding("missing_recycling", Severity.LOW, None, MAKER, "2024", (), "none", None, None),
]
LATE, MISSING = (f.id for f in FINDINGS)


def test_list_json_is_an_array_of_alerts(capsys: pytest.CaptureFixture[str], db: str) -> None:
    status, out, _ = run(capsys, "alerts", "list", "--db", db, "--json")
    assert status == 0
    data = json.loads(out)
    assert isinstance(data, list)
    assert [a["id"] for a in data] == sorted([LATE, MISSING])
    late = next(a for a in data if a["id"] == LATE)
    assert late["rule"] == "late_report"
    assert (late["severity"], late["status"]) == ("high", "open")
    assert (late["battery"], late["enterprise"], late["evidence"]) == (code(n=1), MAKER, [1])
    _, out, _ = run(capsys, "alerts", "list", "--db", db, "--json", "--rule", "late_report")
    assert [a["id"] for a in json.loads(out)] == [LATE]
    _, out, _ = run(capsys, "alerts", "list", "--db", db, "--json", "--limit", "1")
    assert len(json.loads(out)) == 1
    _, out, _ = run(capsys, "alerts", "list", "--db", db, "--json", "--status", "resolved")
    assert json.loads(out) == []


def test_list_pages_through_everything(
    capsys: pytest.CaptureFixture[str], db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from battrace.supervision import alerts

    monkeypatch.setattr(alerts, "MAX_PAGE", 1)
    _, out, _ = run(capsys, "alerts", "list", "--db", db, "--json")
    assert len(json.loads(out)) == 2


def test_list_table_and_bad_filter(capsys: pytest.CaptureFixture[str], db: str) -> None:
    status, out, _ = run(capsys, "alerts", "list", "--db", db, "--province", "35")
    assert status == 0
    assert LATE in out
    assert MISSING not in out
    status, out, _ = run(capsys, "alerts", "list", "--db", db, "--status", "closed", "--json")
    assert status == 1
    assert json.loads(out)["error"]["field"] == "status"
    status, _, err = run(capsys, "alerts", "list", "--db", db, "--limit", "0")
    assert status == 1
    assert "limit" in err


def test_show_with_history(capsys: pytest.CaptureFixture[str], db: str) -> None:
    status, out, _ = run(capsys, "alerts", "show", LATE, "--db", db, "--json")
    assert status == 0
    data = json.loads(out)
    assert data["id"] == LATE
    assert data["history"] == [{"at": data["first_seen"], "status": "open", "by": "system",
                                "comment": None}]  # fmt: skip
    status, out, _ = run(capsys, "alerts", "show", LATE, "--db", db)
    assert status == 0
    assert "late_report" in out
    assert "system" in out
    status, out, _ = run(capsys, "alerts", "show", "0123456789abcdef", "--db", db, "--json")
    assert status == 1
    assert json.loads(out)["error"]["rule"] == "registered"


def test_lifecycle(capsys: pytest.CaptureFixture[str], db: str) -> None:
    status, out, _ = run(capsys, "alerts", "ack", LATE, "--by", REGULATOR, "--db", db, "--json")
    assert status == 0
    assert json.loads(out)["status"] == "acknowledged"
    status, out, _ = run(
        capsys, "alerts", "resolve", LATE, "--by", REGULATOR, "--comment", "fined", "--db", db
    )
    assert status == 0
    assert "resolved" in out
    status, out, _ = run(
        capsys, "alerts", "reopen", LATE, "--by", REGULATOR, "--comment", "unpaid", "--db", db,
        "--json",
    )  # fmt: skip
    data = json.loads(out)
    assert data["status"] == "open"
    assert [c["status"] for c in data["history"]] == ["open", "acknowledged", "resolved", "open"]
    status, out, _ = run(capsys, "alerts", "reopen", LATE, "--by", REGULATOR, "--comment", "x",
                         "--db", db, "--json")  # fmt: skip
    assert status == 1
    assert json.loads(out)["error"]["rule"] == "alert_transition"


def test_by_must_be_a_regulator(capsys: pytest.CaptureFixture[str], db: str) -> None:
    status, out, _ = run(capsys, "alerts", "ack", LATE, "--by", MAKER, "--db", db, "--json")
    assert status == 1
    error = json.loads(out)["error"]
    assert (error["field"], error["rule"]) == ("by", "regulator_only")
    status, out, _ = run(
        capsys, "alerts", "resolve", LATE, "--by", "nobody", "--comment", "x", "--db", db, "--json"
    )
    assert status == 1
    assert json.loads(out)["error"]["field"] == "by"
    status, _, _ = run(capsys, "alerts", "resolve", LATE, "--by", REGULATOR, "--db", db)
    assert status == 2  # --comment is required: a usage error


def test_counts(capsys: pytest.CaptureFixture[str], db: str) -> None:
    status, out, _ = run(capsys, "alerts", "counts", "--by", "rule", "--db", db, "--json")
    assert status == 0
    assert json.loads(out) == {"late_report": 1, "missing_recycling": 1}
    _, out, _ = run(capsys, "alerts", "counts", "--by", "province", "--db", db, "--json")
    assert json.loads(out) == {"350000": 1, "none": 1}
    status, out, _ = run(capsys, "alerts", "counts", "--by", "severity", "--db", db)
    assert status == 0
    assert "high" in out
    status, _, _ = run(capsys, "alerts", "counts", "--by", "colour", "--db", db)
    assert status == 2


class _Result:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def to_dict(self) -> dict[str, Any]:
        return self.data


def _fake_module(monkeypatch: pytest.MonkeyPatch, name: str, **functions: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    for attr, value in functions.items():
        setattr(module, attr, value)
    monkeypatch.setitem(sys.modules, name, module)
    return module


SWEEP = {
    "engine": "store",
    "as_of": "2024-06-30",
    "findings": {"late_report": 3},
    "reconciled": {"opened": 3, "cleared": 1},
    "seconds": {"total": 0.25},
}


def test_sweep_calls_the_service(
    capsys: pytest.CaptureFixture[str], db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    def sweep(store: Any, **options: Any) -> _Result:
        calls.append({"db": store.location, **options})
        return _Result(SWEEP)

    _fake_module(monkeypatch, "battrace.supervision.service", sweep=sweep)
    status, out, _ = run(capsys, "alerts", "sweep", "--db", db, "--as-of", "2024-06-30", "--json")
    assert status == 0
    assert json.loads(out) == SWEEP
    assert calls == [{"db": db, "as_of": date(2024, 6, 30), "engine": "store", "parquet_dir": None}]
    status, out, _ = run(
        capsys, "alerts", "sweep", "--db", db, "--engine", "duckdb", "--parquet", "/tmp/pq"
    )
    assert status == 0
    assert calls[-1]["engine"] == "duckdb"
    assert calls[-1]["parquet_dir"] == Path("/tmp/pq")
    assert calls[-1]["as_of"] is None
    assert "late_report" in out
    assert "opened" in out
    status, out, _ = run(capsys, "alerts", "sweep", "--db", db, "--as-of", "June", "--json")
    assert status == 1
    assert json.loads(out)["error"] == {
        "code": "invalid",
        "message": "as_of: 'June' is not a YYYY-MM-DD date",
        "field": "as_of",
        "rule": "date",
    }
    assert len(calls) == 2
    status, _, _ = run(capsys, "alerts", "sweep", "--db", db, "--engine", "spark")
    assert status == 2


def test_score_against_labels(capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path) -> None:
    # the store holds a late_report alert on (code 1, maker) and a missing_recycling one
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "rule,battery,enterprise,event_ref,detail\n"
        f"late_report,{code(n=1)},{MAKER},sim-1,late\n"
        f"late_report,{code(n=2)},{MAKER},sim-2,late\n",
        encoding="utf-8",
    )
    status, out, _ = run(capsys, "alerts", "score", "--labels", str(labels), "--db", db, "--json")
    assert status == 0
    assert json.loads(out) == {
        "rules": [
            {
                "rule": "late_report",
                "labels": 2,
                "alerts": 1,
                "true_positives": 1,
                "precision": 1.0,
                "recall": 0.5,
            }
        ],
        "unlabelled_alerts": {"missing_recycling": 1},
    }
    status, out, _ = run(capsys, "alerts", "score", "--labels", str(labels), "--db", db)
    assert status == 0
    assert "0.500" in out
    assert "missing_recycling" in out
    status, out, _ = run(
        capsys, "alerts", "score", "--labels", str(tmp_path / "none.csv"), "--db", db, "--json"
    )
    assert status == 1
    assert json.loads(out)["error"]["field"] == "labels"
    labels.write_text("kind,battery\nx,y\n", encoding="utf-8")
    status, out, _ = run(capsys, "alerts", "score", "--labels", str(labels), "--db", db, "--json")
    assert status == 1
    assert json.loads(out)["error"]["rule"] == "label_columns"
