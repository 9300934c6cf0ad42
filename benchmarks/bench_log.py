"""The tamper-evident log: proof latency, auditor rate, and append-and-prove against pymerkle.

Part 1 (pure, in memory, same leaves): append L leaves and make K inclusion proofs with
battrace's ledger maths and with the `pymerkle` library (both RFC 9162 trees: their roots are
checked equal), and give the ratio.

Part 2 (a real store): inclusion and consistency proofs served from the store (p50/p99 over
random leaves and sizes) and the offline auditor's rate, on a database with `--events` events
(built from simulated data, or an existing one given with `--db`, e.g. from
`bench_scale.py --keep DIR`).

    python -m benchmarks.bench_log [--events N | --db PATH] [--leaves L] [--proofs K]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from pymerkle import InmemoryTree

from battrace.ledger.hasher import leaf_hash
from battrace.ledger.tree import CompactRange, NodeId, inclusion_proof
from battrace.services import log
from battrace.services.audit import verify_log
from battrace.services.importing import import_items, read_file
from battrace.store import open_store
from battrace.store.base import Store
from benchmarks.common import (
    machine,
    median,
    percentile,
    register_sim_firms,
    sim_file,
    write_section,
)


def append_and_prove(leaves: int, proofs: int) -> dict[str, float]:
    data = [b"battrace leaf %d" % i for i in range(leaves)]
    picks = [random.randrange(leaves) for _ in range(proofs)]

    def ours() -> bytes:
        nodes: dict[tuple[int, int], bytes] = {}

        def keep(node: NodeId, digest: bytes) -> None:
            nodes[(node.level, node.index)] = digest

        tree = CompactRange()
        for item in data:
            tree.append(leaf_hash(item), keep)

        def get_node(level: int, index: int) -> bytes:
            return nodes[(level, index)]

        for i in picks:
            inclusion_proof(i, leaves, get_node)
        return tree.root()

    def theirs() -> bytes:
        tree = InmemoryTree(algorithm="sha256")
        for item in data:
            tree.append_entry(item)
        for i in picks:
            tree.prove_inclusion(i + 1, leaves)  # pymerkle counts leaves from 1
        root: bytes = tree.get_state()
        return root

    times_ours, times_theirs = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        root_ours = ours()
        t1 = time.perf_counter()
        root_theirs = theirs()
        t2 = time.perf_counter()
        assert root_ours == root_theirs, "the two libraries built different trees"
        times_ours.append(t1 - t0)
        times_theirs.append(t2 - t1)
    return {"ours": median(times_ours), "pymerkle": median(times_theirs)}


def _proof_times(store: Store, size: int, samples: int) -> tuple[list[float], list[float]]:
    inc, con = [], []
    for _ in range(samples):
        index = random.randrange(size)
        old = random.randrange(1, size)
        t0 = time.perf_counter()
        log.inclusion(store, index, size)
        t1 = time.perf_counter()
        log.consistency(store, old, size)
        t2 = time.perf_counter()
        inc.append((t1 - t0) * 1000)
        con.append((t2 - t1) * 1000)
    return inc, con


def _read_through(db: Path) -> None:
    """Read the database file once, so the OS holds it in its page cache (a warm server)."""
    with db.open("rb") as f:
        while f.read(1 << 24):
            pass


def store_figures(db: Path, samples: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with open_store(db) as store:
        size = log.current_checkpoint(store).size
        # first touch: this host reclaims idle page cache, so random leaves are often on disk
        inc, con = _proof_times(store, size, samples)
        figures.update(cold_inc_p99=percentile(inc, 99), cold_con_p99=percentile(con, 99))
        _read_through(db)
        inc, con = _proof_times(store, size, samples)  # new random leaves, file in memory
        key = log.log_verifier_key(store)
        t0 = time.perf_counter()
        report = verify_log(store, key)
        audit_seconds = time.perf_counter() - t0
        assert report.ok, report.problems
    figures.update(
        size=size,
        inc_p50=percentile(inc, 50),
        inc_p99=percentile(inc, 99),
        con_p50=percentile(con, 50),
        con_p99=percentile(con, 99),
        audit_rate=report.leaves / audit_seconds,
        audit_seconds=audit_seconds,
    )
    return figures


def build(events: int, db: Path) -> None:
    path, _ = sim_file(events)
    with open_store(db) as store:
        register_sim_firms(store, path)
        with path.open("rb") as f:
            import_items(store, read_file(f, "ndjson", "events"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--leaves", type=int, default=100_000)
    parser.add_argument("--proofs", type=int, default=1000)
    args = parser.parse_args()
    random.seed(3)
    pure = append_and_prove(args.leaves, args.proofs)
    if args.db is not None:
        figures = store_figures(args.db, args.proofs)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "log.db"
            build(args.events, db)
            figures = store_figures(db, args.proofs)
    text = "\n".join(
        [
            f"Machine: {machine()}",
            "",
            f"Command: `python -m benchmarks.bench_log"
            f" {'--db ' + str(args.db) if args.db else '--events ' + str(args.events)}"
            f" --leaves {args.leaves} --proofs {args.proofs}`",
            "",
            f"- Append {args.leaves:,} leaves and make {args.proofs:,} inclusion proofs, in memory:"
            f" battrace {pure['ours']:.2f} s, pymerkle {pure['pymerkle']:.2f} s; battrace is"
            f" **{pure['pymerkle'] / pure['ours']:.1f}x** as fast (same RFC 9162 root checked).",
            f"- Proofs served from the store at {int(figures['size']):,} leaves"
            f" ({args.proofs} random each), database file in memory: inclusion p50"
            f" {figures['inc_p50']:.3f} ms, p99 {figures['inc_p99']:.3f} ms; consistency p50"
            f" {figures['con_p50']:.3f} ms, p99 {figures['con_p99']:.3f} ms (target < 1 ms)."
            f" First touch (pages possibly on disk: this host reclaims idle page cache): p99"
            f" inclusion {figures['cold_inc_p99']:.3f} ms, consistency"
            f" {figures['cold_con_p99']:.3f} ms.",
            f"- Offline auditor (`battrace verify`): {int(figures['size']):,} leaves in"
            f" {figures['audit_seconds']:.1f} s = **{figures['audit_rate']:,.0f} leaves/s**"
            " (target >= 200,000).",
        ]
    )
    print(text)
    write_section("Tamper-evident log (issue 3)", text)


if __name__ == "__main__":
    main()
