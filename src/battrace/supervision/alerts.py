"""Alerts: the findings of the supervision rules, kept with a lifecycle.

A rule's :class:`~battrace.supervision.findings.Finding` becomes an alert with the same id
(derived from what the breach is, never from when it was found), so finding a breach again
never raises a second alert. :func:`reconcile` brings the stored alerts of some rules in line
with what an evaluation of those rules found; regulators then move alerts through their
lifecycle (docs/supervision.md)::

      (a rule finds it)
              |
              v
            open ------ acknowledge ------> acknowledged
            |  ^                                 |
    resolve |  |  reopen (a regulator), or       | resolve
            |  |  found again (only if the       |
            v  |  system had resolved it)        v
          resolved <-----------------------------+
              ^
              +--- no longer found: the system resolves an open or acknowledged alert

An alert the system resolved opens again when it is found again; one a regulator resolved
stays resolved (its ``found`` and ``last_seen`` still follow the evaluations). Every change
of status adds a history row saying who made it (a regulator's credit code, or ``system``).

Who may see and act (:func:`may_read_alert`, :func:`may_act_on_alert`): the national
regulator every alert; a provincial regulator the alerts of its province; an enterprise, to
read only, the alerts whose ``enterprise`` is itself.
"""

from __future__ import annotations

import re
import time
from array import array
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson

from battrace.codes import parse_battery_code, validate_credit_code, validate_division_code
from battrace.domain.access import Caller
from battrace.domain.entities import Enterprise
from battrace.domain.quantities import utc_now
from battrace.domain.roles import Role
from battrace.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from battrace.services.access import denied, require_caller
from battrace.store.base import ALERT_GROUPS, AlertFilter, Store
from battrace.store.rows import Row, db_time, json_text
from battrace.store.writes import WriteTransaction
from battrace.supervision.findings import Finding, Severity

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
STATUSES = (OPEN, ACKNOWLEDGED, RESOLVED)
SYSTEM = "system"  # who changed an alert's status when no person did
FOUND_AGAIN = "found again"
NO_LONGER_FOUND = "no longer found"
MAX_COMMENT = 2000
MAX_PAGE = 1000
BATCH = 5_000  # findings per upsert round trip
#: a range of alert ids: from the first (included) to the second (excluded); None: no bound
IdRange = tuple[str | None, str | None]
_SCOPE_PAGE = 50_000  # ids per query when loading the alerts in scope
_ALERT_ID = re.compile(r"[0-9a-f]{16}")
_RULE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_SEVERITIES = tuple(s.value for s in Severity)


@dataclass(frozen=True, slots=True)
class Alert:
    """A finding as stored, with its lifecycle."""

    id: str
    rule: str
    severity: str
    status: str
    battery: str | None
    enterprise: str | None
    province: str | None
    subject: str
    evidence: tuple[int, ...]
    detail: str
    day: str | None
    first_seen: str
    last_seen: str
    found: bool
    acknowledged_by: str | None
    acknowledged_at: str | None
    resolved_by: str | None
    resolved_at: str | None
    comment: str | None

    @classmethod
    def from_row(cls, row: Row) -> Alert:
        """An alert from a row of :data:`battrace.store.rows.ALERT_COLUMNS`."""
        return cls(
            id=row[0],
            rule=row[1],
            severity=row[2],
            status=row[3],
            battery=row[4],
            enterprise=row[5],
            province=row[6],
            subject=row[7],
            evidence=tuple(int(e) for e in orjson.loads(row[8])),
            detail=row[9],
            day=row[10],
            first_seen=row[11],
            last_seen=row[12],
            found=bool(row[13]),
            acknowledged_by=row[14],
            acknowledged_at=row[15],
            resolved_by=row[16],
            resolved_at=row[17],
            comment=row[18],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule,
            "severity": self.severity,
            "status": self.status,
            "battery": self.battery,
            "enterprise": self.enterprise,
            "province": self.province,
            "subject": self.subject,
            "evidence": list(self.evidence),
            "detail": self.detail,
            "day": self.day,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "found": self.found,
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": self.acknowledged_at,
            "resolved_by": self.resolved_by,
            "resolved_at": self.resolved_at,
            "comment": self.comment,
        }


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One entry of an alert's history: the status it entered, when, by whom, why."""

    id: int
    alert_id: str
    at: str
    status: str
    by: str | None
    comment: str | None

    @classmethod
    def from_row(cls, row: Row) -> AlertChange:
        return cls(int(row[0]), row[1], row[2], row[3], row[4], row[5])

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "status": self.status, "by": self.by, "comment": self.comment}


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    """What :func:`reconcile` did to the alerts in its scope.

    ``opened``: new alerts; ``reopened``: alerts the system had resolved, found again;
    ``updated``: alerts found again whose severity, evidence or detail changed (or that were
    not found last time); ``unchanged``: found again as they were; ``cleared``: open or
    acknowledged alerts no longer found, now resolved by the system.
    """

    opened: int
    reopened: int
    updated: int
    cleared: int
    unchanged: int

    def to_dict(self) -> dict[str, int]:
        return {
            "opened": self.opened,
            "reopened": self.reopened,
            "updated": self.updated,
            "cleared": self.cleared,
            "unchanged": self.unchanged,
        }


