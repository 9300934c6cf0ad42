"""Enterprise signatures in the reporting path, and the auditor re-checking them."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from battrace.errors import BatchError, ConflictError, NotFoundError
from battrace.ledger.errors import SignatureError
from battrace.ledger.leaf import parse_leaf
from battrace.ledger.submission import generate_key
from battrace.services import log
from battrace.services.audit import verify_log
from battrace.services.keys import register_key, revoke_key, sign_events
from battrace.services.reporting import SourceItem, report_event, report_events
from battrace.store import Store
from tests.builders import code, produced


@pytest.fixture
def signer(world: Store, firms):  # type: ignore[no-untyped-def]
    private, public = generate_key()
    key = register_key(world, firms["battery_maker"].credit_code, public)
    return world, firms["battery_maker"], private, key.key_id


def _report(store: Store, events, private: str, key: str):  # type: ignore[no-untyped-def]
    signed = sign_events(private, key, events)
    return report_events(store, [SourceItem(e) for e in events], signed=signed), signed


def test_signed_reports_are_accepted_and_logged(signer) -> None:  # type: ignore[no-untyped-def]
    store, maker, private, key = signer
    events = [produced(maker, [code(n=i)]) for i in (1, 2)]
    result, signed = _report(store, events, private, key)
    assert result.accepted == 2
    row = store.event(result.first_id or 0)
    assert row is not None
    assert row.submitted is not None
    leaf = parse_leaf(row.leaf or b"")
    assert (leaf.key_id, leaf.signature) == (key, signed.signature)
    assert verify_log(store, log.log_verifier_key(store)).ok


def test_unsigned_report_refused_once_keys_exist(signer) -> None:  # type: ignore[no-untyped-def]
    store, maker, _, _ = signer
    with pytest.raises(BatchError) as info:
        report_events(store, [SourceItem(produced(maker, [code()]))])
    assert info.value.rule == "signature_required"
    assert store.count("events") == 0


def test_forged_signature_writes_nothing(signer) -> None:  # type: ignore[no-untyped-def]
    store, maker, _, key = signer
    other_private, _ = generate_key()
    events = [produced(maker, [code()])]
    with pytest.raises(SignatureError) as info:
        _report(store, events, other_private, key)
    assert info.value.rule == "signature_invalid"
    assert store.count("events") == 0
    assert store.log_size() == 0


def test_altered_batch_does_not_verify(signer) -> None:  # type: ignore[no-untyped-def]
    store, maker, private, key = signer
    signed = sign_events(private, key, [produced(maker, [code(n=1)])])
    with pytest.raises(SignatureError, match="signature_invalid"):
        report_events(store, [SourceItem(produced(maker, [code(n=2)]))], signed=signed)


def test_key_of_another_enterprise(signer, firms) -> None:  # type: ignore[no-untyped-def]
    store, _, private, key = signer
    other = dataclasses.replace(firms["battery_maker"], credit_code=firms["recycler"].credit_code)
    with pytest.raises(BatchError) as info:
        _report(store, [produced(other, [code()])], private, key)
    assert info.value.rule == "signer_is_actor"


def test_replayed_batch_is_refused(signer) -> None:  # type: ignore[no-untyped-def]
    store, maker, private, key = signer
    events = [produced(maker, [code()])]
    _, signed = _report(store, events, private, key)
    with pytest.raises(SignatureError) as info:
        report_events(store, [SourceItem(e) for e in events], signed=signed)
    assert info.value.rule == "replayed"
    assert store.count("events") == 1


def test_revocation_and_rotation(signer) -> None:  # type: ignore[no-untyped-def]
    store, maker, private, key = signer
    revoke_key(store, key)
    with pytest.raises(SignatureError) as info:
        _report(store, [produced(maker, [code(n=1)])], private, key)
    assert info.value.rule == "key_revoked"
    with pytest.raises(ConflictError):
        revoke_key(store, key)
    new_private, new_public = generate_key()
    new_key = register_key(store, maker.credit_code, new_public).key_id
    result, _ = _report(store, [produced(maker, [code(n=1)])], new_private, new_key)
    assert result.accepted == 1
    # a key valid only in the future is not yet usable
    later_private, later_public = generate_key()
    later = register_key(
        store, maker.credit_code, later_public, valid_from=datetime.now(UTC) + timedelta(days=1)
    )
    with pytest.raises(SignatureError) as info:
        _report(store, [produced(maker, [code(n=2)])], later_private, later.key_id)
    assert info.value.rule == "key_not_yet_valid"


def test_key_registration_rules(signer) -> None:  # type: ignore[no-untyped-def]
    store, maker, _, _ = signer
    _, public = generate_key()
    with pytest.raises(NotFoundError):
        register_key(store, "91110000000000000X", public)
    register_key(store, maker.credit_code, public)
    with pytest.raises(ConflictError):
        register_key(store, maker.credit_code, public)
    with pytest.raises(SignatureError, match="unknown_key"):
        report_event(
            store, produced(maker, [code()]), signed=sign_events(generate_key()[0], "00" * 8, [])
        )


def test_auditor_catches_altered_submission(tmp_path: Path, firms) -> None:  # type: ignore[no-untyped-def]
    from battrace.services.demo import register_demo_firms
    from battrace.store import open_store

    db = tmp_path / "signed.db"
    with open_store(db) as store:
        register_demo_firms(store)
        private, public = generate_key()
        key = register_key(store, firms["battery_maker"].credit_code, public).key_id
        _report(
            store, [produced(firms["battery_maker"], [code(n=i)]) for i in (1, 2, 3)], private, key
        )
        log.current_checkpoint(store)
        assert verify_log(store, log.log_verifier_key(store)).ok
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE events SET submitted = replace(submitted, '400', '401') WHERE id = 2")
    conn.close()
    with open_store(db) as store:
        problems = verify_log(store, log.log_verifier_key(store)).problems
    assert problems == [
        "signed submission of events 1..3: the submitted events were altered after signing"
    ]
