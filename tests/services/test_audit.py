"""The auditor on a real SQLite file: it passes an honest log and names each kind of tampering."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from battrace.cli import main
from battrace.services import log
from battrace.services.audit import verify_log
from battrace.services.demo import load_demo
from battrace.store import open_store

POLICY = log.CheckpointPolicy(every_leaves=50, every_seconds=3600)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "audited.db"
    with open_store(path) as store:
        load_demo(store, 25, log_policy=POLICY)
        log.current_checkpoint(store)
    return path


def _audit(db: Path, **kwargs: object) -> list[str]:
    with open_store(db) as store:
        key = log.log_verifier_key(store)
        return verify_log(store, key, **kwargs).problems  # type: ignore[arg-type]


def _sql(db: Path, statement: str, *params: object) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(statement, params)
    conn.close()


def test_honest_log_verifies(db: Path) -> None:
    with open_store(db) as store:
        report = verify_log(store, log.log_verifier_key(store))
        assert report.ok
        assert report.leaves == store.count("events")
        assert report.checkpoints == len(store.checkpoints()) > 2


def test_edited_event_is_named(db: Path) -> None:
    _sql(db, "UPDATE events SET body = ? WHERE id = 17", '{"soh_percent":"99"}')
    problems = _audit(db)
    assert problems[0].startswith("event 17 (leaf 16)")
    assert "edited or swapped" in problems[0]


def test_edited_actor_is_named(db: Path) -> None:
    _sql(db, "UPDATE events SET actor = counterparty WHERE id = 3")
    assert _audit(db)[0].startswith("event 3 ")


def test_deleted_event_is_named(db: Path) -> None:
    _sql(db, "DELETE FROM events WHERE id = 40")
    assert _audit(db)[0] == "event 40 (leaf 39) is missing: rows were deleted"


def test_swapped_events_are_named(db: Path) -> None:
    conn = sqlite3.connect(db)
    with conn:
        a = conn.execute("SELECT batteries, body FROM events WHERE id = 10").fetchone()
        b = conn.execute("SELECT batteries, body FROM events WHERE id = 11").fetchone()
        conn.execute("UPDATE events SET batteries = ?, body = ? WHERE id = 10", b)
        conn.execute("UPDATE events SET batteries = ?, body = ? WHERE id = 11", a)
    conn.close()
    assert _audit(db)[0].startswith("event 10 (leaf 9)")


def test_rewritten_checkpoint_is_named(db: Path) -> None:
    conn = sqlite3.connect(db)
    size, note = conn.execute("SELECT size, note FROM checkpoints ORDER BY size LIMIT 1").fetchone()
    conn.close()
    lines = note.split("\n")
    lines[1] = str(size - 1)  # claim another size without re-signing
    _sql(db, "UPDATE checkpoints SET note = ? WHERE size = ?", "\n".join(lines), size)
    problems = _audit(db)
    assert problems[0].startswith(f"checkpoint at size {size}:")


def test_rewritten_log_caught_by_saved_checkpoint(db: Path, tmp_path: Path) -> None:
    with open_store(db) as store:
        saved = store.checkpoints()[-1].note
    # the operator rewrites an event, its leaf, the tree and the checkpoints with the log key
    _sql(db, "UPDATE events SET leaf = NULL, salt = NULL WHERE id >= 1")
    _sql(db, "DELETE FROM log_nodes")
    _sql(db, "DELETE FROM checkpoints")
    _sql(db, "UPDATE events SET place = '110000' WHERE id = 5")
    _rebuild_log(db)
    assert _audit(db) == []  # the rewritten log is self-consistent ...
    problems = _audit(db, extra_checkpoints=[saved])
    assert problems
    assert problems[0].startswith("given checkpoint 1: root does not match")


def _rebuild_log(db: Path) -> None:
    from battrace.services.log import LogAppender

    with open_store(db) as store:
        rows = list(store.iter_events())
        appender = LogAppender(store, policy=POLICY)
        with store.write() as tx:
            appender.on_events(tx, rows)
            tx._conn.executemany(
                "UPDATE events SET salt = ?, leaf = ? WHERE id = ?",
                [(r.salt, r.leaf, r.id) for r in rows],
            )
            appender.before_commit(tx)


def test_tampered_tree_node_is_named(db: Path) -> None:
    _sql(db, "UPDATE log_nodes SET hash = zeroblob(32) WHERE level = 5 AND idx = 1")
    assert _audit(db)[0].startswith("log node (level 5, index 1): the stored hash does not match")


def test_cli_verify_exit_codes(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--db", str(db)]) == 0
    assert "ok:" in capsys.readouterr().out
    _sql(db, "DELETE FROM events WHERE id = 2")
    assert main(["verify", "--db", str(db)]) == 1
    assert "event 2 (leaf 1) is missing" in capsys.readouterr().err
    assert main(["verify", "--db", str(db), "--json"]) == 1
    assert '"ok": false' in capsys.readouterr().out


@pytest.mark.parametrize("block_level", [2, 5, 7])
def test_block_sizes_agree(db: Path, block_level: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from battrace.services import audit

    monkeypatch.setattr(audit, "BLOCK_LEVEL", block_level)
    assert _audit(db) == []
    _sql(db, "UPDATE log_nodes SET hash = zeroblob(32) WHERE level = 6 AND idx = 2")
    assert _audit(db)[0].startswith("log node (level 6, index 2)")


def test_worker_processes_agree(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from battrace.services import audit

    monkeypatch.setattr(audit, "_RANGE", 64)
    with open_store(db) as store:
        key = log.log_verifier_key(store)
        assert verify_log(store, key, workers=2).ok
    _sql(db, "DELETE FROM events WHERE id = 150")
    with open_store(db) as store:
        problems = verify_log(store, key, workers=2).problems
    assert problems[0] == "event 150 (leaf 149) is missing: rows were deleted"
