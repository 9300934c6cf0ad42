"""The simulated enterprises: every role, spread over the 31 provinces, with whitelist history.

:func:`build_world` makes the same world for the same seed and size. Firms get valid unified
social credit codes (organisation numbers from 10,000,000 up, so they never collide with the
demo world's), GB/T 2260 divisions (a city of their province), battery makers and echelon firms
a 3-character GB/T 34014 manufacturer code, vehicle makers a VIN world manufacturer identifier.
Echelon firms and recyclers follow the whitelist batches of :mod:`.parameters`: most are listed
from their batch's date, some are later removed, some are never listed.

The world grows with the number of batteries (dealers, repairers, dismantlers and collection
outlets up to national numbers at 1,000,000 batteries) so that a small run registers few firms.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from battrace.codes import CITIES, generate_credit_code
from battrace.codes import PROVINCES as PROVINCE_TABLE
from battrace.codes.vin import VIN_ALPHABET
from battrace.domain.roles import Role
from battrace.simulate import parameters as params

_FAR_FUTURE: Final = date(9999, 12, 31).toordinal()
_FIRST_SEQ: Final = 10_000_000
_CODE_CHARS: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VIN_CHARS: Final = "".join(sorted(VIN_ALPHABET - set("0123456789")))

# firms per role at full national scale, and the least kept for small runs
_FULL_COUNTS: Final = {
    Role.BATTERY_MAKER: 60,
    Role.VEHICLE_MAKER: 80,
    Role.IMPORTER: 6,
    Role.DEALER: 3000,
    Role.REPAIRER: 2000,
    Role.SWAP_OPERATOR: 12,
    Role.DISMANTLER: 1000,
    Role.COLLECTION_OUTLET: 10500,  # reference: more than 10,000 outlets in 31 provinces
}
_MIN_COUNTS: Final = {
    Role.BATTERY_MAKER: 12,
    Role.VEHICLE_MAKER: 16,
    Role.IMPORTER: 2,
    Role.DEALER: 62,
    Role.REPAIRER: 62,
    Role.SWAP_OPERATOR: 4,
    Role.DISMANTLER: 31,
    Role.COLLECTION_OUTLET: 93,
}
_FULL_SCALE_BATTERIES: Final = 1_000_000
_NAME_WORDS: Final = {
    Role.BATTERY_MAKER: "Sim Battery Co.",
    Role.VEHICLE_MAKER: "Sim Motors",
    Role.IMPORTER: "Sim Auto Import",
    Role.DEALER: "Sim Auto Sales",
    Role.REPAIRER: "Sim Auto Repair",
    Role.SWAP_OPERATOR: "Sim Battery Swap",
    Role.DISMANTLER: "Sim Vehicle Dismantling",
    Role.COLLECTION_OUTLET: "Sim Collection Outlet",
    Role.ECHELON_FIRM: "Sim Second Life",
    Role.RECYCLER: "Sim Recycling",
}


@dataclass(frozen=True, slots=True)
class SimFirm:
    """One simulated enterprise, with its whitelist history as (effective date, listed)."""

    credit_code: str
    name: str
    roles: tuple[str, ...]
    division: str
    manufacturer_code: str | None = None
    whitelist: tuple[tuple[date, bool], ...] = ()
    _listed: tuple[tuple[int, int], ...] = field(default=(), compare=False, repr=False)

    @property
    def province(self) -> str:
        return self.division[:2] + "0000"

    def listed_through(self, first_day: int, last_day: int) -> bool:
        """Whether the firm is on the whitelist every day from ``first_day`` to ``last_day``
        (proleptic ordinals, both included)."""
        return any(start <= first_day and last_day < end for start, end in self._listed)

    def unlisted_through(self, first_day: int, last_day: int) -> bool:
        """Whether the firm is off the whitelist every day of the span."""
        return not any(start <= last_day and first_day < end for start, end in self._listed)

    def to_record(self) -> dict[str, Any]:
        """The firm as one line of the ``.enterprises.ndjson`` file."""
        return {
            "credit_code": self.credit_code,
            "name": self.name,
            "roles": list(self.roles),
            "division": self.division,
            "manufacturer_code": self.manufacturer_code,
            "whitelist": [
                {"date": d.isoformat(), "listed": listed} for d, listed in self.whitelist
            ],
        }

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> SimFirm:
        """Read a firm back from :meth:`to_record` (raises ``KeyError``/``ValueError``)."""
        history = tuple(
            (date.fromisoformat(str(c["date"])), bool(c["listed"])) for c in data["whitelist"]
        )
        return make_firm(
            str(data["credit_code"]),
            str(data["name"]),
            tuple(str(r) for r in data["roles"]),
            str(data["division"]),
            data.get("manufacturer_code"),
            history,
        )


def make_firm(
    credit_code: str,
    name: str,
    roles: tuple[str, ...],
    division: str,
    manufacturer_code: str | None = None,
    whitelist: tuple[tuple[date, bool], ...] = (),
) -> SimFirm:
    """A :class:`SimFirm` with its listed spans worked out from the whitelist history."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for day, listed in sorted(whitelist):
        if listed and start is None:
            start = day.toordinal()
        elif not listed and start is not None:
            spans.append((start, day.toordinal()))
            start = None
    if start is not None:
        spans.append((start, _FAR_FUTURE))
    return SimFirm(credit_code, name, roles, division, manufacturer_code, whitelist, tuple(spans))


