from __future__ import annotations

from pathlib import Path

import pytest

from battrace.config import SETTINGS, load_settings
from battrace.errors import ValidationError

DOC = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [s.env for s in SETTINGS if s.env not in text]
    assert missing == []


def test_database_url_wins_over_path() -> None:
    assert load_settings({}).database_target == "battrace.db"
    env = {"BATTRACE_DB": "x.db", "BATTRACE_DATABASE_URL": "postgresql://h/db"}
    assert load_settings(env).database_target == "postgresql://h/db"
    assert load_settings({"BATTRACE_DB": "x.db"}).database_target == "x.db"


def test_bad_setting_names_variable() -> None:
    with pytest.raises(ValidationError) as info:
        load_settings({"BATTRACE_IMPORT_CHUNK": "lots"})
    assert info.value.field == "BATTRACE_IMPORT_CHUNK"
    assert load_settings({"BATTRACE_IMPORT_CHUNK": "10"}).import_chunk == 10


def test_api_settings() -> None:
    settings = load_settings({"BATTRACE_API_MAX_BODY": "2048", "BATTRACE_API_PORT": "9000"})
    assert (settings.api_max_body, settings.api_port) == (2048, 9000)
    assert load_settings({}).api_max_batch_items == 10_000
    with pytest.raises(ValidationError) as info:
        load_settings({"BATTRACE_API_PORT": "70000"})
    assert info.value.field == "BATTRACE_API_PORT"
    with pytest.raises(ValidationError):
        load_settings({"BATTRACE_API_READERS": "0"})
