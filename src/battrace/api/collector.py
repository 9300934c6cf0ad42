"""The garbage collector's production tuning for the server's long-lived processes.

What start-up made lives as long as the process, so it leaves the collections
(``gc.freeze``), and the youngest generation is collected every 50,000 allocations instead of
700: the collector's pauses, whole-heap collections over the imported modules included, were
the slowest single-event reports (benchmarks/RESULTS.md, HTTP API).
"""

from __future__ import annotations

import gc

GC_THRESHOLDS = (50_000, 20, 100)  # CPython's defaults: (700, 10, 10)


def tune_collector() -> None:
    """Freeze what exists now out of the collector's reach, and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


__all__ = ["GC_THRESHOLDS", "tune_collector"]