# -- reconciling findings with stored alerts ----------------------------------------------------
_ACTIVE, _FOUND, _SEEN = 1, 2, 4  # state bits of an alert in scope


class _ScopeIndex:
    """The alerts in scope when reconciling starts: id, whether open or acknowledged, whether
    found, and whether this evaluation has found it yet.

    Ids are 16 hex digits, kept as 64-bit integers in a sorted array and flags in a byte
    array: about 9 bytes an alert, so a million alerts in scope take 9 MB, not hundreds.
    """

    def __init__(self) -> None:
        self._keys: array[int] = array("Q")
        self._state = bytearray()
        self._other: dict[str, int] = {}  # ids not of 16 hex digits (none that reconcile made)

    @classmethod
    def load(
        cls,
        tx: WriteTransaction,
        rules: list[str],
        batteries: list[str] | None,
        enterprises: list[str] | None,
        ids: IdRange = (None, None),
    ) -> _ScopeIndex:
        index = cls()
        after = ""
        while True:
            rows = tx.alert_scope_page(rules, batteries, enterprises, after, _SCOPE_PAGE, ids)
            for alert_id, status, found in rows:
                index._add(alert_id, status in (OPEN, ACKNOWLEDGED), bool(found))
            if len(rows) < _SCOPE_PAGE:
                break
            after = rows[-1][0]
        index._sort()
        return index

    def _add(self, alert_id: str, active: bool, found: bool) -> None:
        state = (_ACTIVE if active else 0) | (_FOUND if found else 0)
        if _ALERT_ID.fullmatch(alert_id):
            self._keys.append(int(alert_id, 16))
            self._state.append(state)
        else:
            self._other[alert_id] = state

    def _sort(self) -> None:
        keys = self._keys
        if all(keys[i] < keys[i + 1] for i in range(len(keys) - 1)):
            return  # the database's id order is numeric order (the usual case)
        order = sorted(range(len(keys)), key=keys.__getitem__)
        self._keys = array("Q", (keys[i] for i in order))
        self._state = bytearray(self._state[i] for i in order)

    def first_sight(self, alert_id: str) -> bool:
        """Mark ``alert_id`` found; True if it is in scope and was not found before now."""
        if not _ALERT_ID.fullmatch(alert_id):
            state = self._other.get(alert_id)
            if state is None or state & _SEEN:
                return False
            self._other[alert_id] = state | _SEEN
            return True
        key = int(alert_id, 16)
        at = bisect_left(self._keys, key)
        if at == len(self._keys) or self._keys[at] != key or self._state[at] & _SEEN:
            return False
        self._state[at] |= _SEEN
        return True

    def unseen(self) -> Iterable[tuple[str, int]]:
        """``(id, state)`` of the alerts in scope this evaluation did not find."""
        for key, state in zip(self._keys, self._state, strict=True):
            if not state & _SEEN:
                yield f"{key:016x}", state
        for alert_id, state in self._other.items():
            if not state & _SEEN:
                yield alert_id, state


