"""One vehicle's life and the packs that pass through it, as planned events.

produced -> shipped -> received -> installed -> vehicle_sold, then repairs and (for swap-model
cars) pack swaps while in use, and at the end of the first pack's service life (a Weibull
lifetime per chemistry and vehicle type, from the sale) either a pack replacement (the old pack
retires, the vehicle goes on with a spare until it is scrapped) or scrapping with removal of
the pack. Retired packs continue in :mod:`.afterlife`.

A swap-model car's operator buys one spare pack at the first swap; later swaps exchange the two
packs, so the one not in the car at scrapping stays in the operator's stock (the platform has
no event that retires a pack from stock).

Breaches injected here: a produced event reusing an existing code, a second pack bound to the
same VIN, a vehicle scrapped without its battery; the after-life ones in :mod:`.afterlife`.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from battrace.codes import CITIES
from battrace.domain.roles import Role
from battrace.simulate import clock
from battrace.simulate import parameters as params
from battrace.simulate.afterlife import AfterLife, Retired
from battrace.simulate.clock import DAY, YEAR, after
from battrace.simulate.specs import PACK_KINDS, PackKind
from battrace.simulate.story import Run, Story, label
from battrace.simulate.world import SimFirm, WeightedPick

_MAKER, _VEHICLE_MAKER = Role.BATTERY_MAKER.value, Role.VEHICLE_MAKER.value
_IMPORTER, _DEALER = Role.IMPORTER.value, Role.DEALER.value
_REPAIRER, _SWAP = Role.REPAIRER.value, Role.SWAP_OPERATOR.value
_DISMANTLER = Role.DISMANTLER.value
_REPAIRS: Final = (
    "BMS fault",
    "cooling system leak",
    "cell balancing",
    "connector corrosion",
    "insulation fault",
)


class Vehicle:
    """What the life generator knows about the vehicle whose story it is writing."""

    __slots__ = ("assembler", "assembler_role", "kind", "modules", "packs", "province", "vin")

    def __init__(self, kind: PackKind, assembler: SimFirm, assembler_role: str) -> None:
        self.kind = kind
        self.assembler = assembler
        self.assembler_role = assembler_role
        self.vin = ""
        self.province = ""
        self.packs: list[str] = []  # packs in the vehicle now
        self.modules: dict[str, list[str]] = {}  # pack -> its modules (cell structure only)


class VehicleLife:
    """Writes the story of one vehicle at a time (see the module docstring)."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.after_life = AfterLife(run)
        self._last_code: dict[str, str] = {}  # maker's last original pack, for reused_code
        self._sale_province = WeightedPick(
            list(params.SALES_WEIGHTS), list(params.SALES_WEIGHTS.values())
        )
        self._cities = {
            p: sorted(c for c in CITIES if c[:2] == p[:2]) or [p] for p in params.PROVINCES
        }
        self._certificates = 0

    def story(self, made: date) -> Story:
        """The story of the vehicle whose first pack is made on ``made``."""
        run, rng = self.run, self.run.rng
        year = made.year
        chemistry = "LFP" if rng.random() < params.LFP_SHARE[year] else "NCM"
        vehicle_type = "commercial" if rng.random() < params.COMMERCIAL_SHARE[year] else "passenger"
        kind = PACK_KINDS[chemistry, vehicle_type]
        passenger = vehicle_type == "passenger"
        if passenger and rng.random() < params.IMPORT_SHARE:
            vehicle = Vehicle(kind, run.world.importer(rng), _IMPORTER)
        else:
            vehicle = Vehicle(kind, run.world.vehicle_maker(rng), _VEHICLE_MAKER)
        swap = (
            passenger
            and vehicle.assembler_role == _VEHICLE_MAKER
            and year >= params.SWAP_FIRST_YEAR
            and rng.random() < params.SWAP_SHARE
        )
        maker: SimFirm = run.world.battery_maker(rng)
        story = Story()
        t = clock.at_day(made, 480 + int(rng.random() * 600))
        pack, modules = self._produce(story, t, maker, kind, made)
        vehicle.packs.append(pack)
        vehicle.modules[pack] = modules
        double = run.breach("vin_two_packs")
        if double:
            assert maker.manufacturer_code is not None
            extra = run.mint.spare(
                maker.manufacturer_code, kind.letter, kind.design.spec_code, made
            )
            story.add(t + 5, "produced", [extra], maker.credit_code, _MAKER, body=kind.spec)
            vehicle.packs.append(extra)
        delivered = self._deliver(story, vehicle, maker, t, swap)
        sold = self._sell(story, vehicle, delivered)
        life = params.LIFETIMES[chemistry, vehicle_type]
        end = sold + int(rng.weibullvariate(life.scale_years, life.shape) * YEAR)
        self._in_use(story, vehicle, maker, sold, end, swap)
        if end > run.horizon:
            return story
        if not (swap or double) and rng.random() < params.REPLACEMENT_SHARE[vehicle_type]:
            self._replace(story, vehicle, maker, end)
            low, high = params.EXTRA_YEARS_AFTER_REPLACEMENT[vehicle_type]
            end += int((low + rng.random() * (high - low)) * YEAR)
            if end > run.horizon:
                return story
        self._scrap(story, vehicle, end)
        return story

    def _produce(
        self, story: Story, t: int, maker: SimFirm, kind: PackKind, made: date
    ) -> tuple[str, list[str]]:
        """Produce the vehicle's first pack, with its modules and cells when asked; returns
        the pack's code and its modules."""
        run = self.run
        mcode = maker.manufacturer_code
        assert mcode is not None
        spec = kind.design.spec_code
        code = run.mint.original(mcode, "pack", kind.letter, spec, made)
        body = kind.spec
        modules: list[str] = []
        if run.config.cells:
            d = kind.design
            cells = [
                run.mint.original(mcode, "cell", kind.letter, spec, made) for _ in range(d.cells)
            ]
            story.add(t - 30, "produced", cells, maker.credit_code, _MAKER, body=kind.cell_spec)
            for m in range(d.modules):
                module = run.mint.original(mcode, "module", kind.letter, spec, made)
                group = cells[m * d.cells_per_module : (m + 1) * d.cells_per_module]
                body = {**kind.module_spec, "children": group}
                story.add(t - 20 + m, "produced", [module], maker.credit_code, _MAKER, body=body)
                modules.append(module)
            body = {**kind.spec, "children": modules}
        story.add(t, "produced", [code], maker.credit_code, _MAKER, body=body)
        previous = self._last_code.get(mcode)
        self._last_code[mcode] = code
        if previous is not None and run.breach("reused_code"):
            copy = story.add(t + 1, "produced", [previous], maker.credit_code, _MAKER)
            copy.body = kind.spec
            copy.refused = True
            label(copy, "reused_code", previous, maker.credit_code, f"code reused on {made}")
        return code, modules

    def _deliver(self, story: Story, vehicle: Vehicle, maker: SimFirm, t: int, swap: bool) -> int:
        """Ship the packs to the vehicle maker (or importer), which installs them; returns
        the time of the (last) installation."""
        run, rng = self.run, self.run.rng
        who, role = vehicle.assembler, vehicle.assembler_role
        packs = list(vehicle.packs)
        t = after(rng, t, 1, 5)
        story.add(t, "shipped", packs, maker.credit_code, _MAKER, counterparty=who.credit_code)
        t = after(rng, t, 1, 4)
        story.add(t, "received", packs, who.credit_code, role, counterparty=maker.credit_code)
        t = after(rng, t, 2, 20)
        d = vehicle.kind.design
        model = ("C" if d.vehicle_type == "commercial" else "P") + vehicle.kind.letter + "A1"
        model += "S" if swap else "N"
        vehicle.vin = run.mint.vin(run.world.wmis[who.credit_code], model, clock.day_of(t).year)
        body = {"vin": vehicle.vin, "certificate_date": clock.day_text(t)}
        story.add(t, "installed", [packs[0]], who.credit_code, role, body=body)
        for extra in packs[1:]:
            t += 30
            installed = story.add(t, "installed", [extra], who.credit_code, role, body=body)
            label(
                installed,
                "vin_two_packs",
                extra,
                who.credit_code,
                f"VIN {vehicle.vin} already bound to {packs[0]}",
            )
        return t

    def _sell(self, story: Story, vehicle: Vehicle, delivered: int) -> int:
        """The vehicle is sold (by a dealer, or directly by its maker); returns the time."""
        run, rng = self.run, self.run.rng
        vehicle.province = self._sale_province(rng)
        t = after(rng, delivered, 3, 45)
        seller, role = vehicle.assembler, vehicle.assembler_role
        if role == _VEHICLE_MAKER and rng.random() >= params.DIRECT_SALES_SHARE:
            seller, role = run.world.local(rng, _DEALER, vehicle.province), _DEALER
        cities = self._cities[vehicle.province]
        region = cities[int(rng.random() * len(cities))]
        story.add(
            t,
            "vehicle_sold",
            list(vehicle.packs),
            seller.credit_code,
            role,
            body={"vin": vehicle.vin, "buyer_region": region},
        )
        return t

    def _in_use(
        self, story: Story, vehicle: Vehicle, maker: SimFirm, sold: int, end: int, swap: bool
    ) -> None:
        """Repairs, and swaps for a swap-model car, from the sale until ``end``."""
        run, rng = self.run, self.run.rng
        stop = min(end, run.horizon)
        repairs = params.REPAIRS_PER_YEAR[vehicle.kind.design.vehicle_type]
        next_repair = sold + int(rng.expovariate(repairs) * YEAR)
        next_swap = sold + int(rng.expovariate(params.SWAPS_PER_YEAR) * YEAR) if swap else stop
        operator: SimFirm | None = None
        spare = ""
        while min(next_repair, next_swap) < stop:
            if next_repair <= next_swap:
                repairer = run.world.local(rng, _REPAIRER, vehicle.province)
                description = _REPAIRS[int(rng.random() * len(_REPAIRS))]
                story.add(
                    next_repair,
                    "repaired",
                    [vehicle.packs[0]],
                    repairer.credit_code,
                    _REPAIRER,
                    body={"vin": vehicle.vin, "description": description},
                )
                next_repair += int(rng.expovariate(repairs) * YEAR) + DAY
                continue
            if operator is None:
                operator = run.world.swap_operator(rng, vehicle.province)
                spare = self._spare(story, vehicle, maker, operator, _SWAP, next_swap)
            old = vehicle.packs[0]
            story.add(
                next_swap,
                "swapped",
                [old],
                operator.credit_code,
                _SWAP,
                body={"vin": vehicle.vin, "new": spare},
            )
            vehicle.packs[0], spare = spare, old
            next_swap += int(rng.expovariate(params.SWAPS_PER_YEAR) * YEAR) + DAY

    def _spare(
        self, story: Story, vehicle: Vehicle, maker: SimFirm, to: SimFirm, role: str, due: int
    ) -> str:
        """A spare pack made and delivered to ``to`` before ``due``; returns its code."""
        run, rng = self.run, self.run.rng
        kind = vehicle.kind
        t = due - 30 * DAY
        assert maker.manufacturer_code is not None
        code = run.mint.spare(
            maker.manufacturer_code, kind.letter, kind.design.spec_code, clock.day_of(t)
        )
        story.add(t, "produced", [code], maker.credit_code, _MAKER, body=kind.spec)
        t = after(rng, t, 1, 5)
        story.add(t, "shipped", [code], maker.credit_code, _MAKER, counterparty=to.credit_code)
        t = after(rng, t, 1, 5)
        story.add(t, "received", [code], to.credit_code, role, counterparty=maker.credit_code)
        return code

    def _replace(self, story: Story, vehicle: Vehicle, maker: SimFirm, t: int) -> None:
        """The first pack fails: a repairer (or the vehicle maker) puts in a spare."""
        run, rng = self.run, self.run.rng
        if vehicle.assembler_role == _VEHICLE_MAKER and rng.random() < 0.2:
            fitter, role = vehicle.assembler, _VEHICLE_MAKER
        else:
            fitter, role = run.world.local(rng, _REPAIRER, vehicle.province), _REPAIRER
        new = self._spare(story, vehicle, maker, fitter, role, t)
        old = vehicle.packs[0]
        event = story.add(
            t, "replaced", [old], fitter.credit_code, role, body={"vin": vehicle.vin, "new": new}
        )
        vehicle.packs[0] = new
        modules = vehicle.modules.pop(old, [])
        collector = vehicle.assembler if vehicle.assembler_role == _VEHICLE_MAKER else None
        retired = Retired(
            old, vehicle.kind, modules, fitter, role, event, vehicle.province, collector
        )
        self.after_life.follow(story, retired)

    def _scrap(self, story: Story, vehicle: Vehicle, t: int) -> None:
        """The vehicle is scrapped; the dismantler removes its packs (or reports none)."""
        run, rng = self.run, self.run.rng
        dismantler = run.world.local(rng, _DISMANTLER, vehicle.province)
        self._certificates += 1
        body = {"vin": vehicle.vin, "certificate_no": f"SIM-BF-{self._certificates:09d}"}
        if run.breach("scrapped_without_battery", t):
            event = story.add(t, "vehicle_scrapped", [], dismantler.credit_code, _DISMANTLER)
            event.body = body
            for pack in vehicle.packs:
                label(
                    event,
                    "scrapped_without_battery",
                    pack,
                    dismantler.credit_code,
                    f"vehicle {vehicle.vin} scrapped without its pack",
                )
            return
        packs = list(vehicle.packs)
        story.add(t, "vehicle_scrapped", packs, dismantler.credit_code, _DISMANTLER, body=body)
        t = after(rng, t, 1, 10)
        removed = story.add(
            t,
            "removed",
            packs,
            dismantler.credit_code,
            _DISMANTLER,
            body={"vin": vehicle.vin, "reason": "vehicle scrapped"},
        )
        collector = vehicle.assembler if vehicle.assembler_role == _VEHICLE_MAKER else None
        for pack in packs:
            modules = vehicle.modules.get(pack, [])
            retired = Retired(
                pack,
                vehicle.kind,
                modules,
                dismantler,
                _DISMANTLER,
                removed,
                vehicle.province,
                collector,
            )
            self.after_life.follow(story, retired)
