"""Group commit: one transaction for many single-event reports, each with its own outcome."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future

import orjson
import pytest

from battrace.api.context import log_options
from battrace.api.group_commit import GroupWriter, Report
from battrace.api.idempotency import Answer
from battrace.api.storage import StoreAccess
from battrace.errors import BattraceError, StoreError
from battrace.ledger.submission import generate_key
from battrace.services import log as log_service
from battrace.services.audit import verify_log
from battrace.services.keys import register_key, revoke_key, sign_events
from tests.api.conftest import ApiWorld


def _outcome(future: Future[Answer]) -> Answer | BaseException:
    error = future.exception(timeout=10)
    return error if error is not None else future.result()


@pytest.fixture
def writer(api: ApiWorld) -> Iterator[GroupWriter]:
    access = StoreAccess(api.store.location, readers=1)
    made = GroupWriter(access, lambda: log_options(api.settings), 24)
    yield made
    made.close()
    access.close()


def mixed_group(api: ApiWorld) -> list[Report]:
    """Seven reports of every outcome: accepted, refused by a check, two with one key, a
    signed one and a badly signed copy of it, accepted again."""
    maker = api.ids["maker"]
    private, public = generate_key()
    key = register_key(api.store, api.ids["other"], public)
    other_event = {**api.new_battery_event(), "actor": api.ids["other"]}
    other_event["batteries"] = [other_event["batteries"][0].replace("N1D", "S2C", 1)]
    signed = sign_events(private, key.key_id, [other_event])
    bad_signature = sign_events(generate_key()[0], key.key_id, [other_event])
    return [
        Report(maker, api.new_battery_event()),
        Report(maker, {**api.new_battery_event(), "type": "teleported"}),
        Report(maker, api.new_battery_event(), key="k", digest=b"1"),
        Report(maker, api.new_battery_event(), key="k", digest=b"2"),  # same key: next group
        Report(api.ids["other"], other_event, signed),
        Report(api.ids["other"], other_event, bad_signature),
        Report(maker, api.new_battery_event()),
    ]


def test_one_group_many_outcomes(api: ApiWorld, writer: GroupWriter) -> None:
    group = mixed_group(api)
    before = api.store.count("events")
    writer.commit_group(group)
    outcomes = [_outcome(r.answer) if r.answer.done() else None for r in group]
    assert [o.status if isinstance(o, Answer) else o for o in outcomes[:1]] == [201]
    assert isinstance(outcomes[1], BattraceError)
    assert outcomes[1].rule == "enum"  # type: ignore[union-attr]
    assert isinstance(outcomes[2], Answer)
    assert outcomes[3] is None  # carried to the next group
    assert isinstance(outcomes[4], Answer)
    assert isinstance(outcomes[5], BattraceError)
    assert isinstance(outcomes[6], Answer)
    assert api.store.count("events") == before + 4
    ids = sorted(orjson.loads(o.body)["id"] for o in outcomes if isinstance(o, Answer))
    assert ids == list(range(before + 1, before + 5))
    writer.commit_group([])  # nothing to do
    carried = group[3]
    writer.commit_group([])
    assert not carried.answer.done()
    carried_over = list(writer._carry)
    writer._carry.clear()
    writer.commit_group(carried_over)  # the carried report now meets the first one's answer
    refused = _outcome(carried.answer)
    assert isinstance(refused, BattraceError)
    assert refused.rule == "idempotency_key_reuse"
    assert verify_log(api.store, log_service.log_verifier_key(api.store)).ok


def test_closed_writer_refuses(writer: GroupWriter, api: ApiWorld) -> None:
    writer.close()
    future = writer.submit(Report(api.ids["maker"], api.new_battery_event()))
    refused = future.exception(timeout=1)
    assert isinstance(refused, StoreError)
    assert refused.status == 503  # the client may report again to the next server


def _statements(writer: GroupWriter, access: StoreAccess, group: list[Report]) -> list[str]:
    """What the writer's connection ran to write ``group``."""
    seen: list[str] = []
    with access.writing() as store:
        raw = store._connection().raw  # type: ignore[attr-defined]
    raw.set_trace_callback(seen.append)
    try:
        writer.commit_group(group)
    finally:
        raw.set_trace_callback(None)
    return seen


def test_the_writer_reads_a_reporter_and_its_keys_once(api: ApiWorld) -> None:
    access = StoreAccess(api.store.location, readers=1)
    writer = GroupWriter(access, lambda: log_options(api.settings), 24)
    try:
        reads = ("FROM enterprise_keys WHERE enterprise_id", "FROM enterprises")
        maker = api.ids["maker"]
        first = _statements(writer, access, [Report(maker, api.new_battery_event())])
        assert [s for s in first if any(r in s for r in reads)]
        again = [Report(maker, api.new_battery_event()) for _ in range(3)]
        later = _statements(writer, access, again)
        assert {_outcome(r.answer).status for r in again} == {201}  # type: ignore[union-attr]
        assert not [s for s in later if any(r in s for r in reads)]
    finally:
        writer.close()
        access.close()


def test_a_key_registered_or_revoked_between_groups_holds_at_once(
    api: ApiWorld, writer: GroupWriter
) -> None:
    maker = api.ids["maker"]
    first = Report(maker, api.new_battery_event())
    writer.commit_group([first])
    assert _outcome(first.answer).status == 201  # type: ignore[union-attr]
    # registered by another connection (the server, while the writer is a process)
    key = register_key(api.store, maker, generate_key()[1])
    unsigned = Report(maker, api.new_battery_event())
    writer.commit_group([unsigned])
    refused = _outcome(unsigned.answer)
    assert isinstance(refused, BattraceError)
    assert refused.rule == "signature_required"
    revoke_key(api.store, key.key_id)
    free_again = Report(maker, api.new_battery_event())
    writer.commit_group([free_again])
    assert _outcome(free_again.answer).status == 201  # type: ignore[union-attr]
