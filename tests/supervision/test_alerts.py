"""Alerts (battrace.supervision.alerts) on both engines: reconcile, the lifecycle, reads, and
who may see and act."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from battrace.codes import generate_credit_code
from battrace.domain.access import Caller
from battrace.errors import (
    CodeError,
    ConflictError,
    NotFoundError,
    PermissionDenied,
    Unauthenticated,
    ValidationError,
)
from battrace.services.demo import DemoFirm, register_demo_firms
from battrace.services.enterprises import register_enterprise
from battrace.store import Store, open_store
from battrace.supervision import alerts as al
from battrace.supervision.alerts import (
    Alert,
    acknowledge,
    alert_history,
    count_alerts,
    get_alert,
    list_alerts,
    reconcile,
    reopen,
    resolve,
)
from battrace.supervision.findings import Finding, Severity
from tests.api.conftest import national_credit_code
from tests.builders import code

T1 = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
T2 = datetime(2024, 5, 2, 2, 0, tzinfo=UTC)
T3 = datetime(2024, 5, 3, 2, 0, tzinfo=UTC)
FUJIAN_FIRM = "91350900000000019P"  # the demo battery maker, seated in Fujian
OTHER_FIRM = "91310000000000035E"  # the demo vehicle maker, Shanghai
Firms = dict[str, DemoFirm]


def finding(
    subject: str = "s1",
    *,
    rule: str = "late_report",
    battery: str | None = None,
    enterprise: str | None = FUJIAN_FIRM,
    severity: Severity = Severity.MEDIUM,
    evidence: tuple[int, ...] = (1, 2),
    detail: str = "reported late",
    province: str | None = "350100",
    day: str | None = "2024-04-01",
) -> Finding:
    return Finding(rule, severity, battery, enterprise, subject, evidence, detail, province, day)


@pytest.fixture
def regulators(world: Store) -> dict[str, str]:
    """A Fujian, a Guangdong and the national regulator, by name."""
    found = {}
    for name, credit, division in (
        ("fujian", generate_credit_code("350100", 901, authority="1"), "350100"),
        ("guangdong", generate_credit_code("440100", 902, authority="1"), "440100"),
        ("national", national_credit_code(903), "110000"),
    ):
        register_enterprise(
            world, credit_code=credit, name=name, roles=["regulator"], division=division
        )
        found[name] = credit
    return found


def _history(store: Store, alert_id: str) -> list[tuple[str, str | None, str | None]]:
    return [(c.status, c.by, c.comment) for c in alert_history(store, alert_id)]


def _alert(store: Store, alert_id: str) -> Alert:
    found = get_alert(store, alert_id)
    assert found is not None
    return found


# -- reconcile --------------------------------------------------------------------------------
def test_new_finding_opens_an_alert(world: Store) -> None:
    f = finding(battery=code(n=1))
    result = reconcile(world, [f], rules=["late_report"], now=T1)
    assert result.to_dict() == {
        "opened": 1,
        "reopened": 0,
        "updated": 0,
        "cleared": 0,
        "unchanged": 0,
    }
    alert = _alert(world, f.id)
    assert (alert.status, alert.found, alert.rule, alert.severity) == (
        "open",
        True,
        "late_report",
        "medium",
    )
    assert (alert.battery, alert.enterprise, alert.province) == (code(n=1), FUJIAN_FIRM, "350000")
    assert (alert.evidence, alert.detail, alert.day, alert.subject) == (
        (1, 2),
        "reported late",
        "2024-04-01",
        "s1",
    )
    assert alert.first_seen == alert.last_seen == "2024-05-01T02:00:00.000000Z"
    assert _history(world, f.id) == [("open", "system", None)]
    data = alert.to_dict()
    assert data["evidence"] == [1, 2]
    assert data["battery"] == code(n=1)
    assert {"id", "rule", "severity", "status", "enterprise", "found"} <= set(data)


def test_found_again_refreshes_without_a_second_alert(world: Store) -> None:
    f = finding()
    reconcile(world, [f], rules=["late_report"], now=T1)
    same = reconcile(world, [f], rules=["late_report"], now=T2)
    assert (same.unchanged, same.updated, same.opened) == (1, 0, 0)
    changed = finding(severity=Severity.HIGH, evidence=(1, 2, 3), detail="later still")
    assert changed.id == f.id
    result = reconcile(world, [changed], rules=["late_report"], now=T3)
    assert (result.updated, result.unchanged, result.opened) == (1, 0, 0)
    alert = _alert(world, f.id)
    assert (alert.severity, alert.evidence, alert.detail) == ("high", (1, 2, 3), "later still")
    assert (alert.first_seen[:10], alert.last_seen[:10]) == ("2024-05-01", "2024-05-03")
    assert world.count_alerts("status") == [("open", 1)]
    assert len(alert_history(world, f.id)) == 1  # no change of status, no history


def test_no_longer_found_is_cleared_and_found_again_reopens(world: Store) -> None:
    kept, gone = finding("kept"), finding("gone")
    reconcile(world, [kept, gone], rules=["late_report"], now=T1)
    result = reconcile(world, [kept], rules=["late_report"], now=T2)
    assert (result.cleared, result.unchanged) == (1, 1)
    cleared = _alert(world, gone.id)
    assert (cleared.status, cleared.found, cleared.resolved_by) == ("resolved", False, "system")
    assert cleared.resolved_at == "2024-05-02T02:00:00.000000Z"
    assert cleared.comment == "no longer found"
    assert cleared.last_seen[:10] == "2024-05-01"
    again = reconcile(world, [kept, gone], rules=["late_report"], now=T3)
    assert (again.reopened, again.unchanged, again.opened) == (1, 1, 0)
    back = _alert(world, gone.id)
    assert (back.status, back.found, back.resolved_by, back.comment) == (
        "open",
        True,
        None,
        "found again",
    )
    assert _history(world, gone.id) == [
        ("open", "system", None),
        ("resolved", "system", "no longer found"),
        ("open", "system", "found again"),
    ]


def test_acknowledged_alert_no_longer_found_is_cleared(
    world: Store, regulators: dict[str, str]
) -> None:
    f = finding()
    reconcile(world, [f], rules=["late_report"], now=T1)
    acknowledge(world, f.id, regulators["fujian"], "looking into it")
    assert reconcile(world, [], rules=["late_report"], now=T2).cleared == 1
    assert _alert(world, f.id).status == "resolved"


def test_resolved_by_a_person_stays_resolved(world: Store, regulators: dict[str, str]) -> None:
    f = finding()
    reconcile(world, [f], rules=["late_report"], now=T1)
    resolve(world, f.id, regulators["fujian"], "fined", now=T1)
    gone = reconcile(world, [], rules=["late_report"], now=T2)
    assert gone.cleared == 0
    alert = _alert(world, f.id)
    assert (alert.status, alert.found, alert.resolved_by) == (
        "resolved",
        False,
        regulators["fujian"],
    )
    back = reconcile(world, [f], rules=["late_report"], now=T3)
    assert (back.reopened, back.opened, back.updated) == (0, 0, 1)
    alert = _alert(world, f.id)
    assert (alert.status, alert.found, alert.last_seen[:10]) == ("resolved", True, "2024-05-03")
    assert [s for s, *_ in _history(world, f.id)] == ["open", "resolved"]


def test_scope_by_rules(world: Store) -> None:
    a, b = finding("a", rule="late_report"), finding("b", rule="missing_recycling")
    reconcile(world, [a, b], rules=["late_report", "missing_recycling"], now=T1)
    result = reconcile(world, [], rules=["late_report"], now=T2)
    assert result.cleared == 1
    assert _alert(world, b.id).status == "open"  # another rule: out of scope


def test_scope_by_batteries_and_enterprises(world: Store) -> None:
    on_one = finding("x", battery=code(n=1))
    on_two = finding("x", battery=code(n=2))
    firm_level = finding("y", battery=None, enterprise=FUJIAN_FIRM)
    other_firm = finding("y", battery=None, enterprise=OTHER_FIRM)
    everything = [on_one, on_two, firm_level, other_firm]
    reconcile(world, everything, rules=["late_report"], now=T1)
    assert reconcile(world, [], rules=["late_report"], batteries=[code(n=1)]).cleared == 1
    assert [_alert(world, f.id).status for f in everything] == [
        "resolved",
        "open",
        "open",
        "open",
    ]
    # enterprises: only their alerts without a battery (on_two is about FUJIAN_FIRM too)
    assert reconcile(world, [], rules=["late_report"], enterprises=[FUJIAN_FIRM]).cleared == 1
    assert _alert(world, on_two.id).status == "open"
    assert _alert(world, firm_level.id).status == "resolved"
    both = reconcile(
        world,
        [on_one, firm_level],
        rules=["late_report"],
        batteries=[code(n=1), code(n=2)],
        enterprises=[FUJIAN_FIRM],
    )
    assert (both.reopened, both.cleared) == (2, 1)
    assert _alert(world, on_two.id).status == "resolved"
    assert _alert(world, other_firm.id).status == "open"
    nothing = reconcile(world, [], rules=["late_report"], batteries=[], enterprises=[])
    assert nothing.to_dict() == dict.fromkeys(nothing.to_dict(), 0)


def test_finding_of_another_rule_is_refused_and_nothing_written(world: Store) -> None:
    with pytest.raises(ValueError, match="missing_recycling"):
        reconcile(
            world, [finding("a"), finding("b", rule="missing_recycling")], rules=["late_report"]
        )
    assert list_alerts(world) == []
    with pytest.raises(ValueError, match="not one of the rules"):
        reconcile(world, [finding("a")], rules=[])


def test_finding_outside_the_scope_is_refused(world: Store) -> None:
    with pytest.raises(ValueError, match="outside"):
        reconcile(world, [finding(battery=code(n=1))], rules=["late_report"], batteries=[code(n=2)])
    with pytest.raises(ValueError, match="outside"):
        reconcile(world, [finding(battery=None)], rules=["late_report"], batteries=[code(n=2)])
    with pytest.raises(ValueError, match="outside"):
        reconcile(
            world, [finding(battery=code(n=1))], rules=["late_report"], enterprises=[FUJIAN_FIRM]
        )
    assert list_alerts(world) == []


def test_finding_named_twice_counts_once(world: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(al, "BATCH", 2)
    first, later = finding("d", detail="first"), finding("d", detail="later")
    result = reconcile(world, [first, finding("e"), finding("f"), later], rules=["late_report"])
    assert result.opened == 3
    assert _alert(world, first.id).detail == "later"
    again = reconcile(world, [first, later, first], rules=["late_report"])
    assert (again.updated, again.unchanged, again.cleared) == (1, 0, 2)


def test_many_findings_in_batches_and_pages(world: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(al, "BATCH", 7)
    monkeypatch.setattr(al, "_SCOPE_PAGE", 5)
    findings = [finding(f"s{i}") for i in range(40)]
    assert reconcile(world, iter(findings), rules=["late_report"], now=T1).opened == 40
    result = reconcile(world, (f for f in findings[::2]), rules=["late_report"], now=T2)
    assert (result.unchanged, result.cleared) == (20, 20)
    assert count_alerts(world, group_by="status") == {"open": 20, "resolved": 20}
    result = reconcile(world, iter(findings), rules=["late_report"], now=T3)
    assert (result.unchanged, result.reopened) == (20, 20)


@pytest.mark.parametrize("digits", [1, 2])
def test_reconcile_in_parts_does_what_one_transaction_does(
    world: Store, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, digits: int
) -> None:
    monkeypatch.setattr(al, "_SCOPE_PAGE", 3)  # the parts page through their ids too
    findings = [finding(f"s{i}") for i in range(60)]
    assert len({f.id[0] for f in findings}) > 8  # spread over the parts
    lent: list[str] = []

    @contextmanager
    def writing() -> Iterator[Store]:
        lent.append("lent")
        yield world

    steps = [(findings, T1), (findings[::3], T2), (findings[1::2], T3)]
    with open_store(tmp_path / "whole.db") as whole:
        register_demo_firms(whole)
        for found, when in steps:
            lent.clear()
            parts = al.reconcile_in_parts(
                writing, found, rules=["late_report"], now=when, digits=digits
            )
            assert parts == reconcile(whole, found, rules=["late_report"], now=when)
            assert len(lent) == 16**digits  # the writer lent once a part
            assert _states(world) == _states(whole)
    # the steps opened, cleared and reopened alerts
    assert parts.reopened
    assert parts.cleared


def _states(store: Store) -> list[tuple[str, str, bool, str]]:
    return sorted((a.id, a.status, a.found, a.last_seen) for a in al.iter_alerts(store))


def test_id_parts_cover_every_text_once() -> None:
    for digits in (1, 2):
        ranges = al.id_parts(digits)
        assert len(ranges) == 16**digits
        for text in ("0000000000000000", "ffffffffffffffff", "7a00000000000000", "", "zz", "A"):
            inside = [i for i, ids in enumerate(ranges) if al._in_range(text, ids)]
            assert inside == [al.part_of(text, digits)]


def test_a_part_refuses_findings_of_other_parts(world: Store) -> None:
    f = finding()
    low, high = f.id[0], f"{int(f.id[0], 16) + 1:x}"
    assert reconcile(world, [f], rules=["late_report"], ids=(low, high)).opened == 1
    elsewhere = ("0", low) if low != "0" else (high, None)
    with pytest.raises(ValueError, match="outside the ids"):
        reconcile(world, [f], rules=["late_report"], ids=elsewhere)
    # an alert outside the part is not cleared by it
    assert reconcile(world, [], rules=["late_report"], ids=elsewhere).cleared == 0
    assert reconcile(world, [], rules=["late_report"], ids=(low, high)).cleared == 1


def test_scope_index_sorts_and_keeps_other_ids() -> None:
    index = al._ScopeIndex()
    for alert_id in ("00000000000000ff", "000000000000000a", "not-hex"):
        index._add(alert_id, True, True)
    index._sort()
    assert index.first_sight("000000000000000a")
    assert not index.first_sight("000000000000000a")  # once only
    assert index.first_sight("not-hex")
    assert not index.first_sight("not-hex")
    assert not index.first_sight("0000000000000001")  # not in scope
    assert not index.first_sight("elsewhere")
    assert list(index.unseen()) == [("00000000000000ff", 3)]


# -- the lifecycle ----------------------------------------------------------------------------
def test_lifecycle_and_history(world: Store, regulators: dict[str, str]) -> None:
    f = finding()
    reconcile(world, [f], rules=["late_report"], now=T1)
    fujian, national = regulators["fujian"], regulators["national"]
    acked = acknowledge(world, f.id, fujian, now=T2)
    assert (acked.status, acked.acknowledged_by, acked.acknowledged_at) == (
        "acknowledged",
        fujian,
        "2024-05-02T02:00:00.000000Z",
    )
    done = resolve(world, f.id, national, "fined 10,000 yuan", now=T3)
    assert (done.status, done.resolved_by, done.comment) == (
        "resolved",
        national,
        "fined 10,000 yuan",
    )
    assert done.acknowledged_by == fujian
    back = reopen(world, f.id, fujian, "the fine was not paid")
    assert (back.status, back.resolved_by, back.acknowledged_by) == ("open", None, None)
    assert resolve(world, f.id, fujian, "paid").status == "resolved"
    assert _history(world, f.id) == [
        ("open", "system", None),
        ("acknowledged", fujian, None),
        ("resolved", national, "fined 10,000 yuan"),
        ("open", fujian, "the fine was not paid"),
        ("resolved", fujian, "paid"),
    ]


@pytest.mark.parametrize(
    ("start", "act"),
    [
        ("acknowledged", "acknowledge"),
        ("resolved", "acknowledge"),
        ("resolved", "resolve"),
        ("open", "reopen"),
        ("acknowledged", "reopen"),
    ],
)
def test_wrong_transition_is_a_conflict(
    world: Store, regulators: dict[str, str], start: str, act: str
) -> None:
    f = finding()
    reconcile(world, [f], rules=["late_report"])
    by = regulators["national"]
    if start == "acknowledged":
        acknowledge(world, f.id, by)
    elif start == "resolved":
        resolve(world, f.id, by, "done")
    actions: dict[str, Any] = {
        "acknowledge": lambda: acknowledge(world, f.id, by, "again"),
        "resolve": lambda: resolve(world, f.id, by, "again"),
        "reopen": lambda: reopen(world, f.id, by, "again"),
    }
    with pytest.raises(ConflictError) as info:
        actions[act]()
    assert info.value.rule == "alert_transition"
    assert f.id in info.value.message
    assert start in info.value.message
    assert _alert(world, f.id).status == start
    assert len(alert_history(world, f.id)) == (1 if start == "open" else 2)


def test_unknown_alert(world: Store, regulators: dict[str, str]) -> None:
    with pytest.raises(NotFoundError) as info:
        acknowledge(world, "0123456789abcdef", regulators["national"])
    assert (info.value.field, info.value.rule) == ("alert_id", "registered")
    assert get_alert(world, "0123456789abcdef") is None


@pytest.mark.parametrize(
    ("comment", "rule"),
    [
        (None, "required"),
        ("", "length"),
        ("   ", "length"),
        ("x" * 2001, "length"),
        ("a\x00b", "text"),
        (42, "string_type"),
    ],
)
def test_bad_comment(world: Store, regulators: dict[str, str], comment: Any, rule: str) -> None:
    f = finding()
    reconcile(world, [f], rules=["late_report"])
    with pytest.raises(ValidationError) as info:
        resolve(world, f.id, regulators["national"], comment)
    assert (info.value.field, info.value.rule) == ("comment", rule)
    assert _alert(world, f.id).status == "open"
    if comment is not None:
        with pytest.raises(ValidationError):
            acknowledge(world, f.id, regulators["national"], comment)


def test_good_comment_edges(world: Store, regulators: dict[str, str]) -> None:
    f = finding()
    reconcile(world, [f], rules=["late_report"])
    assert resolve(world, f.id, regulators["national"], "x" * 2000).comment == "x" * 2000
    assert reopen(world, f.id, regulators["national"], "y").comment == "y"


def test_only_registered_regulators_act(world: Store, firms: Firms) -> None:
    f = finding()
    reconcile(world, [f], rules=["late_report"])
    with pytest.raises(PermissionDenied) as denied:
        acknowledge(world, f.id, firms["battery_maker"].credit_code)
    assert (denied.value.field, denied.value.rule) == ("by", "regulator_only")
    with pytest.raises(NotFoundError) as unknown:
        acknowledge(world, f.id, generate_credit_code("350100", 999, authority="1"))
    assert (unknown.value.field, unknown.value.rule) == ("by", "registered")
    with pytest.raises(CodeError) as malformed:
        acknowledge(world, f.id, "nobody")
    assert malformed.value.field == "by"
    assert _alert(world, f.id).status == "open"


# -- reads ------------------------------------------------------------------------------------
@pytest.fixture
def three(world: Store, regulators: dict[str, str]) -> list[Finding]:
    found = [
        finding("a", battery=code(n=1), severity=Severity.HIGH, province="350100"),
        finding("b", rule="missing_recycling", enterprise=OTHER_FIRM, province="440300"),
        finding("c", severity=Severity.LOW, province=None),
    ]
    reconcile(world, found, rules=["late_report", "missing_recycling"], now=T1)
    acknowledge(world, found[2].id, regulators["national"])
    return found


def _ids(alerts: list[Alert]) -> set[str]:
    return {a.id for a in alerts}


@pytest.mark.parametrize(
    ("filters", "wanted"),
    [
        ({}, {0, 1, 2}),
        ({"rule": "missing_recycling"}, {1}),
        ({"rule": "nothing_such"}, set()),
        ({"status": "acknowledged"}, {2}),
        ({"status": "resolved"}, set()),
        ({"severity": "high"}, {0}),
        ({"severity": "critical"}, set()),
        ({"battery": code(n=1)}, {0}),
        ({"battery": code(n=2)}, set()),
        ({"enterprise": OTHER_FIRM}, {1}),
        ({"enterprise": FUJIAN_FIRM, "severity": "low"}, {2}),
        ({"province": "35"}, {0}),
        ({"province": "440000"}, {1}),
        ({"province": "110000"}, set()),
    ],
)
def test_list_filters(
    world: Store, three: list[Finding], filters: dict[str, str], wanted: set[int]
) -> None:
    assert _ids(list_alerts(world, **filters)) == {three[i].id for i in wanted}


def test_list_pages_by_id(world: Store, three: list[Finding]) -> None:
    ordered = sorted(f.id for f in three)
    first = list_alerts(world, limit=2)
    assert [a.id for a in first] == ordered[:2]
    assert [a.id for a in list_alerts(world, limit=2, after=first[-1].id)] == ordered[2:]
    page = al.alert_page(world, limit=2)
    assert page["next"] == ordered[1]
    assert al.alert_page(world, limit=3)["next"] == ordered[2]
    assert al.alert_page(world, limit=4)["next"] is None


@pytest.mark.parametrize(
    ("filters", "field", "rule"),
    [
        ({"status": "closed"}, "status", "enum"),
        ({"severity": "urgent"}, "severity", "enum"),
        ({"limit": 0}, "limit", "range"),
        ({"limit": 1001}, "limit", "range"),
        ({"after": "xyz"}, "after", "format"),
        ({"rule": "no spaces"}, "rule", "format"),
        ({"province": "3"}, "province", "format"),
        ({"province": "990000"}, "province", None),
        ({"battery": "nope"}, "battery", None),
        ({"enterprise": "nope"}, "enterprise", None),
    ],
)
def test_list_refuses_bad_filters(
    world: Store, filters: dict[str, Any], field: str, rule: str | None
) -> None:
    with pytest.raises(ValidationError) as info:
        list_alerts(world, **filters)
    assert info.value.field == field
    if rule is not None:
        assert info.value.rule == rule


def test_counts(world: Store, three: list[Finding]) -> None:
    assert count_alerts(world, group_by="rule") == {"late_report": 2, "missing_recycling": 1}
    assert count_alerts(world, group_by="severity") == {"high": 1, "medium": 1, "low": 1}
    assert count_alerts(world, group_by="status") == {"open": 2, "acknowledged": 1}
    assert count_alerts(world, group_by="province") == {"350000": 1, "440000": 1, "none": 1}
    assert count_alerts(world, group_by="rule", status="open") == {
        "late_report": 1,
        "missing_recycling": 1,
    }
    assert count_alerts(world, group_by="status", province="35") == {"open": 1}
    with pytest.raises(ValidationError) as info:
        count_alerts(world, group_by="colour")
    assert (info.value.field, info.value.rule) == ("group_by", "enum")
    with pytest.raises(ValueError, match="colour"):
        world.count_alerts("colour")


# -- who may see and act ---------------------------------------------------------------------
def _caller(store: Store, credit: str | None) -> Caller:
    return Caller(store.enterprise(credit) if credit is not None else None)


def test_who_may_read_and_act(
    world: Store, three: list[Finding], regulators: dict[str, str]
) -> None:
    fujian_alert, guangdong_alert, nowhere = (_alert(world, f.id) for f in three)
    callers = {
        "anonymous": _caller(world, None),
        "fujian_firm": _caller(world, FUJIAN_FIRM),
        "other_firm": _caller(world, OTHER_FIRM),
        **{name: _caller(world, credit) for name, credit in regulators.items()},
    }
    readable = {
        name: {a.id for a in (fujian_alert, guangdong_alert, nowhere) if al.may_read_alert(c, a)}
        for name, c in callers.items()
    }
    assert readable == {
        "anonymous": set(),
        "fujian_firm": {fujian_alert.id, nowhere.id},
        "other_firm": {guangdong_alert.id},
        "fujian": {fujian_alert.id},
        "guangdong": {guangdong_alert.id},
        "national": {fujian_alert.id, guangdong_alert.id, nowhere.id},
    }
    actable = {
        name: {a.id for a in (fujian_alert, guangdong_alert, nowhere) if al.may_act_on_alert(c, a)}
        for name, c in callers.items()
    }
    assert actable == {**readable, "fujian_firm": set(), "other_firm": set()}


def test_checks_name_field_and_rule(
    world: Store, three: list[Finding], regulators: dict[str, str]
) -> None:
    fujian_alert = three[0].id
    guangdong = _caller(world, regulators["guangdong"])
    firm = _caller(world, FUJIAN_FIRM)
    assert al.check_read_alert(world, firm, fujian_alert).id == fujian_alert
    with pytest.raises(Unauthenticated):
        al.check_read_alert(world, Caller(), fujian_alert)
    with pytest.raises(PermissionDenied) as info:
        al.check_read_alert(world, guangdong, fujian_alert)
    assert info.value.rule == "jurisdiction"
    with pytest.raises(PermissionDenied) as info:
        al.check_read_alert(world, _caller(world, OTHER_FIRM), fujian_alert)
    assert info.value.rule == "own_alerts_only"
    with pytest.raises(NotFoundError):
        al.check_read_alert(world, firm, "0123456789abcdef")
    with pytest.raises(PermissionDenied) as info:
        al.check_act_on_alert(world, firm, fujian_alert)
    assert info.value.rule == "regulator_only"
    with pytest.raises(PermissionDenied) as info:
        al.check_act_on_alert(world, guangdong, fujian_alert)
    assert (info.value.rule, info.value.field) == ("jurisdiction", "alert_id")
    with pytest.raises(NotFoundError):
        al.check_act_on_alert(world, guangdong, "0123456789abcdef")
    fujian = _caller(world, regulators["fujian"])
    assert al.check_act_on_alert(world, fujian, fujian_alert).id == fujian_alert


def test_list_scope(world: Store, regulators: dict[str, str]) -> None:
    national = _caller(world, regulators["national"])
    fujian = _caller(world, regulators["fujian"])
    firm = _caller(world, FUJIAN_FIRM)
    assert al.alert_scope(national, OTHER_FIRM, "44") == (OTHER_FIRM, "44")
    assert al.alert_scope(fujian, None, None) == (None, "350000")
    assert al.alert_scope(fujian, OTHER_FIRM, "35") == (OTHER_FIRM, "350000")
    with pytest.raises(PermissionDenied) as info:
        al.alert_scope(fujian, None, "440000")
    assert (info.value.field, info.value.rule) == ("province", "jurisdiction")
    assert al.alert_scope(firm, None, "35") == (FUJIAN_FIRM, "35")
    assert al.alert_scope(firm, FUJIAN_FIRM.lower(), None) == (FUJIAN_FIRM, None)
    with pytest.raises(PermissionDenied) as info:
        al.alert_scope(firm, OTHER_FIRM, None)
    assert (info.value.field, info.value.rule) == ("enterprise", "own_alerts_only")
    with pytest.raises(Unauthenticated):
        al.alert_scope(Caller(), None, None)


def test_province_code() -> None:
    assert al.province_code("350100") == "350000"
    assert al.province_code("35") == "350000"
    assert al.province_code(None) is None
    assert al.province_code("abroad") == "abroad"