class _Reconciler:
    """One reconciliation inside its write transaction."""

    def __init__(self, tx: WriteTransaction, index: _ScopeIndex, stamp: str) -> None:
        self.tx, self.index, self.stamp = tx, index, stamp
        self.opened = self.reopened = self.updated = self.cleared = self.unchanged = 0

    def apply(self, batch: dict[str, Finding]) -> None:
        """Upsert one batch of findings (distinct ids) with one query and a few executemany."""
        stored = {row[0]: row for row in self.tx.alerts_by_id(list(batch))}
        stamp = self.stamp
        inserts: list[Row] = []
        refreshed: list[tuple[str, str, str, str, str]] = []
        reopened: list[tuple[str, str, str, str, str, str]] = []
        history: list[tuple[str, str, str, str | None, str | None]] = []
        for alert_id, f in batch.items():
            severity = str(f.severity)
            evidence = json_text([int(e) for e in f.evidence])
            row = stored.get(alert_id)
            if row is None:
                inserts.append(
                    (
                        alert_id,
                        f.rule,
                        severity,
                        OPEN,
                        f.battery,
                        f.enterprise,
                        province_code(f.province),
                        f.subject,
                        evidence,
                        f.detail,
                        f.day,
                        stamp,
                        stamp,
                        1,
                        None,
                        None,
                        None,
                        None,
                        None,
                    )
                )
                history.append((alert_id, stamp, OPEN, SYSTEM, None))
                self.opened += 1
                continue
            # False for a finding named a second time in this evaluation: counted once
            first = self.index.first_sight(alert_id)
            if row[3] == RESOLVED and row[16] == SYSTEM:
                reopened.append((severity, evidence, f.detail, stamp, FOUND_AGAIN, alert_id))
                history.append((alert_id, stamp, OPEN, SYSTEM, FOUND_AGAIN))
                if first:
                    self.reopened += 1
                continue
            refreshed.append((severity, evidence, f.detail, stamp, alert_id))
            if first:
                same = (row[2], row[8], row[9], bool(row[13])) == (
                    severity,
                    evidence,
                    f.detail,
                    True,
                )
                if same:
                    self.unchanged += 1
                else:
                    self.updated += 1
        if inserts:
            self.tx.insert_alerts(inserts)
        if refreshed:
            self.tx.refresh_alerts(refreshed)
        if reopened:
            self.tx.reopen_found_alerts(reopened)
        if history:
            self.tx.insert_alert_history(history)

    def clear_unseen(self) -> None:
        """Alerts in scope no finding named: not found; resolved by the system if active."""
        cleared: list[tuple[str, str, str]] = []
        history: list[tuple[str, str, str, str | None, str | None]] = []
        lost: list[str] = []
        for alert_id, state in self.index.unseen():
            if state & _ACTIVE:
                cleared.append((self.stamp, NO_LONGER_FOUND, alert_id))
                history.append((alert_id, self.stamp, RESOLVED, SYSTEM, NO_LONGER_FOUND))
            elif state & _FOUND:
                lost.append(alert_id)
            if len(cleared) >= BATCH or len(lost) >= BATCH:
                self._flush_unseen(cleared, history, lost)
                cleared, history, lost = [], [], []
        self._flush_unseen(cleared, history, lost)

    def _flush_unseen(
        self,
        cleared: list[tuple[str, str, str]],
        history: list[tuple[str, str, str, str | None, str | None]],
        lost: list[str],
    ) -> None:
        if cleared:
            self.tx.clear_alerts(cleared)
            self.tx.insert_alert_history(history)
            self.cleared += len(cleared)
        if lost:
            self.tx.mark_alerts_not_found(lost)

    def result(self) -> ReconcileResult:
        return ReconcileResult(
            self.opened, self.reopened, self.updated, self.cleared, self.unchanged
        )


