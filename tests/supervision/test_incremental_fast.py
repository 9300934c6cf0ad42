"""The incremental path's shortcuts give exactly what the long way gives: the rules' SQL and
the calendar kept on disk, the new events (and battery states) kept by the sink instead of
read back, the facts made as events come, and the worker process."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from battrace.errors import BatchError
from battrace.services.reporting import SourceItem, report_events
from battrace.simulate import SimConfig
from battrace.simulate.ingest import register_world
from battrace.simulate.stream import simulate_events
from battrace.simulate.violations import RULES as LABEL_RULES
from battrace.simulate.world import build_world
from battrace.store import open_store
from battrace.store.base import Store
from battrace.supervision import engine as engine_module
from battrace.supervision import incremental, service, sqlcache
from battrace.supervision.alerts import iter_alerts
from battrace.supervision.config import BATTERY_RULES, RULE_SEVERITY, RuleSettings
from battrace.supervision.engine import Scope, Stage, blank_engine, scoped_engine
from battrace.supervision.incremental import AlertUpdater
from battrace.supervision.rules import BATTERY_RULES as RULES_BATTERY_RULES
from battrace.supervision.rules import RULES
from battrace.supervision.service import evaluate, sweep
from battrace.supervision.tables import EXPORT_TABLES
from battrace.supervision.worker import WorkerProcess
from tests.builders import LFP_PACK, code
from tests.supervision.scenario import Scenario, at

TABLES = {t.name: t for t in EXPORT_TABLES}


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of this test's own, and no SQL compiled earlier in this process."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("BATTRACE_CACHE_DIR", str(folder))
    monkeypatch.setattr(service, "_COMPILED", {})
    return folder


def _count_compiles(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []
    compile_rules = service._compile

    def counting(engine: Any, rules: Any, settings: Any) -> dict[str, str]:
        calls.append(list(rules))
        return compile_rules(engine, rules, settings)

    monkeypatch.setattr(service, "_compile", counting)
    return calls


def _sql(settings: RuleSettings) -> dict[str, str]:
    engine = blank_engine()
    try:
        service._build_facts(engine, settings)
        return service._compiled(engine, list(BATTERY_RULES), settings)
    finally:
        engine.close()


def _rules_file(cache: Path) -> Path:
    (found,) = cache.glob("rules-*.json")
    return found


# -- the rules' SQL and the calendar on disk ----------------------------------------------------
def test_rule_names_are_known_without_the_rules_module() -> None:
    assert tuple(RULES) == tuple(RULE_SEVERITY)
    assert RULES_BATTERY_RULES == BATTERY_RULES
    assert "low_reuse_share" not in BATTERY_RULES


def test_compiled_sql_is_kept_on_disk_and_reused(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiles = _count_compiles(monkeypatch)
    first = _sql(RuleSettings())
    assert len(compiles) == 1
    assert _rules_file(cache).exists()
    # a new process (here: no SQL in memory) reads the SQL from disk and compiles nothing
    monkeypatch.setattr(service, "_COMPILED", {})
    assert _sql(RuleSettings()) == first
    assert len(compiles) == 1
    # other settings are another key: compiled, kept beside
    other = _sql(RuleSettings(collect_days=45))
    assert len(compiles) == 2
    assert other["retired_not_collected"] != first["retired_not_collected"]
    assert len(list(cache.glob("rules-*.json"))) == 2


@pytest.mark.parametrize("damage", ["garbage", "edited", "other_key", "writable_by_others"])
def test_a_stale_or_corrupt_cache_is_ignored(
    cache: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    compiles = _count_compiles(monkeypatch)
    good = _sql(RuleSettings())
    path = _rules_file(cache)
    record = orjson.loads(path.read_bytes())
    if damage == "garbage":
        path.write_bytes(b'{"format": 1, "kind": "rules", "ke')
    elif damage == "edited":  # the SQL changed, the digest not
        record["payload"]["late_report"] = "SELECT 1"
        path.write_bytes(orjson.dumps(record))
    elif damage == "other_key":  # a file renamed from another key's (stale)
        record["key"] = "0" * 32
        path.write_bytes(orjson.dumps(record))
    else:
        path.chmod(0o666)
    assert sqlcache.load_rules("duckdb", repr(RuleSettings())) == {}
    monkeypatch.setattr(service, "_COMPILED", {})
    assert _sql(RuleSettings()) == good
    assert len(compiles) == 2  # compiled again, and the file replaced by a good one
    assert sqlcache.load_rules("duckdb", repr(RuleSettings())) == good


def test_the_key_follows_the_code_and_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    key = sqlcache.rules_key("duckdb", repr(RuleSettings()))
    assert key == sqlcache.rules_key("duckdb", repr(RuleSettings()))
    assert key != sqlcache.rules_key("duckdb", repr(RuleSettings(receive_days=20)))
    assert key != sqlcache.rules_key("sqlite", repr(RuleSettings()))
    monkeypatch.setattr(sqlcache.battrace, "__version__", "0.0.0-other")
    assert key != sqlcache.rules_key("duckdb", repr(RuleSettings()))


def test_an_unusable_cache_folder_costs_only_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("BATTRACE_CACHE_DIR", str(blocker / "cache"))
    compiles = _count_compiles(monkeypatch)
    assert set(_sql(RuleSettings())) == set(BATTERY_RULES)
    assert not sqlcache.save("rules", "k", {})
    monkeypatch.setattr(service, "_COMPILED", {})
    _sql(RuleSettings())
    assert len(compiles) == 2  # nothing kept: compiled each time


def test_calendar_table_is_kept_on_disk(cache: Path) -> None:
    service._calendar_table.cache_clear()
    try:
        built = service._calendar_table()
        (path,) = cache.glob("calendar-*.json")
        service._calendar_table.cache_clear()
        assert service._calendar_table().equals(built)  # read back from disk
        rows = service.default_calendar().rows()
        assert built.column("wd").to_pylist() == [r.workday_index for r in rows]
        assert built.num_rows == len(rows)
        path.write_bytes(b"[1, 2")  # corrupt: built again, the same
        service._calendar_table.cache_clear()
        assert service._calendar_table().equals(built)
    finally:
        service._calendar_table.cache_clear()


_FLUSH_IN_A_NEW_PROCESS = """
import sys
from battrace.store import open_store
from battrace.supervision.config import RuleSettings
from battrace.supervision.service import update_alerts
with open_store(sys.argv[1]) as store:
    codes = [r[0] for r in store._connection().query("SELECT code FROM batteries")]
    last = store.count("events")
    counts = update_alerts(store, codes, 1, last, settings=RuleSettings())
