"""A pack's life after it leaves its vehicle: collection, second life or recycling.

A retired pack (held by the dismantler or repairer that took it out) goes to a collection outlet
(most often), to the vehicle maker, or straight to an echelon firm or recycler. Collectors
forward it to a whitelisted firm: an echelon firm when its state of health allows a second life,
a recycler otherwise. The echelon firm tests it and repurposes it as a re-coded second-life pack,
or passes it to a recycler; the recycler recovers its materials at realistic rates (or disposes
of a damaged pack).

Breaches are injected along the way (:mod:`.violations`): a pack never collected, a shipment
never received, a collector that never forwards, a flow to a firm off the whitelist, outputs
above the input or below the recovery minimums, an event after recycling.
"""

from __future__ import annotations

from typing import Final

from battrace.domain.roles import Role
from battrace.simulate import clock
from battrace.simulate import parameters as params
from battrace.simulate.clock import after
from battrace.simulate.specs import PackKind
from battrace.simulate.story import GRACE, PlannedEvent, Run, Story, label
from battrace.simulate.world import SimFirm

_ECHELON, _RECYCLER = Role.ECHELON_FIRM.value, Role.RECYCLER.value
_OUTLET, _VEHICLE_MAKER = Role.COLLECTION_OUTLET.value, Role.VEHICLE_MAKER.value
_LISTING_WINDOW: Final = 30  # days a receiving firm must stay listed after the shipment
_APPLICATIONS: Final = (
    "energy storage",
    "telecom base-station backup",
    "low-speed vehicle",
    "forklift",
)
_ROUTES: Final = tuple(params.ROUTE_SHARES)
_ROUTE_CUMULATIVE: Final = tuple(
    sum(list(params.ROUTE_SHARES.values())[: i + 1]) for i in range(len(params.ROUTE_SHARES))
)


class Retired:
    """A pack just taken out of service, and who holds it."""

    __slots__ = (
        "assembler",
        "code",
        "event",
        "holder",
        "holder_role",
        "kind",
        "modules",
        "province",
    )

    def __init__(
        self,
        code: str,
        kind: PackKind,
        modules: list[str],
        holder: SimFirm,
        holder_role: str,
        event: PlannedEvent,
        province: str,
        assembler: SimFirm | None,
    ) -> None:
        self.code = code
        self.kind = kind
        self.modules = modules
        self.holder = holder
        self.holder_role = holder_role
        self.event = event  # the removal or replacement that retired it
        self.province = province
        self.assembler = assembler  # the vehicle maker, when it may collect