def _check_finding(
    f: Finding,
    rules: frozenset[str],
    batteries: frozenset[str] | None,
    enterprises: frozenset[str] | None,
    ids: IdRange = (None, None),
) -> None:
    if f.rule not in rules:
        raise ValueError(
            f"finding {f.id} is of rule {f.rule!r}, not one of the rules reconciled"
            f" ({', '.join(sorted(rules)) or 'none'})"
        )
    if not _in_range(f.id, ids):
        raise ValueError(f"finding {f.id} is outside the ids reconciled {ids}")
    if batteries is None and enterprises is None:
        return
    if f.battery is not None and batteries is not None and f.battery in batteries:
        return
    if f.battery is None and enterprises is not None and f.enterprise in enterprises:
        return
    raise ValueError(
        f"finding {f.id} (battery {f.battery}, enterprise {f.enterprise}) is outside the"
        " batteries and enterprises reconciled"
    )


def reconcile(
    store: Store,
    findings: Iterable[Finding],
    *,
    rules: Collection[str],
    batteries: Collection[str] | None = None,
    enterprises: Collection[str] | None = None,
    now: datetime | None = None,
    clear: bool = True,
    ids: IdRange = (None, None),
) -> ReconcileResult:
    """Make the stored alerts of ``rules`` in scope match ``findings``, in one transaction.

    The scope: the alerts of ``rules``, restricted to those whose battery is in ``batteries``
    (if given) or whose enterprise is in ``enterprises`` with no battery (if given); neither
    given: every alert of those rules. ``findings`` is read once, as a stream, and written
    :data:`BATCH` at a time, so memory holds one batch and a compact index of the ids in
    scope, whatever their number.

    A new finding opens an alert; a stored one gets its ``last_seen``, evidence, detail and
    severity refreshed and ``found`` set (its status unchanged, except that an alert the
    system resolved opens again: "found again"). Alerts in scope that no finding names are
    marked not found, and resolved by the system if open or acknowledged ("no longer
    found"). Raises ``ValueError`` (nothing written) for a finding of a rule not in ``rules``
    or outside the batteries and enterprises given.

    ``clear=False`` only opens and refreshes: for findings that once found stay true (a late
    report stays late), judged on part of the evidence (the new events only). ``ids``
    narrows the scope to the alert ids from ``ids[0]`` (included) to ``ids[1]`` (excluded;
    None: no bound): :func:`reconcile_in_parts`.
    """
    rule_set = frozenset(rules)
    battery_set = frozenset(batteries) if batteries is not None else None
    enterprise_set = frozenset(enterprises) if enterprises is not None else None
    stamp = db_time(now if now is not None else utc_now())
    with store.write() as tx:
        if rule_set:
            index = _ScopeIndex.load(
                tx,
                sorted(rule_set),
                sorted(battery_set) if battery_set is not None else None,
                sorted(enterprise_set) if enterprise_set is not None else None,
                ids,
            )
        else:
            index = _ScopeIndex()
        work = _Reconciler(tx, index, stamp)
        batch: dict[str, Finding] = {}
        for finding in findings:
            _check_finding(finding, rule_set, battery_set, enterprise_set, ids)
            alert_id = finding.id
            batch.pop(alert_id, None)  # named twice in one batch: the later one stands
            batch[alert_id] = finding
            if len(batch) >= BATCH:
                work.apply(batch)
                batch = {}
        if batch:
            work.apply(batch)
        if clear:
            work.clear_unseen()
    return work.result()


