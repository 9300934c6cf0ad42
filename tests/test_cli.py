"""The command line, run in-process through ``main`` (the one place errors become output)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from battrace.cli import main
from battrace.services.demo import DemoFirm, demo_events, demo_firms
from tests.builders import code


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def add_firm(capsys: pytest.CaptureFixture[str], db: str, firm: DemoFirm) -> int:
    args = ["enterprise", "add", "--db", db, "--credit-code", firm.credit_code]
    args += ["--name", firm.name, "--roles", ",".join(firm.roles), "--division", firm.division]
    if firm.manufacturer_code:
        args += ["--manufacturer-code", firm.manufacturer_code]
    return run(capsys, *args)[0]


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "cli.db")


def test_code_parse_fixed_interface(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "code", "parse", code(), "--json")
    assert status == 0
    data = json.loads(out)
    assert set(data) == {
        "manufacturer",
        "product_type",
        "battery_type",
        "spec",
        "traceability",
        "production_date",
        "serial",
        "second_life",
    }
    assert data["production_date"] == "2024-03-15"
    assert data["product_type"] == "pack"
    assert data["second_life"] is False


def test_code_parse_invalid_names_position(capsys: pytest.CaptureFixture[str]) -> None:
    bad = code()[:14] + "I" + code()[15:]
    status, _, err = run(capsys, "code", "parse", bad)
    assert status != 0
    assert "15" in err
    status, out, _ = run(capsys, "code", "parse", bad, "--json")
    assert status != 0
    assert json.loads(out)["error"]["position"] == 15


def test_code_generate_round_trip(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys,
        "code",
        "generate",
        "--manufacturer",
        "N1D",
        "--count",
        "3",
        "--production-date",
        "2031-12-31",
        "--json",
    )
    codes = json.loads(out)
    assert status == 0
    assert len(set(codes)) == 3
    _, parsed, _ = run(capsys, "code", "parse", codes[2], "--json")
    assert json.loads(parsed)["production_date"] == "2031-12-31"


def test_whole_flow(capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path) -> None:
    assert run(capsys, "init", "--db", db)[0] == 0
    for firm in demo_firms():
        assert add_firm(capsys, db, firm) == 0
    status, out, _ = run(capsys, "enterprise", "list", "--db", db, "--json")
    assert status == 0
    assert len(json.loads(out)) == 12
    events = tmp_path / "events.ndjson"
    events.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in demo_events(10)))
    status, out, _ = run(capsys, "import", str(events), "--db", db, "--json")
    assert status == 0
    assert json.loads(out)["accepted"] > 50
    status, out, _ = run(capsys, "batteries", "--db", db, "--state", "recycled", "--json")
    first = json.loads(out)["items"][0]["code"]
    status, out, _ = run(capsys, "show", first, "--db", db, "--json")
    assert status == 0
    assert json.loads(out)["history"][-1]["type"] == "recycled"
    status, out, _ = run(capsys, "show", first, "--db", db)
    assert status == 0
    assert "recycled" in out
    # an event in a bad state is refused with battery, rule and state named, nothing written
    maker = demo_firms()[0]
    bad = {
        "type": "tested",
        "batteries": [first],
        "actor": maker.credit_code,
        "occurred_at": "2024-01-01",
        "body": {"soh_percent": "50"},
    }
    before = run(capsys, "show", first, "--db", db, "--json")[1]
    status, _, err = run(capsys, "report", json.dumps(bad), "--db", db)
    assert status == 1
    assert first in err
    assert "recycled" in err
    assert run(capsys, "show", first, "--db", db, "--json")[1] == before


def test_register_and_report(capsys: pytest.CaptureFixture[str], db: str) -> None:
    maker = demo_firms()[0]
    vm = demo_firms()[2]
    for firm in (maker, vm):
        assert add_firm(capsys, db, firm) == 0
    status, out, _ = run(
        capsys,
        "register",
        code(),
        "--db",
        db,
        "--maker",
        maker.credit_code,
        "--chemistry",
        "LFP",
        "--capacity",
        "150",
        "--voltage",
        "384",
        "--energy",
        "57.6",
        "--mass",
        "400",
        "--composition",
        '{"li": "4"}',
        "--json",
    )
    assert status == 0
    assert json.loads(out)["type"] == "produced"
    shipped = {
        "type": "shipped",
        "batteries": [code()],
        "actor": maker.credit_code,
        "counterparty": vm.credit_code,
        "occurred_at": "2024-04-01T09:00:00+08:00",
    }
    status, out, _ = run(capsys, "report", json.dumps(shipped), "--db", db, "--json")
    assert status == 0
    status, out, _ = run(capsys, "pending", vm.credit_code, "--db", db, "--json")
    assert [p["battery"] for p in json.loads(out)] == [code()]


def test_errors_are_clean(capsys: pytest.CaptureFixture[str], db: str) -> None:
    status, out, _ = run(capsys, "report", "{oops", "--db", db, "--json")
    assert status == 1
    assert json.loads(out)["error"]["field"] == "event"
    status, _, err = run(capsys, "import", "/nonexistent.ndjson", "--db", db)
    assert status == 1
    assert "does not exist" in err
    status, _, err = run(capsys, "show", "--db", db)
    assert status == 2
    assert "Missing argument" in err


@pytest.mark.postgres
def test_database_url_selects_postgres(
    capsys: pytest.CaptureFixture[str], pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    monkeypatch.setenv("BATTRACE_DATABASE_URL", pg_database)
    status, out, _ = run(capsys, "init", "--json")
    assert status == 0
    assert json.loads(out)["dialect"] == "postgres"
    assert add_firm(capsys, pg_database, demo_firms()[0]) == 0  # --db with a URL works too
    status, out, _ = run(capsys, "enterprise", "list", "--json")
    assert [e["id"] for e in json.loads(out)] == [demo_firms()[0].credit_code]


def test_signed_reports_through_the_cli(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    maker = demo_firms()[0]
    assert add_firm(capsys, db, maker) == 0
    key_file = tmp_path / "maker.key"
    status, out, _ = run(capsys, "keygen", "--out", str(key_file), "--json")
    assert status == 0
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    public = json.loads(out)["public_key"]
    status, out, _ = run(
        capsys,
        "enterprise",
        "key",
        "add",
        maker.credit_code,
        "--public-key",
        public,
        "--db",
        db,
        "--json",
    )
    key_id = json.loads(out)["key_id"]
    event = {
        "type": "produced",
        "batteries": [code(n=1)],
        "actor": maker.credit_code,
        "occurred_at": "2024-03-15",
        "body": {
            "chemistry": "LFP",
            "rated_capacity_ah": "150",
            "nominal_voltage_v": "384",
            "energy_kwh": "57.6",
            "mass_kg": "400",
        },
    }
    status, _, err = run(capsys, "report", json.dumps(event), "--db", db)
    assert status == 1
    assert "signature_required" in err
    status, out, _ = run(
        capsys, "report", json.dumps(event), "--db", db, "--sign-key", str(key_file), "--json"
    )
    assert status == 0
    file = tmp_path / "more.ndjson"
    more = [{**event, "batteries": [code(n=i)]} for i in (2, 3)]
    file.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in more))
    status, out, _ = run(
        capsys, "import", str(file), "--db", db, "--sign-key", str(key_file), "--json"
    )
    assert status == 0
    assert json.loads(out)["accepted"] == 2
    status, out, _ = run(
        capsys, "enterprise", "key", "list", maker.credit_code, "--db", db, "--json"
    )
    assert [k["key_id"] for k in json.loads(out)] == [key_id]
    assert run(capsys, "enterprise", "key", "revoke", key_id, "--db", db)[0] == 0
    status, _, err = run(
        capsys,
        "report",
        json.dumps({**event, "batteries": [code(n=4)]}),
        "--db",
        db,
        "--sign-key",
        str(key_file),
    )
    assert status == 1
    assert "key_revoked" in err
    assert run(capsys, "verify", "--db", db)[0] == 0


def test_token_commands(capsys: pytest.CaptureFixture[str], db: str) -> None:
    from battrace.services.tokens import authenticate
    from battrace.store import open_store

    firm = demo_firms()[0]
    assert add_firm(capsys, db, firm) == 0
    status, out, _ = run(
        capsys, "token", "create", firm.credit_code, "--label", "ERP", "--db", db, "--json"
    )
    assert status == 0
    made = json.loads(out)
    assert made["token"].startswith("btk_")
    with open_store(db) as store:
        assert authenticate(store, made["token"]).id == firm.credit_code
    status, out, _ = run(capsys, "token", "list", firm.credit_code, "--db", db, "--json")
    listed = json.loads(out)
    assert [t["token_id"] for t in listed] == [made["token_id"]]
    assert "token" not in listed[0]
    status, out, _ = run(capsys, "token", "revoke", made["token_id"], "--db", db)
    assert status == 0
    assert "revoked" in out
    status, _, err = run(capsys, "token", "revoke", made["token_id"], "--db", db)
    assert status == 1
    assert "revoked at" in err
    status, out, _ = run(capsys, "token", "create", firm.credit_code, "--db", db)
    assert status == 0
    assert out.startswith("btk_")


def test_serve_runs_uvicorn_in_production_mode(
    capsys: pytest.CaptureFixture[str], db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    seen: dict[str, object] = {}

    def fake_run(app: object, **options: object) -> None:
        seen.update(options, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    status, _, err = run(capsys, "serve", "--db", db, "--port", "8123")
    assert status == 0
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8123)
    assert seen["reload"] is False
    assert seen["access_log"] is False
    assert "http://127.0.0.1:8123" in err