print(counts.get("opened", 0), "ibis" in sys.modules, "pandas" in sys.modules)
"""


@pytest.mark.parametrize("warm", [True, False])
def test_a_flush_in_a_new_process_imports_no_ibis(tmp_path: Path, warm: bool) -> None:
    db = tmp_path / "flush.db"
    with open_store(db) as store:
        sc = Scenario(store)
        maker = sc.f["battery_maker"]
        day = date(2024, 3, 1)
        sc.report(
            "produced", maker, [code(n=1)], day, reported=day + timedelta(days=90), **LFP_PACK
        )
    if warm:
        _sql(RuleSettings())  # what an earlier run leaves in the cache
    done = subprocess.run(
        [sys.executable, "-c", _FLUSH_IN_A_NEW_PROCESS, str(db)],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ),
    )
    opened, ibis_loaded, _ = done.stdout.split()
    assert opened == "1"
    assert ibis_loaded == ("False" if warm else "True")


# -- the new events kept by the sink ------------------------------------------------------------
def _world(batteries: int = 400) -> tuple[Any, list[SourceItem]]:
    rates = dict.fromkeys(LABEL_RULES, 0.1)
    rates.update(late_report=0.02, reused_code=0.01, vin_two_packs=0.02)
    config = SimConfig(batteries=batteries, seed=13, rates=rates)
    world = build_world(config.seed, config.batteries)
    items = [SourceItem(i.event) for i in simulate_events(config, world) if not i.refused]
    return world, items


@pytest.fixture(scope="module")
def sim() -> tuple[Any, list[SourceItem]]:
    return _world()


def _store(tmp_path: Path, world: Any, name: str = "inc.db") -> Store:
    store = open_store(tmp_path / name)
    register_world(store, world.firms)
    return store


def _sorted(table: pa.Table, *keys: str) -> pa.Table:
    return table.sort_by([(k, "ascending") for k in keys])


def _from_store(store: Store, first: int, last: int) -> tuple[pa.Table, pa.Table]:
    events = engine_module._copy(
        store, TABLES["events"], "WHERE id BETWEEN ? AND ?", [first, last], lean=True
    )
    links = engine_module._copy(
        store, TABLES["event_batteries"], "WHERE event_id BETWEEN ? AND ?", [first, last]
    )
    return events, links


def test_kept_events_and_states_are_what_the_store_holds(
    store: Store, sim: tuple[Any, list[SourceItem]]
) -> None:
    world, items = sim
    register_world(store, world.firms)
    updater = AlertUpdater(store, settings=RuleSettings())
    report_events(store, items[:700], trust_reported_at=True, sinks=[updater])
    report_events(store, items[700:1500], trust_reported_at=True, sinks=[updater], chunk_size=300)
    pending = updater._take()
    assert pending.first == 1
    assert pending.last == 1500
    fresh = incremental._fresh(store, pending)
    assert fresh is not None
    events, links = _from_store(store, 1, 1500)
    assert _sorted(fresh.events, "id").equals(_sorted(events, "id"))
    assert _sorted(fresh.links, "event_id", "code").equals(_sorted(links, "event_id", "code"))
    vins = {
        v
        for body in events.column("body").to_pylist()
        if isinstance(v := orjson.loads(body).get("vin"), str)
    }
    assert fresh.vins == vins
    assert fresh.batteries is not None
    codes = fresh.batteries.column("code").to_pylist()
    assert len(codes) == len(set(codes)) == store.count("batteries")
    stored = pa.concat_tables(engine_module._in_chunks(store, TABLES["batteries"], "code", codes))
    assert _sorted(fresh.batteries, "code").equals(_sorted(stored, "code"))


def _spy_fresh(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The ``fresh`` argument of every scoped engine made."""
    seen: list[Any] = []
    make = service.scoped_engine

    def spying(store: Store, scope: Scope, fresh: Any = None, stage: Any = None) -> Any:
        seen.append(fresh)
        return make(store, scope, fresh, stage)

    monkeypatch.setattr(service, "scoped_engine", spying)
    return seen