def id_parts(digits: int = 1) -> tuple[IdRange, ...]:
    """The alert ids split into ``16 ** digits`` ranges by their first ``digits`` hex digits
    (the first range open below, the last open above: every text falls in one)."""
    count = 16**digits
    bound = [f"{i:0{digits}x}" for i in range(count)]
    return tuple(
        (None if i == 0 else bound[i], None if i == count - 1 else bound[i + 1])
        for i in range(count)
    )


#: the parts :func:`reconcile_in_parts` splits the alert ids into by default
ID_PARTS: Final = id_parts(1)


def _in_range(alert_id: str, ids: IdRange) -> bool:
    low, high = ids
    return (low is None or alert_id >= low) and (high is None or alert_id < high)


def reconcile_in_parts(
    writing: Callable[[], AbstractContextManager[Store]],
    findings: Iterable[Finding],
    *,
    rules: Collection[str],
    now: datetime | None = None,
    digits: int = 1,
) -> ReconcileResult:
    """:func:`reconcile` every alert of ``rules`` (a full sweep's scope) in parts: the alert
    ids split by their first ``digits`` hex digits (:func:`id_parts`: 16 parts, or 256 with
    two digits), each part in a transaction of its own through the store ``writing`` lends,
    the writer given back between parts. A server's reports wait for one part at most, not
    the whole sweep. Each alert is reconciled once, whole; a reader between two parts sees
    some parts done and others not yet (as between two sweeps). The counts are the sums of
    the parts'."""
    parts: list[list[Finding]] = [[] for _ in range(16**digits)]
    for finding in findings:
        parts[part_of(finding.id, digits)].append(finding)
    return reconcile_parts(writing, parts, rules=rules, now=now, digits=digits)


def reconcile_parts(
    writing: Callable[[], AbstractContextManager[Store]],
    parts: Iterable[list[Finding]],
    *,
    rules: Collection[str],
    now: datetime | None = None,
    digits: int = 1,
    pause: float = 0.0,
) -> ReconcileResult:
    """:func:`reconcile_in_parts` with the findings already split (``parts``: one list per
    range of :func:`id_parts`, in order, each read only when its turn comes: a caller may
    fetch them one at a time), sleeping ``pause`` seconds between parts (a server's other
    threads run meanwhile)."""
    stamp = now if now is not None else utc_now()
    ranges = ID_PARTS if digits == 1 else id_parts(digits)
    total = ReconcileResult(0, 0, 0, 0, 0)
    for index, (ids, found) in enumerate(zip(ranges, parts, strict=True)):
        if index and pause:
            time.sleep(pause)
        with writing() as writer:
            done = reconcile(writer, found, rules=rules, now=stamp, ids=ids)
        total = ReconcileResult(
            *(a + b for a, b in zip(total.to_dict().values(), done.to_dict().values(), strict=True))
        )
    return total


def part_of(alert_id: str, digits: int = 1) -> int:
    """The index of the part of :func:`id_parts` ``alert_id`` falls in."""
    prefix = alert_id[:digits]
    if len(prefix) == digits and all(c in "0123456789abcdef" for c in prefix):
        return int(prefix, 16)
    # not a finding's id (16 lowercase hex digits): by comparison
    ranges = ID_PARTS if digits == 1 else id_parts(digits)
    return next(i for i, ids in enumerate(ranges) if _in_range(alert_id, ids))


# -- the lifecycle: regulators act ----------------------------------------------------------
def check_comment(comment: Any, *, required: bool) -> str | None:
    """``comment`` if it is 1 to 2000 characters of text (``None`` when not required)."""
    if comment is None:
        if required:
            raise ValidationError("comment: required: say why", field="comment", rule="required")
        return None
    if not isinstance(comment, str):
        raise ValidationError("comment: must be text", field="comment", rule="string_type")
    if not comment.strip() or len(comment) > MAX_COMMENT:
        raise ValidationError(
            f"comment: 1 to {MAX_COMMENT} characters, not blank",
            field="comment",
            rule="length",
        )
    if "\x00" in comment:
        raise ValidationError(
            "comment: text may not contain NUL (\\u0000)", field="comment", rule="text"
        )
    return comment


