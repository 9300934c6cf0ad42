"""The national figures the simulator draws from: sales, chemistry mix, provinces, packs, rates.

Sources. Figures marked *reference* come from the project's fact sheet on Chinese rules
(``shared/reference/china-rules.md``: section "Scale" for sales and the 2024 LFP share, the
2018 *Interim Provisions on Traceability Management* for reporting deadlines, the 2024
*industry standard conditions* for recovery rates, the echelon share and the whitelist). Every
other figure is marked *assumed*: a rounded estimate chosen to be plausible, not a citation. The
simulator needs relative sizes and shapes, not exact statistics; change them here, in one place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Final

from battrace.supervision.config import CHINA_MIN_RECOVERY, DEADLINES

# --- sales and chemistry ------------------------------------------------------------------

#: NEV sales by year, million vehicles, CAAM, exports included. *Reference* ("Scale").
NEV_SALES_MILLIONS: Final[dict[int, float]] = {
    2015: 0.331,
    2016: 0.507,
    2017: 0.777,
    2018: 1.256,
    2019: 1.206,
    2020: 1.367,
    2021: 3.521,
    2022: 6.887,
    2023: 9.495,
    2024: 12.866,
    2025: 16.49,
}
FIRST_YEAR: Final = min(NEV_SALES_MILLIONS)
LAST_YEAR: Final = max(NEV_SALES_MILLIONS)

#: LFP share of installed traction-battery capacity by year. 2024 (74.6 %) is *reference*
#: ("Scale": 548.4 GWh installed, LFP 74.6 %); the other years are *assumed* from the trend
#: usually reported (LFP buses early, NCM cars 2017-2020, LFP's return from 2021).
LFP_SHARE: Final[dict[int, float]] = {
    2015: 0.70,
    2016: 0.72,
    2017: 0.49,
    2018: 0.39,
    2019: 0.33,
    2020: 0.39,
    2021: 0.52,
    2022: 0.62,
    2023: 0.67,
    2024: 0.746,
    2025: 0.80,
}

#: Share of commercial vehicles (buses, logistics) in NEV sales by year. *Assumed*: buses led
#: the early market, passenger cars dominate since 2020.
COMMERCIAL_SHARE: Final[dict[int, float]] = {
    2015: 0.30,
    2016: 0.28,
    2017: 0.24,
    2018: 0.16,
    2019: 0.12,
    2020: 0.09,
    2021: 0.06,
    2022: 0.05,
    2023: 0.05,
    2024: 0.05,
    2025: 0.05,
}

#: Relative sales by calendar month (January first). *Assumed*: a slow start around the
#: Spring Festival and a year-end peak.
MONTH_WEIGHTS: Final = (0.6, 0.55, 0.8, 0.8, 0.85, 0.95, 0.9, 0.95, 1.05, 1.1, 1.25, 1.4)

# --- provinces (GB/T 2260 codes of the 31 mainland provinces) -------------------------------

#: The 31 province-level divisions of the mainland, GB/T 2260 two-digit prefixes.
PROVINCE_PREFIXES: Final = (
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65",
)  # fmt: skip
PROVINCES: Final = tuple(p + "0000" for p in PROVINCE_PREFIXES)

# Relative weights, in PROVINCES order. *Assumed*: rounded from public 2023-2024 provincial
# production and registration figures as commonly reported; only their relative size matters.
_VEHICLE_PRODUCTION = (
    2.0, 1.5, 1.5, 0.8, 0.2, 1.5, 1.5, 0.2, 9.0, 5.0, 8.0, 10.0, 1.5, 1.5, 4.0,
    4.0, 3.0, 4.0, 20.0, 4.0, 0.3, 7.0, 2.0, 0.3, 0.4, 0.01, 10.0, 0.1, 0.05, 0.05,
    0.2,
)  # fmt: skip
_BATTERY_PRODUCTION = (
    1.0, 2.0, 1.0, 0.3, 0.3, 1.0, 1.0, 0.2, 2.0, 15.0, 6.0, 8.0, 15.0, 5.0, 3.0,
    3.0, 5.0, 4.0, 15.0, 1.0, 0.1, 3.0, 8.0, 2.0, 1.0, 0.01, 3.0, 0.2, 2.0, 0.2,
    0.2,
)  # fmt: skip
_SALES = (
    3.5, 2.0, 4.0, 1.8, 0.8, 1.5, 0.8, 0.7, 5.0, 8.0, 10.0, 3.5, 3.0, 2.0, 7.0,
    7.0, 3.5, 3.0, 12.0, 3.0, 1.5, 2.5, 5.0, 1.5, 2.0, 0.1, 2.5, 0.6, 0.2, 0.3,
    0.8,
)  # fmt: skip
VEHICLE_PRODUCTION_WEIGHTS: Final = dict(zip(PROVINCES, _VEHICLE_PRODUCTION, strict=True))
BATTERY_PRODUCTION_WEIGHTS: Final = dict(zip(PROVINCES, _BATTERY_PRODUCTION, strict=True))
SALES_WEIGHTS: Final = dict(zip(PROVINCES, _SALES, strict=True))

# --- packs --------------------------------------------------------------------------------

CHEMISTRIES: Final = ("LFP", "NCM")
#: GB/T 34014 position 5: B = LFP, E = ternary (NCM/NCA). *Reference* (code table).
TYPE_LETTER: Final = {"LFP": "B", "NCM": "E"}
VEHICLE_TYPES: Final = ("passenger", "commercial")

#: Nominal cell voltage, V. *Assumed* (typical datasheet values).
CELL_VOLTAGE: Final = {"LFP": 3.2, "NCM": 3.65}

#: Material content of a pack, kg per kWh of rated energy. *Assumed*: cathode metals from the
#: cathode's formula (LiFePO4; NCM 622) at typical loadings; copper foil and busbars, aluminium
#: foil and housing, graphite anode. The rest of the pack mass is booked as ``other``.
KG_PER_KWH: Final[dict[str, dict[str, float]]] = {
    "LFP": {"li": 0.10, "fe": 0.76, "p": 0.42, "cu": 0.55, "al": 0.90, "graphite": 0.95},
    "NCM": {
        "li": 0.13,
        "ni": 0.55,
        "co": 0.18,
        "mn": 0.17,
        "cu": 0.60,
        "al": 1.00,
        "graphite": 1.00,
    },
}


@dataclass(frozen=True, slots=True)
class PackDesign:
    """One pack model: cells in series (so voltage), capacity, mass and module layout.

    Capacity is that of one cell string; energy is voltage x capacity. With the optional
    cell -> module -> pack structure a pack holds ``modules`` modules of ``cells_per_module``
    cells each, all in series.
    """

    chemistry: str
    vehicle_type: str
    modules: int
    cells_per_module: int
    capacity_ah: int
    mass_kg: int
    spec_code: str  # GB/T 34014 positions 6-7, the filed specification

    @property
    def cells(self) -> int:
        return self.modules * self.cells_per_module

    @property
    def voltage_v(self) -> float:
        return self.cells * CELL_VOLTAGE[self.chemistry]

    @property
    def energy_kwh(self) -> float:
        return self.voltage_v * self.capacity_ah / 1000


#: Pack models by (chemistry, vehicle type). *Assumed*: a 58 kWh LFP car pack (about
#: 145 Wh/kg), a 70 kWh NCM car pack (about 165 Wh/kg) and bus/logistics packs of 170-230 kWh.
PACK_DESIGNS: Final[dict[tuple[str, str], PackDesign]] = {
    ("LFP", "passenger"): PackDesign("LFP", "passenger", 8, 15, 150, 400, "B1"),
    ("NCM", "passenger"): PackDesign("NCM", "passenger", 8, 12, 200, 425, "E1"),
    ("LFP", "commercial"): PackDesign("LFP", "commercial", 12, 15, 400, 1700, "B7"),
    ("NCM", "commercial"): PackDesign("NCM", "commercial", 12, 14, 280, 1150, "E7"),
}

# --- lifetimes ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lifetime:
    """A Weibull distribution of the first pack's service life, in years from the sale."""

    scale_years: float
    shape: float

    @property
    def mean_years(self) -> float:
        return self.scale_years * math.gamma(1 + 1 / self.shape)