class WeightedPick:
    """Draw items by weight with one ``random()`` call and a binary search."""

    __slots__ = ("_cumulative", "_items", "_total")

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self._items = list(items)
        self._cumulative = list(itertools.accumulate(weights))
        self._total = self._cumulative[-1]

    def __call__(self, rng: random.Random) -> Any:
        return self._items[bisect.bisect_right(self._cumulative, rng.random() * self._total)]


def _allocate(count: int, weights: dict[str, float], floor: int) -> dict[str, int]:
    """Split ``count`` firms over provinces: ``floor`` each, the rest by weight (largest
    remainder, ties by province code)."""
    provinces = list(weights)
    base = dict.fromkeys(provinces, floor if count >= floor * len(provinces) else 0)
    rest = count - sum(base.values())
    total = sum(weights.values())
    shares = {p: rest * weights[p] / total for p in provinces}
    for p in provinces:
        base[p] += int(shares[p])
    left = count - sum(base.values())
    by_remainder = sorted(provinces, key=lambda p: (-(shares[p] - int(shares[p])), p))
    for p in by_remainder[:left]:
        base[p] += 1
    return base


def _short_code(prefix: str, n: int) -> str:
    return prefix + _CODE_CHARS[n // 36 % 36] + _CODE_CHARS[n % 36]


class World:
    """The simulated enterprises and the ways the life generator picks among them."""

    def __init__(self, firms: list[SimFirm], wmis: dict[str, str]) -> None:
        self.firms = firms
        self.wmis = wmis  # vehicle maker / importer credit code -> VIN WMI
        self.by_role: dict[str, list[SimFirm]] = {r.value: [] for r in Role}
        self._local: dict[tuple[str, str], list[SimFirm]] = {}
        for firm in firms:
            for role in firm.roles:
                self.by_role[role].append(firm)
                self._local.setdefault((role, firm.province), []).append(firm)
        self.battery_maker = _market(self.by_role[Role.BATTERY_MAKER], 1.1)
        self.vehicle_maker = _market(self.by_role[Role.VEHICLE_MAKER], 1.0)
        self.importer = _market(self.by_role[Role.IMPORTER], 1.0)
        self._swap = _market(self.by_role[Role.SWAP_OPERATOR], 1.0)
        self._epochs = sorted(
            {d.toordinal() for f in firms for d, _ in f.whitelist} | {date.min.toordinal()}
        )
        self._listed: dict[tuple[str, int], list[SimFirm]] = {}
        self._unlisted: dict[tuple[str, int], list[SimFirm]] = {}
        self._listed_near: dict[tuple[str, int, str], list[SimFirm]] = {}
        for role in (Role.ECHELON_FIRM, Role.RECYCLER):
            for i, start in enumerate(self._epochs):
                group = self.by_role[role]
                self._listed[role, i] = [f for f in group if f.listed_through(start, start)]
                self._unlisted[role, i] = [f for f in group if not f.listed_through(start, start)]
                for firm in self._listed[role, i]:
                    self._listed_near.setdefault((role, i, firm.province), []).append(firm)

    def __iter__(self) -> Iterator[SimFirm]:
        return iter(self.firms)

    def local(self, rng: random.Random, role: str, province: str) -> SimFirm:
        """A firm of ``role`` in ``province`` (anywhere when the province has none)."""
        found = self._local.get((role, province)) or self.by_role[role]
        return found[int(rng.random() * len(found))]

    def swap_operator(self, rng: random.Random, province: str) -> SimFirm:
        """A swap operator, preferring one in the province."""
        local = self._local.get((Role.SWAP_OPERATOR, province))
        if local and rng.random() < 0.7:
            return local[int(rng.random() * len(local))]
        firm: SimFirm = self._swap(rng)
        return firm

    def first_listing(self) -> int:
        """The ordinal of the first day any firm is on the whitelist."""
        return self._epochs[1] if len(self._epochs) > 1 else _FAR_FUTURE

    def listed(self, rng: random.Random, role: str, day: int, days: int, near: str) -> SimFirm:
        """A firm of ``role`` on the whitelist from ``day`` for ``days`` days, preferring the
        province ``near``. Raises ``LookupError`` when there is none (before the first batch)."""
        return self._pick(rng, self._listed, role, day, days, near, listed=True)

    def unlisted(self, rng: random.Random, role: str, day: int, days: int) -> SimFirm | None:
        """A firm of ``role`` off the whitelist from ``day`` for ``days`` days, if any."""
        try:
            return self._pick(rng, self._unlisted, role, day, days, "", listed=False)
        except LookupError:
            return None

    def _pick(
        self,
        rng: random.Random,
        table: dict[tuple[str, int], list[SimFirm]],
        role: str,
        day: int,
        days: int,
        near: str,
        *,
        listed: bool,
    ) -> SimFirm:
        epoch = bisect.bisect_right(self._epochs, day) - 1
        group = table[role, epoch]
        last = day + days

        def fits(f: SimFirm) -> bool:
            return f.listed_through(day, last) if listed else f.unlisted_through(day, last)

        local = self._listed_near.get((role, epoch, near)) if listed else None
        if local and rng.random() < 0.6:
            for _ in range(4):
                firm = local[int(rng.random() * len(local))]
                if fits(firm):
                    return firm
        for _ in range(8):
            if not group:
                break
            firm = group[int(rng.random() * len(group))]
            if fits(firm):
                return firm
        every = [f for f in group if fits(f)]
        if not every:
            raise LookupError(f"no {role} {'on' if listed else 'off'} the whitelist then")
        return every[int(rng.random() * len(every))]


def _market(firms: list[SimFirm], exponent: float) -> WeightedPick:
    """Concentrated market shares: the k-th firm weighs 1 / k**exponent (Zipf)."""
    return WeightedPick(firms, [1 / (k + 1) ** exponent for k in range(len(firms))])


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"battrace-simulate/{seed}/world")
        self.firms: list[SimFirm] = []
        self.wmis: dict[str, str] = {}
        self.seq = _FIRST_SEQ
        self.counters: dict[str, int] = {}
        self.cities = {
            p: sorted(c for c in CITIES if c[:2] == p[:2]) or [p] for p in params.PROVINCES
        }

    def add(
        self,
        roles: tuple[str, ...],
        province: str,
        label: str,
        manufacturer_code: str | None = None,
        whitelist: tuple[tuple[date, bool], ...] = (),
    ) -> SimFirm:
        division = self.rng.choice(self.cities[province])
        number = self.counters[label] = self.counters.get(label, 0) + 1
        region = PROVINCE_TABLE[province[:2]].name_en
        firm = make_firm(
            generate_credit_code(division, self.seq),
            f"{region} {label} {number:04d}",
            roles,
            division,
            manufacturer_code,
            whitelist,
        )
        self.seq += 1
        self.firms.append(firm)
        return firm

    def spread(self, role: Role, count: int, weights: dict[str, float], floor: int) -> None:
        if role in (Role.BATTERY_MAKER, Role.VEHICLE_MAKER, Role.IMPORTER, Role.SWAP_OPERATOR):
            # few big firms: each placed by weight, so the largest markets hold the most
            places = WeightedPick(list(weights), list(weights.values()))
            provinces = [places(self.rng) for _ in range(count)]
        else:
            split = _allocate(count, weights, floor)
            provinces = [p for p in params.PROVINCES for _ in range(split[p])]
        for i, province in enumerate(provinces):
            code = _short_code("W", i) if role is Role.BATTERY_MAKER else None
            firm = self.add((role.value,), province, _NAME_WORDS[role], code)
            if role is Role.VEHICLE_MAKER:
                self.wmis[firm.credit_code] = "L" + _VIN_CHARS[i // 23 % 23] + _VIN_CHARS[i % 23]
            elif role is Role.IMPORTER:
                self.wmis[firm.credit_code] = "W" + _VIN_CHARS[i // 23 % 23] + _VIN_CHARS[i % 23]

    def whitelist_firms(self) -> None:
        kinds = (
            ["both"] * params.LISTED_BOTH
            + ["echelon"] * params.LISTED_ECHELON_ONLY
            + ["recycler"] * params.LISTED_RECYCLER_ONLY
        )
        # batch 1 holds firms of both kinds so that every flow has somewhere to go from its date
        first = ["both", "both", "recycler", "recycler", "recycler"]
        rest = list(kinds)
        for kind in first:
            rest.remove(kind)
        self.rng.shuffle(rest)
        ordered = first + rest
        batches = [d for d, n in params.WHITELIST_BATCHES for _ in range(n)]
        delisted: dict[int, date] = {}
        for day, n in params.DELISTED:
            # firms of batches 2 on, listed before the removal date, each removed at most once
            pool = [
                i for i in range(len(first), len(ordered)) if batches[i] < day and i not in delisted
            ]
            for i in self.rng.sample(pool, n):
                delisted[i] = day
        weights = params.BATTERY_PRODUCTION_WEIGHTS
        places = WeightedPick(list(weights), list(weights.values()))
        echelon_codes = 0
        for i, kind in enumerate(ordered):
            history: tuple[tuple[date, bool], ...] = ((batches[i], True),)
            if i in delisted:
                history += ((delisted[i], False),)
            echelon_codes = self._treating_firm(kind, places(self.rng), history, echelon_codes)
        for kind, n in (
            ("echelon", params.UNLISTED_ECHELON),
            ("recycler", params.UNLISTED_RECYCLERS),
        ):
            for _ in range(n):
                echelon_codes = self._treating_firm(kind, places(self.rng), (), echelon_codes)

    def _treating_firm(
        self, kind: str, province: str, history: tuple[tuple[date, bool], ...], codes: int
    ) -> int:
        if kind == "recycler":
            self.add((Role.RECYCLER.value,), province, _NAME_WORDS[Role.RECYCLER], None, history)
            return codes
        roles: tuple[str, ...] = (Role.ECHELON_FIRM.value,)
        label = _NAME_WORDS[Role.ECHELON_FIRM]
        if kind == "both":
            roles += (Role.RECYCLER.value,)
            label = "Sim Second Life & Recycling"
        self.add(roles, province, label, _short_code("Y", codes), history)
        return codes + 1

    def regulators(self) -> None:
        self.add((Role.REGULATOR.value,), "110000", "Sim MIIT Traceability Office")
        for province in params.PROVINCES:
            self.add((Role.REGULATOR.value,), province, "Sim Industry and IT Department")


def world_counts(batteries: int) -> dict[Role, int]:
    """How many firms of each market role a run of ``batteries`` gets."""
    scale = min(1.0, batteries / _FULL_SCALE_BATTERIES)
    return {
        role: max(_MIN_COUNTS[role], round(full * scale)) for role, full in _FULL_COUNTS.items()
    }


def build_world(seed: int, batteries: int) -> World:
    """The enterprises of a run: deterministic for ``seed`` and ``batteries``."""
    builder = _Builder(seed)
    counts = world_counts(batteries)
    weights = {
        Role.BATTERY_MAKER: params.BATTERY_PRODUCTION_WEIGHTS,
        Role.VEHICLE_MAKER: params.VEHICLE_PRODUCTION_WEIGHTS,
    }
    for role, count in counts.items():
        floor = 3 if role is Role.COLLECTION_OUTLET else 1
        builder.spread(role, count, weights.get(role, params.SALES_WEIGHTS), floor)
    builder.whitelist_firms()
    builder.regulators()
    return World(builder.firms, builder.wmis)
