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
from battrace.services.keys import register_key, sign_events
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
