"""An enterprise's reads: its list of batteries and its EPCIS event query, against the scans
they replaced, side by side on the same store.

The store holds a simulated nation of about `--events` events (`battrace simulate`, seed 7,
imported once under the benchmark work directory). For `--per-role` enterprises of each
role but regulators (the first by credit code), in this process:

- Battery list (`Store.list_batteries` with the enterprise as party, what
  `GET /api/v1/batteries` shows it): the first page of 100 through `battery_parties`, and the
  baseline, the query it replaced (a walk of every battery in code order testing its events).
- EPCIS (`query_events` as the HTTP route calls it): every page of 100 of its unfiltered
  query, at most `--pages`, through its batteries' events, and the baseline, the scan of
  every event with the read check (stopped after `--scan-seconds`, counted as that long).

Each enterprise's answers are compared between the two ways (the same batteries, the same
events); the table gives the medians per role.

    python -m benchmarks.bench_reads [--events 1000000] [--per-role 1] [--pages 5]
        [--scan-seconds 60]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from battrace.domain.access import Caller
from battrace.domain.entities import Enterprise, Role
from battrace.epcis.service import query_events
from battrace.services.access import may_read_event
from battrace.services.importing import import_items
from battrace.services.reporting import SourceItem
from battrace.store import BatteryFilter, Store, open_store
from battrace.store.rows import BATTERY_COLUMNS, battery_from_row
from benchmarks import common
from benchmarks.common import machine, median, register_sim_firms, sim_file, write_section

#: the list query `Store.list_batteries` ran for a party before battery_parties
OLD_PARTY_LIST = (
    f"SELECT {BATTERY_COLUMNS} FROM batteries WHERE (maker = ? OR holder = ? OR pending_to = ?"
    " OR EXISTS (SELECT 1 FROM event_batteries l JOIN events e ON e.id = l.event_id"
    " WHERE l.code = batteries.code AND (e.actor = ? OR e.counterparty = ?)))"
    " ORDER BY code LIMIT ?"
)


def store_of(events: int) -> Path:
    """The simulated nation's store, imported once under the work directory."""
    path, _ = sim_file(events)
    db = common.WORK / f"reads-{path.stem}.db"
    ready = db.with_suffix(".ready")
    if not (ready.exists() and db.exists()):
        for stale in common.WORK.glob(f"{db.name}*"):
            stale.unlink()
        with open_store(db) as store, path.open("rb") as f:
            register_sim_firms(store, path)
            import_items(store, (SourceItem(orjson.loads(line)) for line in f))
        ready.write_text("ok")
    return db


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    out = fn()
    return time.perf_counter() - began, out


def _event_pages(
    store: Store, firm: Enterprise, reader: str | None, pages: int, deadline: float
) -> tuple[float, list[str], int]:
    """Seconds, event ids and pages of ``firm``'s unfiltered EPCIS query (as the route asks
    it when ``reader`` is its id; the scan with the read check otherwise), ``deadline``
    seconds at most (then the seconds are the deadline)."""
    caller = Caller(firm)
    began = time.perf_counter()
    ids: list[str] = []
    token = None
    count = 0

    def visible(row: Any) -> bool:
        if time.perf_counter() - began > deadline:
            raise TimeoutError
        return may_read_event(store, caller, row)

    try:
        while count < pages:
            params = {"perPage": "100", **({"nextPageToken": token} if token else {})}
            document = query_events(
                store,
                params,
                visible=visible,
                reader=reader,
                scan=10**12 if reader is None else 10_000,
            )
            results = document["epcisBody"]["queryResults"]
            ids += [e["eventID"] for e in results["resultsBody"]["eventList"]]
            count += 1
            token = results.get("battrace:nextPageToken")
            if token is None:
                break
    except TimeoutError:
        return deadline, ids, count
    return time.perf_counter() - began, ids, count


def run(events: int, per_role: int, pages: int, scan_seconds: float) -> list[dict[str, Any]]:
    db = store_of(events)
    rows: list[dict[str, Any]] = []
    with open_store(db) as store:
        by_role: dict[str, list[Enterprise]] = {}
        for firm in store.list_enterprises():
            role = sorted(r.value for r in firm.roles)[0]
            if Role.REGULATOR not in firm.roles:
                by_role.setdefault(role, []).append(firm)
        raw: Any = store._connection()
        for role, firms in sorted(by_role.items()):
            for firm in firms[:per_role]:
                new_list_s, new_list = _timed(
                    lambda f=firm: store.list_batteries(BatteryFilter(party=f.id, limit=100))
                )
                old_list_s, old_rows = _timed(
                    lambda f=firm: raw.query(OLD_PARTY_LIST, [f.id] * 5 + [100])
                )
                old_list = [battery_from_row(r) for r in old_rows]
                new_ev_s, new_ids, new_pages = _event_pages(store, firm, firm.id, pages, 3600)
                old_ev_s, old_ids, _ = _event_pages(store, firm, None, pages, scan_seconds)
                complete = old_ev_s < scan_seconds
                rows.append(
                    {
                        "role": role,
                        "list_new": new_list_s,
                        "list_old": old_list_s,
                        "list_same": [b.code for b in new_list] == [b.code for b in old_list],
                        "batteries": len(new_list),
                        "events": len(new_ids),
                        "pages": new_pages,
                        "ev_new": new_ev_s / new_pages,
                        "ev_old": old_ev_s / max(new_pages, 1),
                        "ev_same": new_ids == old_ids if complete else None,
                    }
                )
        total = store.count("events")
        batteries = store.count("batteries")
    rows.append({"role": "_store", "events": total, "batteries": batteries})
    return rows


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    store = rows[-1]
    lines = [
        f"Machine: {machine()}",
        "",
        f"Command: `python -m benchmarks.bench_reads --events {args.events} --per-role"
        f" {args.per_role} --pages {args.pages} --scan-seconds {args.scan_seconds:g}` (store of"
        f" {store['events']:,} simulated events, {store['batteries']:,} batteries; in-process;"
        " medians per role)",
        "",
        "| role | first page of its batteries: battery_parties / the walk it replaced | EPCIS"
        " page of its events: through its batteries / the scan | same answers |",
        "|---|---|---|---|",
    ]
    by_role: dict[str, list[dict[str, Any]]] = {}
    for row in rows[:-1]:
        by_role.setdefault(row["role"], []).append(row)
    for role, found in by_role.items():
        same = all(r["list_same"] for r in found) and all(r["ev_same"] is not False for r in found)
        unchecked = any(r["ev_same"] is None for r in found)
        ms = [
            median([r[k] for r in found]) * 1000
            for k in ("list_new", "list_old", "ev_new", "ev_old")
        ]
        lines.append(
            f"| {role} | {ms[0]:.1f} / {ms[1]:,.0f} ms | {ms[2]:.1f} / {ms[3]:,.0f} ms"
            f"{' (scan stopped)' if unchecked else ''} | {'yes' if same else '**no**'}"
            f"{' (lists; events not all scanned)' if unchecked and same else ''} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--per-role", type=int, default=1)
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--scan-seconds", type=float, default=60.0)
    args = parser.parse_args()
    rows = run(args.events, args.per_role, args.pages, args.scan_seconds)
    text = report(rows, args)
    print(text)
    write_section("Enterprise reads (issue 5)", text)


if __name__ == "__main__":
    main()