def check_regulator(store: Store, by: str, field: str = "by") -> Enterprise:
    """The registered regulator ``by`` names; ``NotFoundError`` or ``PermissionDenied``
    (rule ``regulator_only``) otherwise."""
    normal = validate_credit_code(by, field=field)
    found = store.enterprise(normal)
    if found is None:
        raise NotFoundError(
            f"{field}: enterprise {normal} is not registered", field=field, rule="registered"
        )
    if Role.REGULATOR not in found.roles:
        raise PermissionDenied(
            f"{field}: {normal} is not a regulator; only regulators act on alerts"
            " [rule regulator_only]",
            field=field,
            rule="regulator_only",
        )
    return found


def _not_found(alert_id: str) -> NotFoundError:
    return NotFoundError(
        f"alert_id: alert {alert_id} does not exist", field="alert_id", rule="registered"
    )


def _transition(
    store: Store,
    alert_id: str,
    by: str,
    comment: str | None,
    *,
    to: str,
    allowed_from: tuple[str, ...],
    now: datetime | None,
) -> Alert:
    regulator = check_regulator(store, by)
    at = db_time(now if now is not None else utc_now())
    with store.write() as tx:
        row = tx.alert(alert_id)
        if row is None:
            raise _not_found(alert_id)
        current = Alert.from_row(row)
        if current.status not in allowed_from:
            raise ConflictError(
                f"alert {alert_id} is {current.status}; only an alert that is"
                f" {' or '.join(allowed_from)} can become {to} [rule alert_transition]",
                field="status",
                rule="alert_transition",
            )
        acknowledged: tuple[str | None, str | None] = (None, None)
        resolved: tuple[str | None, str | None] = (None, None)
        if to == ACKNOWLEDGED:
            acknowledged = (regulator.id, at)
        elif to == RESOLVED:
            acknowledged = (current.acknowledged_by, current.acknowledged_at)
            resolved = (regulator.id, at)
        tx.set_alert_status(
            alert_id, to, acknowledged=acknowledged, resolved=resolved, comment=comment
        )
        tx.insert_alert_history([(alert_id, at, to, regulator.id, comment)])
        changed = tx.alert(alert_id)
    assert changed is not None
    return Alert.from_row(changed)


def acknowledge(
    store: Store,
    alert_id: str,
    by: str,
    comment: str | None = None,
    *,
    now: datetime | None = None,
) -> Alert:
    """Regulator ``by`` takes up an open alert (open -> acknowledged)."""
    text = check_comment(comment, required=False)
    return _transition(store, alert_id, by, text, to=ACKNOWLEDGED, allowed_from=(OPEN,), now=now)


def resolve(
    store: Store, alert_id: str, by: str, comment: str, *, now: datetime | None = None
) -> Alert:
    """Regulator ``by`` closes an alert, saying why (open or acknowledged -> resolved)."""
    text = check_comment(comment, required=True)
    return _transition(
        store, alert_id, by, text, to=RESOLVED, allowed_from=(OPEN, ACKNOWLEDGED), now=now
    )


def reopen(
    store: Store, alert_id: str, by: str, comment: str, *, now: datetime | None = None
) -> Alert:
    """Regulator ``by`` opens a resolved alert again, saying why (resolved -> open)."""
    text = check_comment(comment, required=True)
    return _transition(store, alert_id, by, text, to=OPEN, allowed_from=(RESOLVED,), now=now)


# -- reads ------------------------------------------------------------------------------------
def get_alert(store: Store, alert_id: str) -> Alert | None:
    row = store.alert(alert_id)
    return Alert.from_row(row) if row is not None else None


def alert_history(store: Store, alert_id: str) -> list[AlertChange]:
    """The alert's changes of status, oldest first."""
    return [AlertChange.from_row(r) for r in store.alert_history(alert_id)]


