"""The state machine and custody rules, pure: each rule fires, and does not fire when obeyed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from battrace.domain.entities import BatteryState, Enterprise, State
from battrace.domain.events import parse_event
from battrace.domain.lifecycle import apply_event
from battrace.domain.roles import Role
from battrace.errors import ConflictError, NotFoundError, RuleViolation
from battrace.services.demo import DemoFirm, demo_firms
from tests.builders import LFP_CELL, LFP_MODULE, LFP_PACK, code, event, produced, vin


class World:
    """An in-memory context: enterprises from the demo, batteries folded from applied events."""

    def __init__(self) -> None:
        self.firms: dict[str, DemoFirm] = {}
        for firm in demo_firms():
            self.firms.setdefault(firm.roles[0], firm)
        self._enterprises = {
            f.credit_code: Enterprise(
                id=f.credit_code,
                name=f.name,
                roles=frozenset(Role(r) for r in f.roles),
                division=f.division,
                manufacturer_code=f.manufacturer_code,
                whitelisted=f.whitelisted,
                registered_at=datetime(2020, 1, 1, tzinfo=UTC),
            )
            for f in demo_firms()
        }
        self.batteries: dict[str, BatteryState] = {}
        self.next_id = 1

    def battery(self, c: str) -> BatteryState | None:
        return self.batteries.get(c)

    def enterprise(self, enterprise_id: str) -> Enterprise | None:
        return self._enterprises.get(enterprise_id)

    def apply(self, data: dict[str, Any]) -> list[BatteryState]:
        changed = apply_event(self, parse_event(data), self.next_id)
        self.next_id += 1
        for b in changed:
            self.batteries[b.code] = b
        return changed

    def f(self, role: str) -> DemoFirm:
        return self.firms[role]

    def state(self, c: str) -> BatteryState:
        return self.batteries[c]


@pytest.fixture
def w() -> World:
    return World()


PACK = code()
VIN = vin()


def _to_vehicle_maker(w: World, pack: str = PACK) -> None:
    maker, vm = w.f("battery_maker"), w.f("vehicle_maker")
    w.apply(produced(maker, [pack]))
    w.apply(event("shipped", maker, [pack], counterparty=vm))
    w.apply(event("received", vm, [pack], counterparty=maker))


def _in_use(w: World, pack: str = PACK, v: str = VIN) -> None:
    _to_vehicle_maker(w, pack)
    vm = w.f("vehicle_maker")
    w.apply(event("installed", vm, [pack], vin=v, certificate_date="2024-04-01"))
    w.apply(event("vehicle_sold", vm, [pack], vin=v, buyer_region="310000"))


def _retired_at_dismantler(w: World) -> None:
    _in_use(w)
    d = w.f("dismantler")
    w.apply(event("vehicle_scrapped", d, [PACK], vin=VIN))
    w.apply(event("removed", d, [PACK], vin=VIN))


def test_full_life_to_recycling(w: World) -> None:
    _retired_at_dismantler(w)
    d, o, r = w.f("dismantler"), w.f("collection_outlet"), w.f("recycler")
    assert w.state(PACK).state is State.RETIRED
    assert w.state(PACK).holder == d.credit_code
    w.apply(event("shipped", d, [PACK], counterparty=o))
    w.apply(event("collected", o, [PACK], counterparty=d))
    assert w.state(PACK).state is State.COLLECTED
    assert w.state(PACK).holder == o.credit_code
    w.apply(event("shipped", o, [PACK], counterparty=r))
    w.apply(event("received", r, [PACK]))
    w.apply(event("tested", r, [PACK], soh_percent="61.5"))
    assert w.state(PACK).soh_percent == "61.5"
    w.apply(event("recycled", r, [PACK], input_mass_kg="400", outputs={"li": "3.8"}))
    assert w.state(PACK).state is State.RECYCLED


def test_install_binds_vin_and_sale_hands_to_owner(w: World) -> None:
    _in_use(w)
    b = w.state(PACK)
    assert (b.state, b.vin, b.holder) == (State.IN_USE, VIN, None)


def test_code_registered_once(w: World) -> None:
    w.apply(produced(w.f("battery_maker"), [PACK]))
    with pytest.raises(ConflictError, match="registered once"):
        w.apply(produced(w.f("battery_maker"), [PACK]))


def test_manufacturer_field_must_match_maker(w: World) -> None:
    other = code("S2C")
    with pytest.raises(RuleViolation, match="manufacturer_matches"):
        w.apply(produced(w.f("battery_maker"), [other]))
    # the maker that filed S2C may register it
    shenzhen = next(f for f in demo_firms() if f.manufacturer_code == "S2C")
    assert w.apply(produced(shenzhen, [other]))[0].maker == shenzhen.credit_code


def test_chemistry_must_match_type_letter(w: World) -> None:
    ncm_code = code(letter="E")
    with pytest.raises(RuleViolation, match="chemistry_matches_code"):
        w.apply(produced(w.f("battery_maker"), [ncm_code]))  # LFP spec on an E code
    ncm = {**LFP_PACK, "chemistry": "NCM"}
    assert w.apply(produced(w.f("battery_maker"), [ncm_code], ncm))


def test_role_may_report(w: World) -> None:
    with pytest.raises(RuleViolation, match="role_may_report"):
        w.apply(produced(w.f("recycler"), [PACK]))


def test_only_holder_may_ship(w: World) -> None:
    maker, vm = w.f("battery_maker"), w.f("vehicle_maker")
    w.apply(produced(maker, [PACK]))
    with pytest.raises(RuleViolation, match="holder_only"):
        w.apply(event("shipped", vm, [PACK], counterparty=w.f("recycler")))
    assert w.apply(event("shipped", maker, [PACK], counterparty=vm))[0].pending_to == vm.credit_code


def test_receipt_needs_shipment_to_receiver(w: World) -> None:
    maker, vm, dealer = w.f("battery_maker"), w.f("vehicle_maker"), w.f("dealer")
    w.apply(produced(maker, [PACK]))
    with pytest.raises(RuleViolation, match="receipt_needs_shipment"):
        w.apply(event("received", vm, [PACK]))
    w.apply(event("shipped", maker, [PACK], counterparty=vm))
    with pytest.raises(RuleViolation, match="receipt_needs_shipment"):
        w.apply(event("received", dealer, [PACK]))
    with pytest.raises(RuleViolation, match="receipt_from_sender"):
        w.apply(event("received", vm, [PACK], counterparty=dealer))
    assert w.apply(event("received", vm, [PACK]))[0].holder == vm.credit_code


def test_in_transit_blocks_other_events(w: World) -> None:
    maker, vm = w.f("battery_maker"), w.f("vehicle_maker")
    w.apply(produced(maker, [PACK]))
    w.apply(event("shipped", maker, [PACK], counterparty=vm))
    with pytest.raises(RuleViolation, match="in_transit"):
        w.apply(event("tested", maker, [PACK], soh_percent="100"))


def test_state_order(w: World) -> None:
    _to_vehicle_maker(w)
    with pytest.raises(RuleViolation, match="state_order") as info:
        w.apply(event("vehicle_sold", w.f("vehicle_maker"), [PACK], buyer_region="310000"))
    assert PACK in str(info.value)
    assert "in_stock" in str(info.value)


def test_nothing_after_recycling(w: World) -> None:
    test_full_life_to_recycling(w)
    with pytest.raises(RuleViolation, match="after_end_of_life"):
        w.apply(event("tested", w.f("recycler"), [PACK], soh_percent="10"))


def test_unknown_battery_and_enterprise(w: World) -> None:
    with pytest.raises(NotFoundError, match="not registered"):
        w.apply(event("tested", w.f("recycler"), [PACK], soh_percent="10"))
    data = {**produced(w.f("battery_maker"), [PACK]), "counterparty": _other_valid_credit_code()}
    with pytest.raises(NotFoundError, match="counterparty"):
        w.apply(data)


def _other_valid_credit_code() -> str:
    from battrace.codes import generate_credit_code

    return generate_credit_code("650100", 999)


def test_vin_must_match(w: World) -> None:
    _in_use(w)
    with pytest.raises(RuleViolation, match="vin_matches"):
        w.apply(event("vehicle_scrapped", w.f("dismantler"), [PACK], vin=vin(2)))


def test_only_packs_are_installed(w: World) -> None:
    maker, vm = w.f("battery_maker"), w.f("vehicle_maker")
    cell = code(level="cell")
    w.apply(produced(maker, [cell], LFP_CELL))
    w.apply(event("shipped", maker, [cell], counterparty=vm))
    w.apply(event("received", vm, [cell]))
    with pytest.raises(RuleViolation, match="pack_only"):
        w.apply(event("installed", vm, [cell], vin=VIN, certificate_date="2024-04-01"))


def test_cells_modules_pack_links(w: World) -> None:
    maker = w.f("battery_maker")
    cells = [code(level="cell", n=i) for i in range(1, 4)]
    module = code(level="module", n=1)
    w.apply(produced(maker, cells, LFP_CELL))
    w.apply(produced(maker, [module], LFP_MODULE, children=cells))
    assert {w.state(c).parent for c in cells} == {module}
    assert {w.state(c).state for c in cells} == {State.ASSEMBLED}
    w.apply(produced(maker, [PACK], children=[module]))
    assert w.state(module).parent == PACK
    # a pack cannot go into a module, and an assembled unit cannot be assembled again
    other_module = code(level="module", n=2)
    w.apply(produced(maker, [other_module], LFP_MODULE))
    with pytest.raises(RuleViolation, match="child_in_stock"):
        w.apply(event("assembled", maker, [other_module], children=[cells[0]]))
    pack2 = code(n=2)
    w.apply(produced(maker, [pack2]))
    with pytest.raises(RuleViolation, match="level_order"):
        w.apply(event("assembled", maker, [other_module], children=[pack2]))
    w.apply(event("assembled", maker, [pack2], children=[other_module]))
    assert w.state(other_module).parent == pack2


def test_replacement_moves_vin_to_new_pack(w: World) -> None:
    _in_use(w)
    maker, repairer = w.f("battery_maker"), w.f("repairer")
    new = code(n=2)
    w.apply(produced(maker, [new]))
    with pytest.raises(RuleViolation, match="holder_only"):
        w.apply(event("replaced", repairer, [PACK], vin=VIN, new=new))
    w.apply(event("shipped", maker, [new], counterparty=repairer))
    w.apply(event("received", repairer, [new]))
    w.apply(event("replaced", repairer, [PACK], vin=VIN, new=new))
    old_b, new_b = w.state(PACK), w.state(new)
    assert (old_b.state, old_b.vin, old_b.holder) == (State.RETIRED, None, repairer.credit_code)
    assert (new_b.state, new_b.vin, new_b.holder) == (State.IN_USE, VIN, None)


def test_swap_returns_old_pack_to_station_stock(w: World) -> None:
    _in_use(w)
    maker, swapper = w.f("battery_maker"), w.f("swap_operator")
    new = code(n=2)
    w.apply(produced(maker, [new]))
    w.apply(event("shipped", maker, [new], counterparty=swapper))
    w.apply(event("received", swapper, [new]))
    w.apply(event("swapped", swapper, [PACK], vin=VIN, new=new))
    assert w.state(PACK).state is State.IN_STOCK
    assert w.state(PACK).holder == swapper.credit_code
    assert w.state(new).vin == VIN


def test_collection_needs_handover(w: World) -> None:
    _retired_at_dismantler(w)
    outlet = w.f("collection_outlet")
    with pytest.raises(RuleViolation, match="handover_needed"):
        w.apply(event("collected", outlet, [PACK]))


def test_repurposed_product_links_originals(w: World) -> None:
    _retired_at_dismantler(w)
    d, e = w.f("dismantler"), w.f("echelon_firm")
    w.apply(event("shipped", d, [PACK], counterparty=e))
    w.apply(event("collected", e, [PACK]))
    product = code("E7L", 1, second_life=True)
    with pytest.raises(RuleViolation, match="second_life_code"):
        w.apply(event("repurposed", e, [PACK], product=code("E7L", 9), spec=LFP_PACK))
    w.apply(event("repurposed", e, [PACK], product=product, spec=LFP_PACK))
    assert w.state(PACK).state is State.REPURPOSED
    assert w.state(product).predecessors == (PACK,)
    assert w.state(product).second_life


def test_second_life_code_not_produced_directly(w: World) -> None:
    echelon_code = code("N1D", 1, second_life=True)
    with pytest.raises(RuleViolation, match="second_life_via_repurposed"):
        w.apply(produced(w.f("battery_maker"), [echelon_code]))


def test_dismantling_releases_listed_parts(w: World) -> None:
    maker, vm, d, r = (w.f(x) for x in ("battery_maker", "vehicle_maker", "dismantler", "recycler"))
    module = code(level="module")
    w.apply(produced(maker, [module], LFP_MODULE))
    w.apply(produced(maker, [PACK], children=[module]))
    w.apply(event("shipped", maker, [PACK], counterparty=vm))
    w.apply(event("received", vm, [PACK]))
    w.apply(event("installed", vm, [PACK], vin=VIN, certificate_date="2024-04-01"))
    w.apply(event("vehicle_scrapped", d, [PACK], vin=VIN))
    w.apply(event("removed", d, [PACK]))
    w.apply(event("shipped", d, [PACK], counterparty=r))
    w.apply(event("received", r, [PACK]))
    stray = code(level="module", n=5)
    w.apply(produced(maker, [stray], LFP_MODULE))
    with pytest.raises(RuleViolation, match="part_of"):
        w.apply(event("dismantled", r, [PACK], parts=[stray]))
    w.apply(event("dismantled", r, [PACK], parts=[module]))
    assert w.state(module).state is State.RETIRED
    assert w.state(module).holder == r.credit_code
    assert w.state(PACK).state is State.DISMANTLED
