"""Writing a simulation to files, and reading those files back.

``write_simulation(config, "sim.ndjson")`` writes three NDJSON files and, when asked, the labels:

- ``sim.ndjson``: the events the platform accepts, in a valid order (``battrace import
  sim.ndjson`` takes them once the enterprises are registered);
- ``sim.refused.ndjson``: the events that break a rule the platform refuses at the door
  (``reused_code``, ``event_after_end``), to be submitted one by one after the others;
- ``sim.enterprises.ndjson``: the enterprises, one JSON object a line (credit code, name, roles,
  division, manufacturer code, whitelist history);
- the labels CSV (``rule,battery,enterprise,event_ref,detail``).

``battrace simulate-load sim.ndjson --db ...`` (see :func:`battrace.simulate.ingest.ingest_files`)
registers the enterprises and loads both event files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from battrace.errors import ValidationError
from battrace.simulate.config import SimConfig
from battrace.simulate.stream import simulate_events
from battrace.simulate.violations import Label, label_writer
from battrace.simulate.world import SimFirm, World, build_world

PROGRESS_EVERY = 10_000


def sibling(path: Path, part: str) -> Path:
    """``sim.ndjson`` -> ``sim.<part>.ndjson`` in the same folder."""
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    return path.with_name(f"{stem}.{part}.ndjson")


@dataclass
class SimSummary:
    """What a run produced: events (accepted kind and refused kind), firms, labels by rule."""

    events: int = 0
    refused: int = 0
    enterprises: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    files: dict[str, str] = field(default_factory=dict)

    def count(self, found: tuple[Label, ...], write: Callable[[Label], Any] | None) -> None:
        for item in found:
            self.labels[item.rule] += 1
            if write is not None:
                write(item)

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "refused": self.refused,
            "enterprises": self.enterprises,
            "labels": sum(self.labels.values()),
            "labels_by_rule": dict(sorted(self.labels.items())),
            "files": self.files,
        }


def write_enterprises(world: World, path: Path) -> int:
    """Write the world's firms to ``path`` (NDJSON); returns how many."""
    with path.open("wb") as out:
        for firm in world:
            out.write(orjson.dumps(firm.to_record()) + b"\n")
    return len(world.firms)


def read_enterprises(path: Path) -> Iterator[SimFirm]:
    """Firms from an ``.enterprises.ndjson`` file. Raises ``ValidationError`` naming the line
    of a bad record."""
    with path.open("rb") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                yield SimFirm.from_record(orjson.loads(line))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ValidationError(
                    f"enterprises: {path.name} line {number} is not an enterprise record ({exc})",
                    field="enterprises",
                    rule="format",
                ) from None


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    """Event dicts from an NDJSON file (nothing if it does not exist)."""
    if not path.exists():
        return
    with path.open("rb") as stream:
        for line in stream:
            if line.strip():
                yield orjson.loads(line)


def write_simulation(
    config: SimConfig,
    out: Path,
    *,
    labels: Path | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> SimSummary:
    """Write the run to ``out`` and its sibling files (see the module docstring)."""
    world = build_world(config.seed, config.batteries)
    summary = SimSummary()
    firms_path, refused_path = sibling(out, "enterprises"), sibling(out, "refused")
    summary.enterprises = write_enterprises(world, firms_path)
    summary.files = {
        "events": str(out),
        "refused": str(refused_path),
        "enterprises": str(firms_path),
    }
    label_file: IO[str] | None = None
    write: Callable[[Label], Any] | None = None
    if labels is not None:
        label_file = labels.open("w", encoding="utf-8", newline="")
        write = label_writer(label_file)
        summary.files["labels"] = str(labels)
    dumps = orjson.dumps
    try:
        with out.open("wb") as valid, refused_path.open("wb") as refused:
            for n, item in enumerate(simulate_events(config, world), start=1):
                if item.refused:
                    refused.write(dumps(item.event) + b"\n")
                    summary.refused += 1
                else:
                    valid.write(dumps(item.event) + b"\n")
                    summary.events += 1
                if item.labels:
                    summary.count(item.labels, write)
                if on_progress is not None and n % PROGRESS_EVERY == 0:
                    on_progress(n)
    finally:
        if label_file is not None:
            label_file.close()
    if on_progress is not None:
        on_progress(summary.events + summary.refused)
    return summary