def alert_view(store: Store, alert: Alert) -> dict[str, Any]:
    """The alert with its history, as ``alerts show`` and the API answer it."""
    return {**alert.to_dict(), "history": [c.to_dict() for c in alert_history(store, alert.id)]}


def province_code(text: str | None) -> str | None:
    """A province code (``350000``) for a division or province code; other text as it is."""
    if text is not None and len(text) >= 2 and text[:2].isdigit() and text.isascii():
        return text[:2] + "0000"
    return text


def _province_filter(province: str) -> str:
    if len(province) not in (2, 6) or not province.isdigit() or not province.isascii():
        raise ValidationError(
            "province: a GB/T 2260 province code such as 350000 or 35",
            field="province",
            rule="format",
        )
    code = province + "0000" if len(province) == 2 else province
    return validate_division_code(code, field="province").province_code


def _choice(value: str | None, field: str, allowed: tuple[str, ...]) -> str | None:
    if value is not None and value not in allowed:
        raise ValidationError(
            f"{field}: {value!r} is not one of {', '.join(allowed)}", field=field, rule="enum"
        )
    return value


def _rule_name(rule: str | None) -> str | None:
    if rule is not None and not _RULE_NAME.fullmatch(rule):
        raise ValidationError(
            "rule: a rule name (letters, digits, '_', '.', '-'; at most 64)",
            field="rule",
            rule="format",
        )
    return rule


