"""A small battery world for rule tests: report events with chosen dates, evaluate rules."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from battrace.codes import generate_credit_code
from battrace.errors import BattraceError
from battrace.services.demo import DemoFirm, demo_firms, register_demo_firms
from battrace.services.enterprises import register_enterprise
from battrace.services.reporting import SourceItem, report_events
from battrace.store.base import Store
from battrace.supervision.config import RuleSettings
from battrace.supervision.engine import store_engine
from battrace.supervision.findings import Finding
from battrace.supervision.service import evaluate
from tests.builders import LFP_PACK, code, vin


def at(day: date, hour: int = 10) -> str:
    """A China Standard Time timestamp on ``day``."""
    return f"{day.isoformat()}T{hour:02d}:00:00+08:00"


class Scenario:
    """Enterprises from the demo (one per role, plus an unlisted recycler) and helpers that
    walk packs through their lives on chosen days."""

    def __init__(self, store: Store) -> None:
        self.store = store
        register_demo_firms(store)
        self.f: dict[str, DemoFirm] = {}
        for firm in demo_firms():
            self.f.setdefault(firm.roles[0], firm)
        # a recycler that never made the whitelist
        self.rogue = DemoFirm(
            generate_credit_code("360700", 77), "Rogue Recycling", ("recycler",), "360700"
        )
        register_enterprise(
            store,
            credit_code=self.rogue.credit_code,
            name=self.rogue.name,
            roles=["recycler"],
            division="360700",
        )
        self.refused: list[BattraceError] = []
        self.sinks: list[Any] = []  # handed every report (an AlertUpdater, say)

    def report(
        self,
        kind: str,
        actor: DemoFirm,
        batteries: list[str],
        day: date,
        *,
        reported: date | None = None,
        counterparty: DemoFirm | None = None,
        **body: Any,
    ) -> int:
        """Report one event that happened on ``day`` (reported the next day unless said);
        returns its id, or 0 when the platform refused it (kept in ``refused``)."""
        data: dict[str, Any] = {
            "type": kind,
            "batteries": batteries,
            "actor": actor.credit_code,
            "occurred_at": at(day),
            "reported_at": at(reported or day + timedelta(days=1), 11),
            "body": body,
        }
        if counterparty is not None:
            data["counterparty"] = counterparty.credit_code
        try:
            result = report_events(
                self.store, [SourceItem(data)], trust_reported_at=True, sinks=self.sinks
            )
        except BattraceError as exc:
            self.refused.append(exc)
            return 0
        assert result.first_id is not None
        return result.first_id

    def pack(self, n: int, day: date, spec: dict[str, Any] | None = None) -> str:
        """Produce pack ``n`` on ``day`` and deliver it to the vehicle maker."""
        maker, vm = self.f["battery_maker"], self.f["vehicle_maker"]
        pack = code(n=n)
        self.report("produced", maker, [pack], day, **(spec or LFP_PACK))
        self.report("shipped", maker, [pack], day + timedelta(days=1), counterparty=vm)
        self.report("received", vm, [pack], day + timedelta(days=2), counterparty=maker)
        return pack

    def install(self, n: int, day: date, reported: date) -> tuple[str, int]:
        """Pack ``n`` (made ten days before) installed on ``day``, its conformity certificate
        issued the same day, reported on ``reported`` (a vehicle maker has 15 working days);
        returns the pack and the installation's event id."""
        pack = self.pack(n, day - timedelta(days=10))
        event = self.report(
            "installed",
            self.f["vehicle_maker"],
            [pack],
            day,
            reported=reported,
            vin=vin(n),
            certificate_date=day.isoformat(),
        )
        return pack, event

    def in_use(self, n: int, day: date, *, car: int | None = None) -> tuple[str, str]:
        """Pack ``n`` made, installed in vehicle ``car`` (default n) and sold from ``day``."""
        pack, v = self.pack(n, day), vin(car or n)
        vm = self.f["vehicle_maker"]
        self.report(
            "installed",
            vm,
            [pack],
            day + timedelta(days=3),
            vin=v,
            certificate_date=(day + timedelta(days=3)).isoformat(),
        )
        self.report(
            "vehicle_sold", vm, [pack], day + timedelta(days=4), vin=v, buyer_region="310000"
        )
        return pack, v

    def retired(self, n: int, day: date) -> tuple[str, int]:
        """Pack ``n`` in a vehicle scrapped on ``day`` and removed by the dismantler the same
        day; returns the pack and the removal event id."""
        pack, v = self.in_use(n, day - timedelta(days=400))
        d = self.f["dismantler"]
        self.report("vehicle_scrapped", d, [pack], day, vin=v)
        return pack, self.report("removed", d, [pack], day, vin=v)

    def collected(self, n: int, day: date) -> str:
        """Pack ``n`` retired on ``day`` and collected by the outlet two days later."""
        pack, _ = self.retired(n, day)
        d, o = self.f["dismantler"], self.f["collection_outlet"]
        self.report("shipped", d, [pack], day + timedelta(days=1), counterparty=o)
        self.report("collected", o, [pack], day + timedelta(days=2), counterparty=d)
        return pack

    def at_recycler(self, n: int, day: date, recycler: DemoFirm | None = None) -> str:
        """Pack ``n`` collected around ``day`` and received by ``recycler`` on day + 10."""
        pack = self.collected(n, day)
        o, r = self.f["collection_outlet"], recycler or self.f["recycler"]
        self.report("shipped", o, [pack], day + timedelta(days=9), counterparty=r)
        self.report("received", r, [pack], day + timedelta(days=10), counterparty=o)
        return pack

    def findings(
        self,
        rules: list[str],
        as_of: date,
        settings: RuleSettings | None = None,
    ) -> list[Finding]:
        engine = store_engine(self.store)
        try:
            return evaluate(engine, rules=rules, as_of=as_of, settings=settings)
        finally:
            engine.close()