#: Service life until the vehicle is scrapped or its first pack replaced. *Assumed*: wear-out
#: shapes (k 2.5-3); cars about 9-10 years, buses and logistics vehicles (heavier use) 6-7
#: years; LFP lasts more cycles than NCM. The reference notes retirement usually comes at
#: 70-80 % of nominal capacity.
LIFETIMES: Final[dict[tuple[str, str], Lifetime]] = {
    ("LFP", "passenger"): Lifetime(11.0, 3.0),
    ("NCM", "passenger"): Lifetime(10.0, 3.0),
    ("LFP", "commercial"): Lifetime(7.5, 2.5),
    ("NCM", "commercial"): Lifetime(6.5, 2.5),
}

#: Chance that the end of the first pack's life is a pack replacement (the vehicle goes on)
#: rather than scrapping, and how many more years the vehicle then runs. *Assumed*.
REPLACEMENT_SHARE: Final = {"passenger": 0.10, "commercial": 0.25}
EXTRA_YEARS_AFTER_REPLACEMENT: Final = {"passenger": (2.0, 6.0), "commercial": (1.0, 4.0)}
#: Repairs per year in service. *Assumed*.
REPAIRS_PER_YEAR: Final = {"passenger": 0.04, "commercial": 0.12}
#: Share of cars sold for battery swapping (from 2019), reported pack exchanges a year, share
#: of imported vehicles, share sold directly by the vehicle maker. *Assumed*.
SWAP_SHARE: Final = 0.03
SWAP_FIRST_YEAR: Final = 2019
SWAPS_PER_YEAR: Final = 0.6
IMPORT_SHARE: Final = 0.015
DIRECT_SALES_SHARE: Final = 0.30