def _found(store: Store) -> set[str]:
    return {a.id for a in iter_alerts(store) if a.found}


def test_kept_events_are_used_and_agree_with_reading_them(
    tmp_path: Path, sim: tuple[Any, list[SourceItem]], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, items = sim
    seen = _spy_fresh(monkeypatch)
    as_of = date(2025, 12, 31)
    results = []
    for keep in (incremental.KEEP_EVENTS, 0):
        with _store(tmp_path, world, f"keep-{keep}.db") as store:
            updater = AlertUpdater(store, settings=RuleSettings(), as_of=as_of, keep_events=keep)
            for start in range(0, len(items), 900):
                report_events(
                    store, items[start : start + 900], trust_reported_at=True, sinks=[updater]
                )
                updater.flush()
            results.append(_found(store))
    kept, read = seen[: len(seen) // 2], seen[len(seen) // 2 :]
    assert all(f is not None for f in kept)
    assert all(f is None for f in read)
    assert results[0] == results[1]
    assert results[0]


def _failing_batch(items: list[SourceItem], good: int) -> list[SourceItem]:
    """``good`` events, then one that does not parse: the batch is refused."""
    return [*items[:good], SourceItem({"type": "shipped"})]


@pytest.mark.parametrize("reused", [True, False])
def test_a_rolled_back_chunk_is_never_taken_for_stored_events(
    tmp_path: Path,
    sim: tuple[Any, list[SourceItem]],
    monkeypatch: pytest.MonkeyPatch,
    reused: bool,
) -> None:
    world, items = sim
    seen = _spy_fresh(monkeypatch)
    as_of = date(2025, 12, 31)
    with _store(tmp_path, world) as store:
        updater = AlertUpdater(store, settings=RuleSettings(), as_of=as_of)
        report_events(store, items[:400], trust_reported_at=True, sinks=[updater])
        # the first chunk of this batch reaches the sink, then the batch is refused
        with pytest.raises(BatchError):
            report_events(
                store,
                _failing_batch(items[400:], 250),
                trust_reported_at=True,
                sinks=[updater],
                chunk_size=200,
            )
        if reused:  # the ids of the rolled-back chunk are written again, by other events
            report_events(store, items[400:700], trust_reported_at=True, sinks=[updater])
        updater.flush()
        assert (seen[-1] is not None) == reused
        flushed = _found(store)
    with _store(tmp_path, world, "read.db") as store:
        updater = AlertUpdater(store, settings=RuleSettings(), as_of=as_of, keep_events=0)
        report_events(
            store, items[: 700 if reused else 400], trust_reported_at=True, sinks=[updater]
        )
        updater.flush()
        assert flushed == _found(store)


def test_events_the_sink_did_not_see_are_read_from_the_store(
    tmp_path: Path, sim: tuple[Any, list[SourceItem]], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, items = sim
    seen = _spy_fresh(monkeypatch)
    with _store(tmp_path, world) as store:
        updater = AlertUpdater(store, settings=RuleSettings())
        report_events(store, items[:300], trust_reported_at=True, sinks=[updater])
        report_events(store, items[300:600], trust_reported_at=True)  # another writer's
        report_events(store, items[600:900], trust_reported_at=True, sinks=[updater])
        updater.flush()
        assert seen[-1] is None
        # too many for keep_events: read back too
        small = AlertUpdater(store, settings=RuleSettings(), keep_events=50)
        report_events(store, items[900:1000], trust_reported_at=True, sinks=[small])
        small.flush()
        assert seen[-1] is None
        # not logged (measuring only; the log is broken after it): no leaf tells a chunk
        # was written
        report_events(store, items[1000:1100], trust_reported_at=True, sinks=[updater], log=False)
        updater.flush()
        assert seen[-1] is None


def test_kept_states_are_not_used_when_something_was_written_after(
    tmp_path: Path, sim: tuple[Any, list[SourceItem]]
) -> None:
    world, items = sim
    with _store(tmp_path, world) as store:
        updater = AlertUpdater(store, settings=RuleSettings())
        report_events(store, items[:500], trust_reported_at=True, sinks=[updater])
        pending = updater._take()
        fresh = incremental._fresh(store, pending)
        assert fresh is not None
        assert fresh.batteries is not None
        report_events(store, items[500:600], trust_reported_at=True)  # written after
        fresh = incremental._fresh(store, pending)
        assert fresh is not None
        assert fresh.batteries is None  # states read from the store instead


def test_staged_facts_equal_facts_made_at_once(
    tmp_path: Path, sim: tuple[Any, list[SourceItem]]
) -> None:
    world, items = sim
    with _store(tmp_path, world) as store:
        report_events(store, items[:300], trust_reported_at=True)
        updater = AlertUpdater(store, settings=RuleSettings())
        report_events(
            store, items[300:900], trust_reported_at=True, sinks=[updater], chunk_size=250
        )
        pending = updater._take()
        assert pending.chunks is not None
        fresh = incremental._fresh(store, pending)
        assert fresh is not None
        scope = Scope(tuple(sorted(pending.codes)), 301, 900)
        stage = Stage()
        # a chunk staged twice (ids that came again) replaces what it replaced
        parts = [incremental._as_fresh([c]) for c in pending.chunks]
        stage.add(301, 550, parts[0].events, parts[0].links)
        stage.add(301, 550, parts[0].events, parts[0].links)
        for chunk, part in zip(pending.chunks[1:], parts[1:], strict=True):
            stage.add(chunk.first, chunk.last, part.events, part.links)
        assert stage.ids == (301, 900)
        facts = []
        for lent in (None, stage):
            engine = scoped_engine(store, scope, fresh, lent)
            service._build_facts(engine, RuleSettings())
            facts.append(
                {
                    name: sorted(engine._fetch(f"SELECT * FROM {name}"), key=repr)
                    for name in ("sv_ev", "sv_eb", "sv_seq", "sv_bat")
                }
            )
            engine.close()
        assert facts[0] == facts[1]
        stage.clear()
        assert stage.ids is None
        with pytest.raises(ValueError, match="stage"):
            scoped_engine(store, scope, fresh, stage)


def test_texts_and_chunks_travel_unchanged() -> None:
    cases: list[list[Any]] = [
        ["a", None, "çé中", ""],
        ["x"],
        [None, None],
        ["with\x00nul", "b"],  # cannot be joined: sent as it is
        ["\x01", None],  # looks like a missing value: sent as it is
    ]
    for values in cases:
        encoded = incremental._encode_texts(values)
        assert incremental._decode_texts(encoded, len(values)) == values


# -- the worker process -------------------------------------------------------------------------
def _import(
    store: Store, items: list[SourceItem], updater: AlertUpdater, batch: int, later: bool
) -> None:
    for start in range(0, len(items), batch):
        report_events(store, items[start : start + batch], trust_reported_at=True, sinks=[updater])
        if later:
            updater.flush_later()
        else:
            updater.flush()
    updater.wait()


def test_the_worker_finds_what_evaluating_here_finds_and_a_sweep_agrees(
    tmp_path: Path, sim: tuple[Any, list[SourceItem]]
) -> None:
    world, items = sim
    as_of = date(2025, 12, 31)
    settings = RuleSettings()
    found = {}
    for way in ("here", "worker"):
        with (
            _store(tmp_path, world, f"{way}.db") as store,
            AlertUpdater(store, settings=settings, as_of=as_of) as updater,
        ):
            if way == "worker":
                assert updater.start_worker()
            _import(store, items, updater, 700, later=way == "worker")
            found[way] = _found(store)
            if way == "worker":
                engine = engine_module.store_engine(store)
                try:
                    full = evaluate(engine, as_of=as_of, settings=settings)
                finally:
                    engine.close()
                battery_rules = {
                    f.id
                    for f in full
                    if f.battery is not None
                    and f.rule not in ("reused_code", "event_after_end", "unknown_code")
                }
                refused = {
                    a.id
                    for a in iter_alerts(store)
                    if a.rule in ("reused_code", "event_after_end", "unknown_code")
                }
                assert {i for i in found[way] if i not in refused} >= battery_rules
                result = sweep(store, as_of=as_of, settings=settings)
                assert result.reconciled["cleared"] == 0
    assert found["worker"] == found["here"]
    assert found["here"]


def test_a_stopped_worker_is_replaced_by_evaluating_here(
    tmp_path: Path, sim: tuple[Any, list[SourceItem]]
) -> None:
    world, items = sim
    as_of = date(2025, 12, 31)
    with _store(tmp_path, world, "here.db") as store:
        updater = AlertUpdater(store, settings=RuleSettings(), as_of=as_of, keep_events=0)
        report_events(store, items[:800], trust_reported_at=True, sinks=[updater])
        updater.flush()
        expected = _found(store)
    with (
        _store(tmp_path, world) as store,
        AlertUpdater(store, settings=RuleSettings(), as_of=as_of) as updater,
    ):
        assert updater.start_worker()
        report_events(store, items[:400], trust_reported_at=True, sinks=[updater])
        updater.flush_later()
        worker = updater._worker
        assert worker is not None
        process = worker._process
        assert process is not None
        process.kill()
        process.wait()
        report_events(store, items[400:800], trust_reported_at=True, sinks=[updater])
        updater.flush()
        updater.wait()
        assert updater._worker is None
        assert _found(store) == expected
        assert not updater.start_worker()  # evaluated here from then on


def test_an_error_in_the_worker_is_raised_by_the_next_call(
    tmp_path: Path, sim: tuple[Any, list[SourceItem]]
) -> None:
    world, items = sim
    with (
        _store(tmp_path, world) as store,
        AlertUpdater(store, settings=RuleSettings()) as updater,
    ):
        assert updater.start_worker()
        report_events(store, items[:300], trust_reported_at=True, sinks=[updater])
        where = store.location
        store.location = str(tmp_path / "no-such-folder" / "x.db")  # the worker cannot open it
        try:
            updater.flush_later()
            with pytest.raises(Exception, match=r"no-such-folder|unable to open"):
                updater.wait()
        finally:
            store.location = where
        # the worker is still there for what comes next
        report_events(store, items[300:500], trust_reported_at=True, sinks=[updater])
        updater.flush()
        assert updater._worker is not None


def test_no_worker_where_no_other_process_can_read(sim: tuple[Any, list[SourceItem]]) -> None:
    world, items = sim
    with open_store(":memory:") as store:
        register_world(store, world.firms)
        updater = AlertUpdater(store, settings=RuleSettings())
        assert not updater.start_worker()
        report_events(store, items[:300], trust_reported_at=True, sinks=[updater])
        counts = updater.flush_later()  # evaluated here and now
        assert updater._worker is None
        assert counts["opened"] == len(_found(store)) > 0


def test_start_worker_after_events_waits_for_them(
    tmp_path: Path, sim: tuple[Any, list[SourceItem]]
) -> None:
    world, items = sim
    with (
        _store(tmp_path, world) as store,
        AlertUpdater(store, settings=RuleSettings()) as updater,
    ):
        assert not updater.start_worker(after_events=300)
        report_events(store, items[:200], trust_reported_at=True, sinks=[updater])
        assert updater._worker is None
        report_events(store, items[200:400], trust_reported_at=True, sinks=[updater])
        assert updater._worker is not None
        updater.flush()  # what came before the worker was handed to it too
        assert updater._worker is not None


@pytest.mark.parametrize(("cores", "started"), [(1, False), (2, True), (3, True)])
def test_a_worker_starts_only_with_a_core_to_spare(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cores: int, started: bool
) -> None:
    monkeypatch.setattr(incremental, "_cores", lambda: cores)
    with open_store(tmp_path / "w.db") as store:
        with AlertUpdater(store) as updater:
            assert updater.start_worker() is started
            assert (updater._worker is not None) is started
        # a caller that wants a core to itself besides asks for three
        with AlertUpdater(store) as updater:
            assert updater.start_worker(min_cores=3) is (cores >= 3)
            assert (updater._worker is not None) is (cores >= 3)


def test_the_worker_process_speaks_its_protocol() -> None:
    worker = WorkerProcess()
    try:
        worker.post("no_such_function", answer=True)
        with pytest.raises(KeyError):
            worker.answer()
        with pytest.raises(RuntimeError, match="no request"):
            worker.answer()
    finally:
        worker.close()
    worker.close()  # twice: nothing happens


@pytest.mark.parametrize("chunk", ["20", "100000"])
def test_cli_import_uses_a_worker_past_the_first_chunk(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sim: tuple[Any, list[SourceItem]],
    chunk: str,
) -> None:
    from tests.test_cli import run

    world, items = sim
    started: list[int] = []

    class Counting(WorkerProcess):
        def __init__(self) -> None:
            started.append(1)
            super().__init__()

    monkeypatch.setattr("battrace.supervision.worker.WorkerProcess", Counting)
    monkeypatch.setattr(incremental, "_cores", lambda: 4)  # a core to spare for the worker
    monkeypatch.setenv("BATTRACE_IMPORT_CHUNK", chunk)
    events = tmp_path / "events.ndjson"
    events.write_bytes(b"\n".join(orjson.dumps(i.data) for i in items[:300]) + b"\n")
    with _store(tmp_path, world, "cli.db") as store:
        pass
    status, out, _ = run(capsys, "import", str(events), "--db", str(tmp_path / "cli.db"), "--json")
    assert status == 0
    assert len(started) == (1 if chunk == "20" else 0)
    with open_store(tmp_path / "cli.db") as store:
        by_cli = _found(store)
    with _store(tmp_path, world, "here.db") as store:
        updater = AlertUpdater(store, settings=RuleSettings())
        report_events(store, items[:300], trust_reported_at=True, sinks=[updater])
        updater.flush()
        assert by_cli == _found(store)
    assert orjson.loads(out)["alerts"]["opened"] == len(by_cli)


def test_chunk_states_match_the_dirty_batteries_of_a_late_report(tmp_path: Path) -> None:
    with open_store(tmp_path / "one.db") as store:
        sc = Scenario(store)
        maker = sc.f["battery_maker"]
        updater = AlertUpdater(store, settings=RuleSettings())
        event = {
            "type": "produced",
            "batteries": [code(n=7)],
            "actor": maker.credit_code,
            "occurred_at": at(date(2024, 3, 1)),
            "reported_at": at(date(2024, 6, 1)),
            "body": LFP_PACK,
        }
        report_events(store, [SourceItem(event)], trust_reported_at=True, sinks=[updater])
        assert updater._chunks
        states = updater._chunks[-1].states
        assert states is not None
        assert states[0] == [code(n=7)]
        assert updater.flush()["opened"] == 1


# -- the evaluation made while a transaction commits ---------------------------------------------
class _InProcessWorker:
    """The worker's functions called in this process, in order (what the pipe carries is
    tested above): lets a test see which evaluations the worker made."""

    def __init__(self) -> None:
        from battrace.supervision import worker

        self.functions = worker._functions()
        self.answers: list[Any] = []
        self.calls: list[str] = []

    def post(self, name: str, *args: Any, answer: bool = False) -> None:
        self.calls.append(name)
        result = self.functions[name](*args)
        if answer:
            self.answers.append(result)

    def answer(self) -> Any:
        return self.answers.pop(0)

    def close(self) -> None:
        return None

    def kill(self) -> None:
        return None


@pytest.fixture
def in_process_worker(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Workers made in this process, with the worker's state of their own; returns the list of
    the evaluations (``scoped_findings`` calls) made, by the name of the function that made
    each."""
    monkeypatch.setattr("battrace.supervision.worker.WorkerProcess", _InProcessWorker)
    monkeypatch.setattr(incremental, "_cores", lambda: 2)
    monkeypatch.setattr(incremental, "_HELD", incremental._Held([]))
    monkeypatch.setattr(incremental, "_STAGE", [])
    monkeypatch.setattr(incremental, "_AHEAD", [])
    monkeypatch.setattr(incremental, "_READERS", {})
    evaluations: list[str] = []
    real = service.scoped_findings

    def counting(*args: Any, **kwargs: Any) -> Any:
        import inspect

        caller = inspect.stack()[1].function
        evaluations.append(caller)
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "scoped_findings", counting)
    return evaluations


def _here(tmp_path: Path, world: Any, items: list[SourceItem], as_of: date) -> set[str]:
    with (
        _store(tmp_path, world, "here.db") as store,
        AlertUpdater(store, settings=RuleSettings(), as_of=as_of) as updater,
    ):
        report_events(store, items, trust_reported_at=True, sinks=[updater])
        updater.flush()
        return _found(store)


def test_the_update_evaluated_while_the_import_commits_is_taken(
    tmp_path: Path, sim: tuple[Any, list[SourceItem]], in_process_worker: list[str]
) -> None:
    world, items = sim
    evaluations = in_process_worker
    as_of = date(2025, 12, 31)
    expected = _here(tmp_path, world, items[:900], as_of)
    evaluations.clear()
    with (
        _store(tmp_path, world) as store,
        AlertUpdater(store, settings=RuleSettings(), as_of=as_of) as updater,
    ):
        assert updater.start_worker()
        report_events(store, items[:900], trust_reported_at=True, sinks=[updater])
        assert evaluations == ["_worker_ahead"]  # made before the commit
        updater.flush()
        assert evaluations == ["_worker_ahead"]  # and taken: no second evaluation
        assert _found(store) == expected
        assert expected


@pytest.mark.parametrize("meanwhile", ["event", "whitelist", "rolled back"])
def test_the_early_update_is_dropped_when_the_store_changed_meanwhile(
    tmp_path: Path,
    sim: tuple[Any, list[SourceItem]],
    in_process_worker: list[str],
    meanwhile: str,
) -> None:
    world, items = sim
    evaluations = in_process_worker
    as_of = date(2025, 12, 31)
    treating = {f.credit_code for f in world.firms if {"recycler", "echelon_firm"} & set(f.roles)}
    receiver, received = next(  # a firm the whitelist rule watches, receiving in these events
        (i.data["actor"], date.fromisoformat(i.data["occurred_at"][:10]))
        for i in items[:900]
        if i.data["type"] == "received" and i.data["actor"] in treating
    )

    class Refuses:
        """A sink that fails the transaction after the updater saw it commit."""

        def on_events(self, tx: Any, events: Any) -> None:
            return None

        def before_commit(self, tx: Any) -> None:
            raise RuntimeError("the disk is full")

    def change(store: Store, updater: AlertUpdater | None) -> None:
        if meanwhile == "event":  # a report the updater does not see
            report_events(store, items[900:901], trust_reported_at=True)
        elif meanwhile == "whitelist":  # the receiver left the whitelist before it received
            from battrace.services.enterprises import change_whitelist

            left = received - timedelta(days=1)
            change_whitelist(store, receiver, listed=False, effective_date=left)

    with (
        _store(tmp_path, world, "expected.db") as store,
        AlertUpdater(store, settings=RuleSettings(), as_of=as_of) as updater,
    ):
        if meanwhile != "rolled back":
            report_events(store, items[:900], trust_reported_at=True, sinks=[updater])
        change(store, None)
        updater.flush()
        expected = _found(store)
    evaluations.clear()
    with (
        _store(tmp_path, world) as store,
        AlertUpdater(store, settings=RuleSettings(), as_of=as_of) as updater,
    ):
        assert updater.start_worker()
        sinks: list[Any] = [updater]
        if meanwhile == "rolled back":
            sinks.append(Refuses())
            with pytest.raises(RuntimeError, match="disk is full"):
                report_events(store, items[:900], trust_reported_at=True, sinks=sinks)
        else:
            report_events(store, items[:900], trust_reported_at=True, sinks=sinks)
        change(store, updater)
        assert evaluations == ["_worker_ahead"]
        updater.flush()
        # evaluated again when the flush came: the early one no longer held
        assert evaluations == ["_worker_ahead", "_worker_findings"]
        assert _found(store) == expected
    if meanwhile == "rolled back":
        assert expected == set()  # nothing was written
    else:  # what changed meanwhile changes what is found
        assert expected != _here(tmp_path, world, items[:900], as_of)
