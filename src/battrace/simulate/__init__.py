"""The national-scale simulator: EV power batteries from production to recycling, in China.

It makes a world of enterprises (every role, the 31 provinces, the whitelist) and walks
batteries through their whole life as lifecycle events the platform accepts, with national
sales by year, the LFP share by year, Weibull lifetimes, realistic reporting delays and
injected rule breaches labelled as ground truth. See ``docs/simulator.md``.

Modules, each with one job:

- :mod:`.parameters`: the national figures, with their sources;
- :mod:`.config`: the options of a run (:class:`SimConfig`);
- :mod:`.world`: the enterprises (:func:`build_world`);
- :mod:`.lifecycle` and :mod:`.afterlife`: one vehicle's story and its packs' after-life;
- :mod:`.violations`: rule names, rates and labels;
- :mod:`.stream`: the streaming generator (:func:`simulate_events`);
- :mod:`.files` and :mod:`.ingest`: writing NDJSON files, loading into a store.

Helpers: :mod:`.clock` (time in minutes), :mod:`.identities` (codes and VINs),
:mod:`.specs` (pack specifications), :mod:`.story` (events of one story).
"""

from battrace.simulate.config import SimConfig
from battrace.simulate.files import SimSummary, write_simulation
from battrace.simulate.ingest import IngestResult, ingest_files, ingest_simulation, register_world
from battrace.simulate.stream import SimEvent, simulate_events
from battrace.simulate.violations import (
    DEFAULT_RATES,
    LABEL_COLUMNS,
    REFUSED_RULES,
    RULES,
    Label,
    parse_rates,
)
from battrace.simulate.world import SimFirm, World, build_world

__all__ = [
    "DEFAULT_RATES",
    "LABEL_COLUMNS",
    "REFUSED_RULES",
    "RULES",
    "IngestResult",
    "Label",
    "SimConfig",
    "SimEvent",
    "SimFirm",
    "SimSummary",
    "World",
    "build_world",
    "ingest_files",
    "ingest_simulation",
    "parse_rates",
    "register_world",
    "simulate_events",
    "write_simulation",
]
