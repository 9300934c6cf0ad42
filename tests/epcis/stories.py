"""Event stories for the EPCIS tests: every battrace event type, in a valid order."""

from __future__ import annotations

import itertools
from typing import Any

from battrace.services.demo import DemoFirm
from tests.builders import LFP_MODULE, LFP_PACK, code, vin

MODULE = code(level="module", n=1)
PACK = code(n=1)
SPARE = code(n=2)
SWAP_SPARE = code(n=3)
VIN = vin(1)


def _at(n: int) -> str:
    return f"2024-04-{n:02d}T09:00:00+08:00"


def every_type_story(firms: dict[str, DemoFirm]) -> list[dict[str, Any]]:
    """A valid lifecycle using every event type, for a fresh store (event ids 1, 2, 3...).

    Full date-times, places and refs everywhere, so every envelope field is exercised; the
    last event, a correction, corrects event 9 (the installation).
    """
    maker = firms["battery_maker"]
    vm = firms["vehicle_maker"]
    repairer = firms["repairer"]
    swapper = firms["swap_operator"]
    recycler = firms["recycler"]
    dismantler = firms["dismantler"]
    outlet = firms["collection_outlet"]
    echelon = firms["echelon_firm"]
    second_life = code("E7L", 1, second_life=True)

    numbers = itertools.count(1)

    def ev(
        kind: str,
        actor: DemoFirm,
        batteries: list[str],
        counterparty: DemoFirm | None = None,
        **body: Any,
    ) -> dict[str, Any]:
        n = next(numbers)
        data: dict[str, Any] = {
            "type": kind,
            "batteries": batteries,
            "actor": actor.credit_code,
            "occurred_at": _at(n),
            "place": actor.division,
            "ref": f"story-{n}",
            "body": body,
        }
        if counterparty is not None:
            data["counterparty"] = counterparty.credit_code
        return data

    return [
        ev("produced", maker, [MODULE], **LFP_MODULE),
        ev("produced", maker, [PACK], **LFP_PACK),
        ev("assembled", maker, [PACK], children=[MODULE]),
        ev("produced", maker, [SPARE, SWAP_SPARE], **LFP_PACK),
        ev("shipped", maker, [PACK, SPARE, SWAP_SPARE], counterparty=vm),
        ev("received", vm, [PACK, SPARE, SWAP_SPARE], counterparty=maker),
        ev("shipped", vm, [SWAP_SPARE], counterparty=swapper),
        ev("received", swapper, [SWAP_SPARE]),  # the sender is not named
        ev("installed", vm, [PACK], vin=VIN, certificate_date="2024-04-07"),  # event 9
        ev("vehicle_sold", vm, [PACK], vin=VIN, buyer_region="310115"),
        ev("repaired", repairer, [PACK], vin=VIN, description="BMS firmware"),
        ev("replaced", vm, [PACK], vin=VIN, new=SPARE),
        ev("swapped", swapper, [SPARE], vin=VIN, new=SWAP_SPARE),
        ev("removed", repairer, [SWAP_SPARE], vin=VIN, reason="capacity fade"),
        ev("shipped", vm, [PACK], counterparty=recycler),
        ev("received", recycler, [PACK], counterparty=vm),
        ev("tested", recycler, [PACK], soh_percent="61.5", grade="C"),
        ev("dismantled", recycler, [PACK], parts=[MODULE]),
        ev("disposed", recycler, [MODULE], method="incineration", mass_kg="36"),
        ev(
            "recycled",
            recycler,
            [PACK],
            input_mass_kg="364",
            outputs={"li": "3.9", "cu": "20.25", "al": "66"},
        ),
        ev("vehicle_scrapped", dismantler, [], vin=vin(2), certificate_no="BF-1"),
        ev("shipped", repairer, [SWAP_SPARE], counterparty=outlet),
        ev("collected", outlet, [SWAP_SPARE], counterparty=repairer, source="repair shop"),
        ev("shipped", outlet, [SWAP_SPARE], counterparty=echelon),
        ev("received", echelon, [SWAP_SPARE], counterparty=outlet),
        ev(
            "repurposed",
            echelon,
            [SWAP_SPARE],
            product=second_life,
            spec=LFP_PACK,
            application="energy storage",
        ),
        ev(
            "correction",
            vm,
            [PACK],
            corrects=9,
            reason="wrong district",
            changes={"place": "310115"},
        ),
    ]
