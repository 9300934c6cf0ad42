"""Web dashboard: time to render each page, as a browser would ask for it (HTML only).

The server is `battrace serve` in its own process over a simulated nation of `--batteries`
batteries (seed 1, 40,000 by default, made once under the benchmark work directory with an
alerts sweep and a national regulator), the client httpx in this process, logged in through
the login form as the national regulator. Each page is asked once (its first view: a figure
never computed before is computed then), then `--repeat` times in a row; the table gives the
first view, the median and the p95 of the repeats. Figures are kept in memory by the server
for 60 s (`battrace.web.figcache`), so the repeats show what regulators see in practice.

    python -m benchmarks.bench_web [--batteries 40000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import httpx

from battrace.services.enterprises import register_enterprise
from battrace.services.queries import list_batteries
from battrace.services.tokens import create_token
from battrace.simulate import SimConfig, ingest_simulation
from battrace.store import open_store
from battrace.supervision import alerts as alert_service
from battrace.supervision.service import sweep
from benchmarks.common import WORK, free_port, machine, median, percentile, serve, write_section

TARGET_P95_MS = 300.0


def national_code() -> str:
    """A national regulator's credit code (division digits 100000: a central state organ)."""
    from battrace.codes.credit import credit_check_character, org_code_check_character

    body = "00000001"
    first17 = "11" + "100000" + body + org_code_check_character(body)
    return first17 + credit_check_character(first17)


def demo_store(batteries: int) -> Path:
    """The simulated store, made once under the work directory (then reused)."""
    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / f"web-{batteries}-1.db"
    ready = db.with_suffix(".ready")  # written last: the store is complete
    if ready.exists() and db.exists():
        return db
    for stale in WORK.glob(f"{db.name}*"):
        stale.unlink()
    with open_store(db) as store:
        ingest_simulation(store, SimConfig(batteries=batteries, seed=1))
        sweep(store)
        register_enterprise(
            store,
            credit_code=national_code(),
            name="National Regulator (bench)",
            roles=["regulator"],
            division="110000",
        )
    ready.write_text("ok")
    return db


def _subjects(db: Path) -> dict[str, Any]:
    """A token, the busiest province, an open alert, a vehicle maker, a long-lived battery."""
    with open_store(db) as store:
        token = create_token(store, national_code(), label="bench-web")[1]
        counts = alert_service.count_alerts(store, group_by="province", status="open")
        province = max((p for p in counts if p != "none"), key=lambda p: counts[p])
        alert = alert_service.list_alerts(store, status="open", province=province, limit=1)[0]
        maker = store.list_enterprises(role="vehicle_maker")[0].id
        battery = list_batteries(store, state="recycled", limit=1)["items"][0]["code"]
        rows = store._connection().query(
            "SELECT vin FROM batteries WHERE vin IS NOT NULL ORDER BY code LIMIT 1"
        )
    return {
        "token": token,
        "province": province,
        "alert": alert.id,
        "maker": maker,
        "battery": battery,
        "vin": str(rows[0][0]),
    }


def pages(s: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("national overview", "/ui/"),
        ("province overview", f"/ui/province/{s['province']}"),
        ("map: retired", "/ui/map"),
        ("map: collection rate", "/ui/map?metric=collection_rate"),
        ("map: open alerts", "/ui/map?metric=alerts"),
        ("flows (Sankey)", "/ui/flows"),
        ("flows, filtered", f"/ui/flows?province={s['province']}&chemistry=LFP"),
        ("alerts list", "/ui/alerts"),
        ("alerts, filtered", f"/ui/alerts?status=open&province={s['province']}"),
        ("alert detail", f"/ui/alerts/{s['alert']}"),
        ("enterprises", "/ui/enterprises"),
        ("enterprise", f"/ui/enterprise/{s['maker']}"),
        ("battery (history, proofs, QR)", f"/ui/battery/{s['battery']}"),
        ("search by VIN (a redirect)", f"/ui/battery?q={s['vin']}"),
    ]


def measure(
    url: str, token: str, paths: list[tuple[str, str]], repeat: int
) -> list[dict[str, Any]]:
    out = []
    with httpx.Client(base_url=url, timeout=120, follow_redirects=False) as client:
        login = client.post("/ui/login", data={"token": token, "next": "/ui/"})
        if login.status_code != 303:
            raise RuntimeError(f"login refused: {login.status_code}")
        for name, path in paths:
            t0 = time.perf_counter()
            first = client.get(path)
            first_ms = (time.perf_counter() - t0) * 1000
            if first.status_code not in (200, 303):
                raise RuntimeError(f"{path}: {first.status_code} {first.text[:300]}")
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                answer = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                if answer.status_code != first.status_code:
                    raise RuntimeError(f"{path}: {answer.status_code}")
            out.append(
                {
                    "page": name,
                    "path": path,
                    "first": first_ms,
                    "median": median(times),
                    "p95": percentile(times, 95),
                    "bytes": len(first.content),
                }
            )
    return out


def run(batteries: int, repeat: int) -> list[dict[str, Any]]:
    db = demo_store(batteries)
    subjects = _subjects(db)
    port = free_port()
    server = serve(db, port)
    try:
        return measure(f"http://127.0.0.1:{port}", subjects["token"], pages(subjects), repeat)
    finally:
        server.terminate()
        server.wait(timeout=30)


def report(rows: list[dict[str, Any]], batteries: int, repeat: int) -> str:
    worst = max(r["p95"] for r in rows)
    lines = [
        f"Machine: {machine()}",
        "",
        f"Command: `python -m benchmarks.bench_web --batteries {batteries} --repeat {repeat}`:"
        f" `battrace serve` over a simulated nation of {batteries:,} batteries (seed 1, alerts"
        " swept), httpx in another process logged in as the national regulator; each page"
        f" once (first view), then {repeat} times in a row.",
        "",
        "| page | first view ms | median ms | p95 ms | HTML KiB |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['page']} | {r['first']:.0f} | {r['median']:.1f} | {r['p95']:.1f} |"
            f" {r['bytes'] / 1024:.0f} |"
        )
    verdict = "met" if worst < TARGET_P95_MS else "NOT met"
    lines += [
        "",
        f"Target p95 < {TARGET_P95_MS:.0f} ms per page: {verdict} (worst p95 {worst:.0f} ms)."
        " A first view computes the figures it shows that no page asked for before (the"
        " national ones are started in the background by the first page); later views read"
        " them from memory until they are 60 s old and the log has grown, then they are"
        " recomputed in the background while the previous ones are served.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batteries", type=int, default=40_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    rows = run(args.batteries, args.repeat)
    text = report(rows, args.batteries, args.repeat)
    print(text)
    write_section("Web dashboard (issue 7)", text)


if __name__ == "__main__":
    main()
