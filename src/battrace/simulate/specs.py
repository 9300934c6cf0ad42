"""Unit specifications (the ``produced`` body) and material contents of the simulated packs.

Built once per pack design from :mod:`.parameters`; the generator shares the resulting dicts
between events (they are never changed after this module builds them). Quantities are decimal
strings, as the platform stores them. A pack's composition books every kilogram: the metals,
foils and anode by content per kWh, the rest (electrolyte, separator, steel, plastics,
electronics) as ``other``, so the composition totals the pack mass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from battrace.simulate import parameters as params

# materials inside the cells (the rest of a pack is housing, busbars, electronics)
_CELL_MATERIALS: Final = frozenset({"li", "ni", "co", "mn", "fe", "p", "graphite", "cu"})
_CELL_MASS_SHARE: Final = 0.72
_MODULE_MASS_SHARE: Final = 0.88


def _kg(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _spec(
    chemistry: str,
    capacity_ah: float,
    voltage_v: float,
    mass_kg: float,
    composition: dict[str, float],
) -> dict[str, Any]:
    return {
        "chemistry": chemistry,
        "rated_capacity_ah": _kg(capacity_ah),
        "nominal_voltage_v": _kg(voltage_v),
        "energy_kwh": _kg(capacity_ah * voltage_v / 1000),
        "mass_kg": _kg(mass_kg),
        "composition": {k: _kg(v) for k, v in composition.items()},
    }


@dataclass(frozen=True, slots=True)
class PackKind:
    """Everything about one pack design the generator needs, precomputed."""

    design: params.PackDesign
    letter: str  # GB/T 34014 battery-type letter
    spec: dict[str, Any]  # the produced body of the pack (no children)
    module_spec: dict[str, Any]
    cell_spec: dict[str, Any]
    composition: dict[str, float]  # kg of each material in the pack
    mass_kg: float

    def second_life_spec(self, soh_percent: int) -> dict[str, Any]:
        """The spec of the second-life product made from this pack at ``soh_percent``: the
        same materials and voltage, the capacity it has left, the mass less a little."""
        d = self.design
        mass = round(self.mass_kg * 0.97, 3)
        materials = {k: v * 0.97 for k, v in self.composition.items() if k != "other"}
        return _spec(
            d.chemistry,
            d.capacity_ah * soh_percent / 100,
            d.voltage_v,
            mass,
            booked(materials, mass),
        )


def booked(materials: dict[str, float], mass_kg: float) -> dict[str, float]:
    """``materials`` rounded to the gram, plus ``other`` so that they total ``mass_kg``."""
    content = {m: round(v, 3) for m, v in materials.items()}
    content["other"] = round(mass_kg - sum(content.values()), 3)
    return content


def _pack_kind(design: params.PackDesign) -> PackKind:
    energy = design.energy_kwh
    content = booked(
        {m: energy * kg for m, kg in params.KG_PER_KWH[design.chemistry].items()}, design.mass_kg
    )
    cell_v = params.CELL_VOLTAGE[design.chemistry]
    active = {m: v for m, v in content.items() if m in _CELL_MATERIALS}
    cell = _spec(
        design.chemistry,
        design.capacity_ah,
        cell_v,
        design.mass_kg * _CELL_MASS_SHARE / design.cells,
        {m: v / design.cells for m, v in active.items()},
    )
    module = _spec(
        design.chemistry,
        design.capacity_ah,
        cell_v * design.cells_per_module,
        design.mass_kg * _MODULE_MASS_SHARE / design.modules,
        {m: v / design.modules for m, v in active.items()},
    )
    pack = _spec(design.chemistry, design.capacity_ah, design.voltage_v, design.mass_kg, content)
    return PackKind(
        design, params.TYPE_LETTER[design.chemistry], pack, module, cell, content, design.mass_kg
    )


PACK_KINDS: Final[dict[tuple[str, str], PackKind]] = {
    key: _pack_kind(design) for key, design in params.PACK_DESIGNS.items()
}