# --- after retirement ---------------------------------------------------------------------

#: State of health at retirement, percent of rated capacity. *Reference*: retirement from EV
#: use usually comes at 70-80 %; the simulator spreads it wider (60-86).
SOH_AT_RETIREMENT: Final = (60, 86)
#: Chance that a retired pack fit for second life (SOH at least the threshold) goes to an
#: echelon firm rather than straight to a recycler, by chemistry. *Assumed*.
ECHELON_MIN_SOH: Final = 70
ECHELON_SHARE: Final = {"LFP": 0.55, "NCM": 0.20}
#: Echelon firms must reuse at least 60 % of what they take in by weight (*reference*); the
#: simulator's firms pass 80 % of the packs they test and send the rest to a recycler.
ECHELON_PASS_SHARE: Final = 0.80
#: Share of a recycler's intake that is disposed of (damaged packs) instead. *Assumed*.
DISPOSAL_SHARE: Final = 0.03
#: Collection routes after removal: via a collection outlet, via the vehicle maker (which bears
#: the collection duty), or straight to the treating firm. *Assumed*.
ROUTE_SHARES: Final = {"outlet": 0.80, "vehicle_maker": 0.08, "direct": 0.12}

#: Minimum recovery by smelting, 2024 industry standard conditions. *Reference*; the
#: supervision rules' table.
MIN_RECOVERY: Final = CHINA_MIN_RECOVERY
#: Recovery drawn for a compliant recycler (uniform in the range). Li, Ni, Co, Mn stay at
#: least half a point above the minimum so rounding never crosses it. *Assumed* otherwise.
RECOVERY_RANGES: Final = {
    "li": (0.905, 0.97),
    "ni": (0.985, 0.995),
    "co": (0.985, 0.995),
    "mn": (0.985, 0.995),
    "cu": (0.90, 0.98),
    "al": (0.85, 0.97),
    "fe": (0.85, 0.95),
    "p": (0.80, 0.95),
    "graphite": (0.70, 0.90),
}

# --- reporting ----------------------------------------------------------------------------

#: Reporting deadline in working days by the reporter's role. *Reference* (2018 Interim
#: Provisions): vehicle makers 15 after the conformity certificate; repairs and replacements,
#: collection outlets (via the vehicle maker) 30; dismantlers 15; echelon firms 15; recyclers
#: 30; sale likely 30 (Art. 9 not confirmed). Battery makers, importers and swap operators have
#: no confirmed deadline: 15, 15 and 30 are *assumed*. The table is the supervision rules' own
#: (``battrace.supervision.config.DEADLINES``), so the simulator and the rules never disagree.
DEADLINE_WORKING_DAYS: Final = DEADLINES
#: A report this many calendar days after the fact or more is late under every deadline above,
#: whatever the holidays (30 working days never exceed 50 calendar days). On-time reports
#: come at most ON_TIME_MAX_DAYS calendar days after the fact, which never exceeds 15 working
#: days.
LATE_MIN_DAYS: Final = 60
LATE_MAX_DAYS: Final = 365
ON_TIME_MAX_DAYS: Final = 10

# --- whitelist ----------------------------------------------------------------------------

#: Whitelist batches: (effective date, distinct firms added). Batch 1 (2018, 5 firms) and the
#: total after batch 5 (2024-01: 96 echelon and 60 recycling listings, 12 firms in both, so
#: 144 firms) are *reference*; the dates of batches 1-4 and the split of batches 2-4 are
#: *assumed*.
WHITELIST_BATCHES: Final = (
    (date(2018, 9, 1), 5),
    (date(2020, 1, 1), 22),
    (date(2021, 1, 1), 20),
    (date(2022, 1, 1), 41),
    (date(2024, 1, 1), 56),
)
#: Listed firms by roles: echelon only, recycler only, both (*reference*, batch 5 totals).
LISTED_ECHELON_ONLY: Final = 84
LISTED_RECYCLER_ONLY: Final = 48
LISTED_BOTH: Final = 12
#: Firms never listed, and listed firms later removed ("managed in and out"). *Assumed*.
UNLISTED_ECHELON: Final = 24
UNLISTED_RECYCLERS: Final = 16
DELISTED: Final = ((date(2023, 6, 1), 4), (date(2025, 3, 1), 3))
