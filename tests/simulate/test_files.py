"""Files written by the simulator: same seed, same bytes; different seed, different data."""

from __future__ import annotations

from pathlib import Path

import orjson

from battrace.simulate import SimConfig, simulate_events, write_simulation
from battrace.simulate.files import read_enterprises, sibling
from battrace.simulate.world import build_world
from tests.simulate.conftest import every_rule

CONFIG = SimConfig(batteries=1_000, seed=21, rates=every_rule(0.03))


def _write(folder: Path, config: SimConfig = CONFIG) -> dict[str, bytes]:
    folder.mkdir()
    write_simulation(config, folder / "sim.ndjson", labels=folder / "labels.csv")
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    first = _write(tmp_path / "a")
    second = _write(tmp_path / "b")
    assert list(first) == [
        "labels.csv",
        "sim.enterprises.ndjson",
        "sim.ndjson",
        "sim.refused.ndjson",
    ]
    assert first == second
    assert len(first["sim.ndjson"]) > 100_000


def test_other_seed_other_data(tmp_path: Path) -> None:
    first = _write(tmp_path / "a")
    other = _write(
        tmp_path / "b",
        SimConfig(batteries=1_000, seed=22, rates=every_rule(0.03)),
    )
    for name in first:
        assert first[name] != other[name], name


def test_files_hold_what_the_stream_holds(tmp_path: Path) -> None:
    summary = write_simulation(CONFIG, tmp_path / "sim.ndjson")
    lines = (tmp_path / "sim.ndjson").read_bytes().splitlines()
    refused = sibling(tmp_path / "sim.ndjson", "refused").read_bytes().splitlines()
    stream = list(simulate_events(CONFIG))
    assert [orjson.loads(x) for x in lines] == [i.event for i in stream if not i.refused]
    assert [orjson.loads(x) for x in refused] == [i.event for i in stream if i.refused]
    assert (summary.events, summary.refused) == (len(lines), len(refused))
    firms = list(read_enterprises(sibling(tmp_path / "sim.ndjson", "enterprises")))
    assert firms == build_world(CONFIG.seed, CONFIG.batteries).firms


def test_sibling_names() -> None:
    assert sibling(Path("out/sim.ndjson"), "enterprises") == Path("out/sim.enterprises.ndjson")
    assert sibling(Path("events"), "refused") == Path("events.refused.ndjson")
