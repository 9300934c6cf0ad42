"""The remote auditor audits a served log: in-process through the ASGI app, and over HTTP
against uvicorn with the command line (``battrace verify --remote``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from battrace.api import create_app
from battrace.cli import main
from battrace.config import load_settings
from battrace.errors import NotFoundError, StoreError
from battrace.services import log
from battrace.services.demo import load_demo
from battrace.services.remote_audit import verify_remote
from battrace.store import open_store
from tests.api.conftest import live_server


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str]:
    """A log of several hundred leaves (full and partial tiles), its key and an early
    checkpoint."""
    db = tmp_path_factory.mktemp("remote") / "demo.db"
    store = open_store(db)
    load_demo(store, 40, log_policy=log.CheckpointPolicy(every_leaves=100, every_seconds=3600))
    first = store.checkpoints()[0].note
    key = log.log_verifier_key(store)
    store.close()
    return str(db), key, first


def test_audit_through_the_app(demo_db: tuple[str, str, str]) -> None:
    db, key, first = demo_db
    with TestClient(create_app(db, load_settings({}))) as client:

        def fetch(path: str) -> bytes:
            response = client.get("/" + path)
            if response.status_code == 404:
                raise NotFoundError(path)
            if response.status_code != 200:
                raise StoreError(f"{path}: HTTP {response.status_code}")
            return response.content

        report = verify_remote(fetch, key, extra_checkpoints=[first])
        assert report.ok, report.problems
        assert report.leaves == int(client.get("/health").json()["log_size"])
        assert report.leaves > 256
        assert report.checkpoints == 2


@pytest.fixture
def served(demo_db: tuple[str, str, str]) -> Iterator[str]:
    with live_server(create_app(demo_db[0], load_settings({}))) as url:
        yield url


def test_cli_audits_a_live_server(
    served: str,
    demo_db: tuple[str, str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, key, first = demo_db
    saved = tmp_path / "first.note"
    saved.write_text(first, encoding="utf-8")
    status = main(["verify", "--remote", served, "--key", key, "--checkpoint", str(saved)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "2 checkpoints verified" in out
