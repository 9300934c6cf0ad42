"""``battrace simulate`` and ``battrace simulate-load`` through the one CLI entry point."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from battrace.cli import main
from battrace.store import open_store


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


SMALL = ("--batteries", "300", "--seed", "4", "--end-year", "2020", "--violation-rate", "0.05")


def test_simulate_into_a_database(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db, labels = tmp_path / "sim.db", tmp_path / "labels.csv"
    status, out, _ = run(capsys, "simulate", *SMALL, "--db", str(db), "--labels", str(labels))
    assert status == 0
    assert "unexpectedly" in out
    status, out, _ = run(
        capsys,
        "simulate",
        *SMALL,
        "--db",
        str(tmp_path / "b.db"),
        "--labels",
        str(labels),
        "--json",
    )
    assert status == 0
    info = json.loads(out)
    assert info["unexpected_rejections"] == 0
    assert info["enterprises_added"] > 400
    with open_store(tmp_path / "b.db") as store:
        assert store.count("events") == info["accepted"] > 1_000
    with labels.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == ["rule", "battery", "enterprise", "event_ref", "detail"]
    assert len(rows) == info["labels"] == sum(info["labels_by_rule"].values())
    assert info["expected_rejections"] == sum(
        n
        for rule, n in info["labels_by_rule"].items()
        if rule in ("reused_code", "event_after_end")
    )


def test_simulate_to_files_then_load(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    events, labels = tmp_path / "sim.ndjson", tmp_path / "labels.csv"
    status, out, _ = run(
        capsys, "simulate", *SMALL, "--out", str(events), "--labels", str(labels), "--json"
    )
    assert status == 0
    info = json.loads(out)
    assert info["events"] == len(events.read_bytes().splitlines())
    assert info["enterprises"] == len(
        (tmp_path / "sim.enterprises.ndjson").read_bytes().splitlines()
    )
    assert info["refused"] == len((tmp_path / "sim.refused.ndjson").read_bytes().splitlines())
    assert labels.read_text(encoding="utf-8").startswith(
        "rule,battery,enterprise,event_ref,detail\n"
    )
    db = str(tmp_path / "loaded.db")
    status, out, _ = run(capsys, "simulate-load", str(events), "--db", db, "--json")
    assert status == 0
    loaded = json.loads(out)
    assert loaded["accepted"] == info["events"]
    assert loaded["expected_rejections"] == info["refused"]
    assert loaded["unexpected_rejections"] == 0
    status, out, _ = run(capsys, "simulate", *SMALL, "--out", str(events))
    assert status == 0
    assert f"wrote {info['events']} events" in out


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--batteries", "-5"), "batteries"),
        (("--batteries", "0"), "batteries"),
        (("--violation", "nonsense=0.1"), "nonsense"),
        (("--violation", "late_report"), "violation"),
        (("--violation-rate", "2"), "violation_rate"),
        (("--start-year", "2010"), "start_year"),
        (("--start-year", "2024", "--end-year", "2020"), "end_year"),
        (("--until", "2020-01-01"), "until"),
        (("--batch-size", "0"), "batch_size"),
    ],
)
def test_bad_options_are_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: tuple[str, ...], named: str
) -> None:
    db = str(tmp_path / "bad.db")
    status, _, err = run(capsys, "simulate", *args, "--db", db)
    assert status == 1
    assert named in err
    status, out, _ = run(capsys, "simulate", *args, "--db", db, "--json")
    assert status == 1
    assert named in json.loads(out)["error"]["message"]


def test_db_and_out_together_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ("simulate", "--db", str(tmp_path / "a.db"), "--out", str(tmp_path / "a.ndjson"))
    status, _, err = run(capsys, *args)
    assert status == 1
    assert "--out" in err
    assert "--db" in err
    assert not (tmp_path / "a.db").exists()
    assert not (tmp_path / "a.ndjson").exists()


def test_database_with_events_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "twice.db")
    assert run(capsys, "simulate", *SMALL, "--db", db)[0] == 0
    status, out, _ = run(capsys, "simulate", *SMALL, "--db", db, "--json")
    assert status == 1
    assert json.loads(out)["error"]["field"] == "db"


def test_if_empty_fills_an_empty_database_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db, labels = str(tmp_path / "sim.db"), tmp_path / "labels.csv"
    args = ("simulate", *SMALL, "--db", db, "--if-empty", "--labels", str(labels), "--json")
    status, out, _ = run(capsys, *args)
    assert status == 0
    first = json.loads(out)
    assert first["accepted"] > 0
    written = labels.read_text(encoding="utf-8")
    assert written.count("\n") > 1
    status, out, _ = run(capsys, *args)
    assert status == 0
    assert labels.read_text(encoding="utf-8") == written  # the first run's labels are kept
    again = json.loads(out)
    assert again["loaded"] is False
    assert again["events"] == first["accepted"]
    with open_store(Path(db)) as store:
        assert store.count("events") == first["accepted"]