def list_alerts(
    store: Store,
    *,
    rule: str | None = None,
    status: str | None = None,
    severity: str | None = None,
    battery: str | None = None,
    enterprise: str | None = None,
    province: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> list[Alert]:
    """Alerts matching every filter given, ordered by id, after the id ``after``.

    ``province`` is a province (``350000`` or ``35``); ``limit`` 1 to 1000. Raises
    ``ValidationError`` naming the filter for a malformed one.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(
            f"limit: must be between 1 and {MAX_PAGE}", field="limit", rule="range"
        )
    if after is not None and not _ALERT_ID.fullmatch(after):
        raise ValidationError(
            "after: an alert id (16 lower-case hex digits)", field="after", rule="format"
        )
    rows = store.list_alerts(
        AlertFilter(
            rule=_rule_name(rule),
            status=_choice(status, "status", STATUSES),
            severity=_choice(severity, "severity", _SEVERITIES),
            battery=parse_battery_code(battery, field="battery").text if battery else None,
            enterprise=(
                validate_credit_code(enterprise, field="enterprise") if enterprise else None
            ),
            province=_province_filter(province) if province is not None else None,
            after=after,
            limit=limit,
        )
    )
    return [Alert.from_row(r) for r in rows]


def iter_alerts(store: Store, *, limit: int | None = None, **filters: Any) -> Iterator[Alert]:
    """Alerts matching ``filters`` (as :func:`list_alerts`) in id order, page by page, at
    most ``limit`` (None: all of them)."""
    left = limit
    after: str | None = None
    while left is None or left > 0:
        size = MAX_PAGE if left is None else min(left, MAX_PAGE)
        page = list_alerts(store, limit=size, after=after, **filters)
        yield from page
        if len(page) < size:
            return
        after = page[-1].id
        if left is not None:
            left -= len(page)


def alert_page(store: Store, *, limit: int = 100, **filters: Any) -> dict[str, Any]:
    """A page of :func:`list_alerts`: ``{"items": [...], "next": cursor or None}``."""
    items = list_alerts(store, limit=limit, **filters)
    more = len(items) == limit
    return {"items": [a.to_dict() for a in items], "next": items[-1].id if more else None}


def count_alerts(
    store: Store,
    *,
    group_by: str,
    status: str | None = None,
    province: str | None = None,
) -> dict[str, int]:
    """How many alerts per rule, severity, status or province (``none``: no province)."""
    _choice(group_by, "group_by", ALERT_GROUPS)
    counts = store.count_alerts(
        group_by,
        status=_choice(status, "status", STATUSES),
        province=_province_filter(province) if province is not None else None,
    )
    return {("none" if key is None else str(key)): n for key, n in counts}


# -- who may see and act ---------------------------------------------------------------------
def _governs(caller: Caller, alert: Alert) -> bool:
    if not caller.is_regulator:
        return False
    if caller.is_national:
        return True
    mine = caller.province
    return alert.province is not None and mine is not None and alert.province[:2] == mine[:2]


def may_read_alert(caller: Caller, alert: Alert) -> bool:
    """Regulators read the alerts of their jurisdiction; an enterprise the alerts about it."""
    if caller.enterprise is None:
        return False
    if caller.is_regulator:
        return _governs(caller, alert)
    return alert.enterprise == caller.id


def may_act_on_alert(caller: Caller, alert: Alert) -> bool:
    """Only regulators act on alerts, in their jurisdiction."""
    return _governs(caller, alert)


def alert_scope(
    caller: Caller, enterprise: str | None, province: str | None
) -> tuple[str | None, str | None]:
    """``(enterprise, province)`` filters for listing alerts as ``caller``.

    The national regulator lists any; a provincial regulator its province (asking for
    another is ``PermissionDenied``); an enterprise the alerts about itself.
    """
    me = require_caller(caller)
    if caller.is_national:
        return enterprise, province
    if caller.is_regulator:
        wanted = _province_filter(province) if province is not None else None
        if wanted is not None and wanted != caller.province:
            raise denied(
                f"province: {province} is outside the jurisdiction of {me.id}",
                "jurisdiction",
                "province",
            )
        return enterprise, caller.province
    if enterprise is not None and validate_credit_code(enterprise, field="enterprise") != me.id:
        raise denied(
            f"enterprise: {me.id} reads only the alerts about itself",
            "own_alerts_only",
            "enterprise",
        )
    return me.id, province


def check_read_alert(store: Store, caller: Caller, alert_id: str) -> Alert:
    """The alert, if ``caller`` may read it (``NotFoundError`` first for an unknown id)."""
    require_caller(caller)
    alert = get_alert(store, alert_id)
    if alert is None:
        raise _not_found(alert_id)
    if not may_read_alert(caller, alert):
        rule = "jurisdiction" if caller.is_regulator else "own_alerts_only"
        raise denied(f"alert {alert_id}: not for {caller.id} to see", rule, "alert_id")
    return alert


def check_may_act(caller: Caller, alert_id: str) -> None:
    """``caller`` must be a regulator to act on any alert (``Unauthenticated`` or
    ``PermissionDenied``, rule ``regulator_only``)."""
    require_caller(caller)
    if not caller.is_regulator:
        raise denied(f"alert {alert_id}: only regulators act on alerts", "regulator_only")


def check_act_on_alert(store: Store, caller: Caller, alert_id: str) -> Alert:
    """The alert, if ``caller`` is a regulator governing it."""
    check_may_act(caller, alert_id)
    me = require_caller(caller)
    alert = get_alert(store, alert_id)
    if alert is None:
        raise _not_found(alert_id)
    if not may_act_on_alert(caller, alert):
        raise denied(
            f"alert {alert_id}: its province {alert.province} is outside the jurisdiction"
            f" of {me.id}",
            "jurisdiction",
            "alert_id",
        )
    return alert


__all__ = [
    "ACKNOWLEDGED",
    "OPEN",
    "RESOLVED",
    "STATUSES",
    "SYSTEM",
    "Alert",
    "AlertChange",
    "ReconcileResult",
    "acknowledge",
    "alert_history",
    "alert_page",
    "alert_scope",
    "alert_view",
    "check_act_on_alert",
    "check_comment",
    "check_may_act",
    "check_read_alert",
    "check_regulator",
    "count_alerts",
    "get_alert",
    "list_alerts",
    "may_act_on_alert",
    "may_read_alert",
    "province_code",
    "reconcile",
    "reopen",
    "resolve",
]
