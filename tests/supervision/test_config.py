"""The rules' settings file: what it may change, and the errors for what it may not."""

from __future__ import annotations

from pathlib import Path

import pytest

from battrace.errors import ValidationError
from battrace.supervision.config import RULE_SEVERITY, RuleSettings, load_settings
from battrace.supervision.findings import Severity
from battrace.supervision.rules import RULES


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_follow_the_regulations() -> None:
    settings = load_settings(None)
    assert settings == RuleSettings()
    assert settings.deadlines["vehicle_maker"] == 15
    assert settings.deadlines["recycler"] == 30
    assert settings.china_min_recovery == {"li": 0.90, "ni": 0.98, "co": 0.98, "mn": 0.98}
    assert set(RULE_SEVERITY) == set(RULES) == set(settings.rules)


def test_a_file_changes_what_it_names(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        'rules = ["late_report"]\ncollect_days = 45\nmass_tolerance = 0.01\n'
        '[deadlines]\ndealer = 20\n[severity]\nlate_report = "high"\n'
        "[china_min_recovery]\nli = 0.92\n",
    )
    settings = load_settings(path)
    assert settings.rules == ("late_report",)
    assert settings.collect_days == 45
    assert isinstance(settings.collect_days, int)
    assert settings.mass_tolerance == 0.01
    assert settings.deadlines["dealer"] == 20
    assert settings.deadlines["vehicle_maker"] == 15  # untouched
    assert settings.severity["late_report"] is Severity.HIGH
    assert settings.china_min_recovery == {"li": 0.92}


@pytest.mark.parametrize(
    ("text", "field", "rule"),
    [
        ("collect_dayz = 4\n", "collect_dayz", "known_setting"),
        ("collect_days = -1\n", "collect_days", "non_negative_number"),
        ('collect_days = "ten"\n', "collect_days", "non_negative_number"),
        ('rules = ["no_such_rule"]\n', "rules", "known_rule"),
        ("[deadlines]\ndealer = 0\n", "deadlines.dealer", "positive_integer"),
        ('[severity]\nlate_report = "urgent"\n', "severity.late_report", "enum"),
        ('[severity]\nnope = "low"\n', "severity.nope", "known_rule"),
        ("[china_min_recovery]\nli = 1.5\n", "china_min_recovery.li", "share"),
        ("deadlines = 3\n", "deadlines", "table"),
        ("eu_min_recovery = 3\n", "eu_min_recovery", "settable"),
        ("not toml = = \n", "supervision_rules", "toml"),
    ],
)
def test_bad_settings_are_refused_naming_the_key(
    tmp_path: Path, text: str, field: str, rule: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        load_settings(_file(tmp_path, text))
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read") as caught:
        load_settings(tmp_path / "absent.toml")
    assert caught.value.field == "supervision_rules"
