"""Loading a simulation into a fresh store: everything accepted but the expected refusals,
and the store's state agrees with the labels."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from battrace.domain.entities import State
from battrace.errors import ValidationError
from battrace.simulate import (
    REFUSED_RULES,
    IngestResult,
    Label,
    SimConfig,
    SimEvent,
    ingest_files,
    ingest_simulation,
    write_simulation,
)
from battrace.store import Store, open_store
from tests.simulate.conftest import every_rule

Loaded = tuple[Store, IngestResult, list[Label]]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, breach_config: SimConfig) -> Iterator[Loaded]:
    store = open_store(tmp_path_factory.mktemp("ingest") / "sim.db")
    labels: list[Label] = []
    result = ingest_simulation(store, breach_config, labels=labels.append, batch_size=4_000)
    yield store, result, labels
    store.close()


def test_only_expected_refusals(loaded: Loaded, breach_run: list[SimEvent]) -> None:
    store, result, labels = loaded
    refused = sum(item.refused for item in breach_run)
    assert refused > 10
    assert result.unexpected_rejections == 0, result.problems
    assert result.unexpected_acceptances == 0
    assert result.expected_rejections == refused
    assert result.expected_rejections == sum(lab.rule in REFUSED_RULES for lab in labels)
    assert result.accepted == len(breach_run) - refused == store.count("events")
    assert result.batches > 1
    assert labels == [lab for item in breach_run for lab in item.labels]


def test_store_state_agrees_with_the_labels(loaded: Loaded) -> None:
    store, _, labels = loaded
    checked: Counter[str] = Counter()
    for lab in labels:
        battery = store.battery(lab.battery)
        assert battery is not None
        if lab.rule == "shipment_not_received":
            assert battery.pending_to == lab.enterprise
        elif lab.rule == "retired_not_collected":
            assert (battery.state, battery.holder) == (State.RETIRED, lab.enterprise)
        elif lab.rule == "not_forwarded":
            assert (battery.state, battery.holder) == (State.COLLECTED, lab.enterprise)
        elif lab.rule == "scrapped_without_battery":
            assert battery.state is State.IN_USE
        elif lab.rule == "off_whitelist_flow":
            event = next(e for e in store.history(lab.battery) if e.ref == lab.event_ref)
            day = datetime.fromisoformat(event.occurred_at.replace("Z", "+00:00")).date()
            firm = store.enterprise(lab.enterprise, on=day)
            assert firm is not None
            assert not firm.whitelisted
        elif lab.rule == "late_report":
            event = next(e for e in store.history(lab.battery) if e.ref == lab.event_ref)
            assert event.reported_at > event.occurred_at
        elif lab.rule in REFUSED_RULES:
            assert all(e.ref != lab.event_ref for e in store.history(lab.battery))
        checked[lab.rule] += 1
    assert len(checked) == 11


def test_a_store_with_events_is_refused(loaded: Loaded, breach_config: SimConfig) -> None:
    store, _, _ = loaded
    with pytest.raises(ValidationError) as info:
        ingest_simulation(store, breach_config)
    assert info.value.field == "db"


def test_files_load_like_the_direct_path(tmp_path: Path) -> None:
    config = SimConfig(batteries=400, seed=8, end_year=2019, rates=every_rule(0.05))
    summary = write_simulation(config, tmp_path / "sim.ndjson", labels=tmp_path / "labels.csv")
    with open_store(tmp_path / "files.db") as store:
        from_files = ingest_files(store, tmp_path / "sim.ndjson", batch_size=1_000)
    with open_store(tmp_path / "direct.db") as store:
        direct = ingest_simulation(store, config)
    assert from_files.unexpected_rejections == direct.unexpected_rejections == 0
    assert from_files.accepted == direct.accepted == summary.events
    assert from_files.expected_rejections == direct.expected_rejections == summary.refused
    assert from_files.enterprises_added == direct.enterprises_added == summary.enterprises


def test_missing_files_are_named(tmp_path: Path, sqlite_store: Store) -> None:
    with pytest.raises(ValidationError, match="does not exist") as info:
        ingest_files(sqlite_store, tmp_path / "nothing.ndjson")
    assert info.value.field == "file"


def test_cells_ingest(tmp_path: Path) -> None:
    config = SimConfig(batteries=25, seed=4, end_year=2016, cells=True, rates=every_rule(0.0))
    with open_store(tmp_path / "cells.db") as store:
        result = ingest_simulation(store, config)
        assert result.unexpected_rejections == 0, result.problems
        parents = [
            e for e in store.iter_events() if e.type == "produced" and e.body.get("children")
        ]
        in_use = 0
        for event in parents:
            unit = store.battery(event.batteries[0])
            assert unit is not None
            if unit.state is State.IN_USE:
                in_use += 1
                assert store.children(unit.code) == event.body["children"]
                for child in event.body["children"]:
                    part = store.battery(child)
                    assert part is not None
                    assert (part.state, part.parent) == (State.ASSEMBLED, unit.code)
        assert in_use > 10