class AfterLife:
    """Walks retired packs through collection and treatment, appending to a story."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def follow(self, story: Story, pack: Retired) -> None:
        """Every event from the pack's retirement to its second life or recycling."""
        run, rng = self.run, self.run.rng
        t = pack.event.t
        if run.breach("retired_not_collected", t):
            label(
                pack.event,
                "retired_not_collected",
                pack.code,
                pack.holder.credit_code,
                f"retired by {pack.holder_role}; never shipped or collected",
            )
            return
        lowest, highest = params.SOH_AT_RETIREMENT
        soh = lowest + int(rng.random() * (highest - lowest + 1))
        if pack.kind.design.chemistry == "LFP":
            soh += 3  # LFP keeps more capacity at the end of its first life
        second_life = (
            soh >= params.ECHELON_MIN_SOH
            and rng.random() < params.ECHELON_SHARE[pack.kind.design.chemistry]
        )
        role = _ECHELON if second_life else _RECYCLER
        route = _ROUTES[_pick_index(_ROUTE_CUMULATIVE, rng.random())]
        lost = run.breach("shipment_not_received", t)
        sent = after(rng, t, 3, 20)
        if route == "direct" and clock.ordinal(sent) < run.first_listing:
            route = "outlet"  # nobody is listed yet: an outlet keeps it until somebody is
        if route == "vehicle_maker" and pack.assembler in (None, pack.holder):
            route = "outlet"
        if route == "direct":
            self._forward(story, pack, pack.holder, pack.holder_role, sent, role, soh, lost)
            return
        collector = (
            run.world.local(rng, _OUTLET, pack.province) if route == "outlet" else pack.assembler
        )
        assert collector is not None
        collector_role = _OUTLET if route == "outlet" else _VEHICLE_MAKER
        story.add(
            sent,
            "shipped",
            [pack.code],
            pack.holder.credit_code,
            pack.holder_role,
            counterparty=collector.credit_code,
        )
        got = after(rng, sent, 1, 5)
        collected = story.add(
            got,
            "collected",
            [pack.code],
            collector.credit_code,
            collector_role,
            counterparty=pack.holder.credit_code,
            body={"source": pack.event.kind.replace("_", " ")},
        )
        if got > run.horizon:
            return
        if collector_role == _OUTLET and rng.random() < 0.5:
            got = after(rng, got, 0, 3)
            story.add(got, "tested", [pack.code], collector.credit_code, _OUTLET, body=_test(soh))
        if run.breach("not_forwarded", got):
            label(
                collected,
                "not_forwarded",
                pack.code,
                collector.credit_code,
                f"collected by {collector_role}; never forwarded to an echelon firm or recycler",
            )
            return
        sent = after(rng, got, 5, 60)
        if clock.ordinal(sent) < run.first_listing:
            sent = clock.at_day(run.first_listing + int(rng.random() * 90), 600)
        self._forward(story, pack, collector, collector_role, sent, role, soh, lost)

    def _forward(
        self,
        story: Story,
        pack: Retired,
        sender: SimFirm,
        sender_role: str,
        sent: int,
        role: str,
        soh: int,
        lost: bool,
    ) -> None:
        """Ship the pack to a treating firm of ``role`` (whitelisted unless a breach says
        otherwise); the firm receives (or, straight from the remover, collects) it."""
        run, rng = self.run, self.run.rng
        if sent > run.horizon:
            return
        day = clock.ordinal(sent)
        firm: SimFirm | None = None
        off_list = run.breach("off_whitelist_flow")
        if off_list:
            firm = run.world.unlisted(rng, role, day, _LISTING_WINDOW)
        listed = firm is None
        if firm is None:
            firm = run.world.listed(rng, role, day, _LISTING_WINDOW, pack.province)
        shipped = story.add(
            sent,
            "shipped",
            [pack.code],
            sender.credit_code,
            sender_role,
            counterparty=firm.credit_code,
        )
        if not listed:
            label(
                shipped,
                "off_whitelist_flow",
                pack.code,
                firm.credit_code,
                f"{role} not on the whitelist on {clock.day_text(sent)}; shipped by"
                f" {sender.credit_code}",
            )
        if lost and sent + GRACE <= run.horizon:
            label(
                shipped,
                "shipment_not_received",
                pack.code,
                firm.credit_code,
                f"shipped by {sender.credit_code} on {clock.day_text(sent)}; never received",
            )
            return
        got = after(rng, sent, 1, 7)
        direct = sender is pack.holder  # straight from the remover: still retired
        story.add(
            got,
            "collected" if direct else "received",
            [pack.code],
            firm.credit_code,
            role,
            counterparty=sender.credit_code,
            body={"source": pack.event.kind.replace("_", " ")} if direct else None,
        )
        if role == _ECHELON:
            self._second_life(story, pack, firm, got, soh)
        else:
            self._recycle(story, pack, firm, got, soh)

    def _second_life(self, story: Story, pack: Retired, firm: SimFirm, t: int, soh: int) -> None:
        run, rng = self.run, self.run.rng
        t = after(rng, t, 1, 10)
        if t > run.horizon:
            return
        story.add(t, "tested", [pack.code], firm.credit_code, _ECHELON, body=_test(soh, pack.kind))
        if rng.random() >= params.ECHELON_PASS_SHARE:
            # not fit after all: recycled in house, or sent to a whitelisted recycler
            if _RECYCLER in firm.roles:
                self._recycle(story, pack, firm, t, soh)
            else:
                sent = after(rng, t, 3, 30)
                self._forward(story, pack, firm, _ECHELON, sent, _RECYCLER, soh, False)
            return
        t = after(rng, t, 5, 40)
        if t > run.horizon:
            return
        assert firm.manufacturer_code is not None
        product = run.mint.second_life(firm.manufacturer_code, pack.kind.letter, clock.day_of(t))
        body = {
            "product": product,
            "spec": pack.kind.second_life_spec(soh),
            "application": _APPLICATIONS[int(rng.random() * len(_APPLICATIONS))],
        }
        story.add(t, "repurposed", [pack.code], firm.credit_code, _ECHELON, body=body)

    def _recycle(self, story: Story, pack: Retired, firm: SimFirm, t: int, soh: int) -> None:
        run, rng = self.run, self.run.rng
        if rng.random() < 0.5:
            t = after(rng, t, 1, 10)
            story.add(t, "tested", [pack.code], firm.credit_code, _RECYCLER, body=_test(soh))
        batteries = [pack.code]
        if pack.modules:
            t = after(rng, t, 2, 20)
            parts = {"parts": list(pack.modules)}
            story.add(t, "dismantled", [pack.code], firm.credit_code, _RECYCLER, body=parts)
            batteries += pack.modules
        t = after(rng, t, 5, 60)
        if t > run.horizon:
            return
        mass = pack.kind.spec["mass_kg"]
        if rng.random() < params.DISPOSAL_SHARE:
            body = {"method": "safe disposal of a damaged pack", "mass_kg": mass}
            end = story.add(t, "disposed", batteries, firm.credit_code, _RECYCLER, body=body)
        else:
            end = story.add(t, "recycled", batteries, firm.credit_code, _RECYCLER)
            end.body = {"input_mass_kg": mass, "outputs": self._outputs(end, pack, firm)}
        if run.breach("event_after_end", t):
            later = after(rng, t, 10, 60)
            again = run.world.listed(rng, _RECYCLER, clock.ordinal(later), 30, pack.province)
            if again.credit_code == firm.credit_code:
                again = run.world.local(rng, _OUTLET, pack.province)
            extra = story.add(
                later,
                "shipped",
                [pack.code],
                firm.credit_code,
                _RECYCLER,
                counterparty=again.credit_code,
            )
            extra.refused = True
            label(
                extra,
                "event_after_end",
                pack.code,
                firm.credit_code,
                f"shipped after it was {end.kind} on {clock.day_text(t)}",
            )

    def _outputs(self, event: PlannedEvent, pack: Retired, firm: SimFirm) -> dict[str, str]:
        """Recovered kg per material: within the compliant ranges, unless a breach is injected
        (one metal below its minimum recovery; one material above what the pack holds)."""
        run, rng = self.run, self.run.rng
        content = pack.kind.composition
        rates = {}
        for material, (low, high) in params.RECOVERY_RANGES.items():
            if material in content:
                rates[material] = low + rng.random() * (high - low)
        low_metal = ""
        if run.breach("low_recovery"):
            metals = [m for m in params.MIN_RECOVERY if m in content]
            low_metal = metals[int(rng.random() * len(metals))]
            minimum = params.MIN_RECOVERY[low_metal]
            rates[low_metal] = minimum - 0.03 - rng.random() * 0.3
            label(
                event,
                "low_recovery",
                pack.code,
                firm.credit_code,
                f"{low_metal} recovered at {rates[low_metal]:.1%}, below {minimum:.0%}",
            )
        if run.breach("mass_balance"):
            choices = [m for m in rates if m != low_metal]
            material = choices[int(rng.random() * len(choices))]
            rates[material] = 1.05 + rng.random() * 0.35
            label(
                event,
                "mass_balance",
                pack.code,
                firm.credit_code,
                f"{material} output {rates[material]:.0%} of the {content[material]} kg it holds",
            )
        return {m: f"{content[m] * r:.3f}" for m, r in rates.items()}


def _pick_index(cumulative: tuple[float, ...], r: float) -> int:
    for i, edge in enumerate(cumulative):
        if r < edge:
            return i
    return len(cumulative) - 1


def _test(soh: int, kind: PackKind | None = None) -> dict[str, str]:
    body = {"soh_percent": str(soh), "grade": "A" if soh >= 80 else "B" if soh >= 70 else "C"}
    if kind is not None:
        body["residual_capacity_ah"] = f"{kind.design.capacity_ah * soh / 100:.1f}"
        body["internal_resistance_mohm"] = f"{kind.design.cells * 0.35 * 100 / soh:.1f}"
    return body
