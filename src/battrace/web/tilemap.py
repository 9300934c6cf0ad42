"""A tile-grid map of China's 31 mainland province-level divisions.

No boundary data is available offline here, so each province is one square on a grid that
keeps the rough west-east and north-south order of the provinces and most neighbours
adjacent (placed by hand for this dashboard from the provincial capitals' approximate
positions: Urumqi far west, Harbin far north-east, Haikou far south). It is a schematic, not
a map of borders. Hong Kong, Macao and Taiwan (GB/T 2260 codes 81, 82, 71) hold no data in
the platform and are not drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from battrace.codes.division import PROVINCES

#: 2-digit province code -> (column, row) on the grid, west to east and north to south
GRID: Final[dict[str, tuple[int, int]]] = {
    "23": (7, 0),  # Heilongjiang
    "15": (3, 1),  # Inner Mongolia
    "11": (5, 1),  # Beijing
    "21": (6, 1),  # Liaoning
    "22": (7, 1),  # Jilin
    "65": (0, 2),  # Xinjiang
    "62": (1, 2),  # Gansu
    "64": (2, 2),  # Ningxia
    "14": (3, 2),  # Shanxi
    "13": (4, 2),  # Hebei
    "12": (5, 2),  # Tianjin
    "63": (1, 3),  # Qinghai
    "61": (2, 3),  # Shaanxi
    "41": (3, 3),  # Henan
    "37": (4, 3),  # Shandong
    "54": (0, 4),  # Xizang
    "51": (1, 4),  # Sichuan
    "50": (2, 4),  # Chongqing
    "42": (3, 4),  # Hubei
    "34": (4, 4),  # Anhui
    "32": (5, 4),  # Jiangsu
    "31": (6, 4),  # Shanghai
    "53": (1, 5),  # Yunnan
    "52": (2, 5),  # Guizhou
    "43": (3, 5),  # Hunan
    "36": (4, 5),  # Jiangxi
    "33": (5, 5),  # Zhejiang
    "45": (2, 6),  # Guangxi
    "44": (3, 6),  # Guangdong
    "35": (4, 6),  # Fujian
    "46": (3, 7),  # Hainan
}
COLUMNS: Final = 1 + max(x for x, _ in GRID.values())
ROWS: Final = 1 + max(y for _, y in GRID.values())
TILE: Final = 64  # pixels per grid step in the SVG
GAP: Final = 4

# a sequential blue scale, light (low) to dark (high)
_LOW: Final = (0xDE, 0xEB, 0xF7)
_HIGH: Final = (0x08, 0x30, 0x6B)
NO_DATA: Final = "#e5e5e5"


@dataclass(frozen=True, slots=True)
class Tile:
    """One province's square: where, its label, its value and colour, and its link."""

    code: str  # 6 digits
    abbr: str
    name: str
    x: int
    y: int
    value: float | None
    shown: str  # the value as displayed
    color: str
    text_color: str
    href: str | None

    @property
    def left(self) -> int:
        return self.x * TILE

    @property
    def top(self) -> int:
        return self.y * TILE

    @property
    def size(self) -> int:
        return TILE - GAP


def colour(share: float) -> str:
    """The scale's colour at ``share`` (0 = lowest value, 1 = highest)."""
    share = min(1.0, max(0.0, share))
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(_LOW, _HIGH, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def short_name(code2: str, lang: str) -> str:
    """A tile's label: the Chinese name without its suffix, or the English name."""
    province = PROVINCES[code2]
    if lang != "zh":
        return province.name_en.split(" (")[0]
    name = province.name_zh
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def tiles(
    values: dict[str, float | None],
    shown: dict[str, str],
    lang: str,
    *,
    linked: set[str] | None = None,
) -> list[Tile]:
    """The 31 tiles coloured by ``values`` (6-digit province code -> value; missing or None:
    no data, grey). ``linked`` limits the provinces whose tile links to its page (default:
    every province)."""
    present = [v for v in values.values() if v is not None]
    low = min(present) if present else 0.0
    high = max(present) if present else 0.0
    out = []
    for code2, (x, y) in GRID.items():
        code = code2 + "0000"
        value = values.get(code)
        if value is None:
            fill, ink = NO_DATA, "#444444"
        else:
            share = (value - low) / (high - low) if high > low else 1.0
            fill = colour(share)
            ink = "#ffffff" if share > 0.5 else "#111111"
        province = PROVINCES[code2]
        link = f"/ui/province/{code}" if linked is None or code in linked else None
        out.append(
            Tile(
                code=code,
                abbr=short_name(code2, lang),
                name=province.name_zh if lang == "zh" else province.name_en,
                x=x,
                y=y,
                value=value,
                shown=shown.get(code, "–"),
                color=fill,
                text_color=ink,
                href=link,
            )
        )
    return out


def legend(low: float, high: float, steps: int = 5) -> list[tuple[float, str]]:
    """``steps`` (value, colour) pairs from ``low`` to ``high``."""
    if steps < 2:
        return [(high, colour(1.0))]
    return [(low + (high - low) * i / (steps - 1), colour(i / (steps - 1))) for i in range(steps)]


__all__ = ["COLUMNS", "GRID", "NO_DATA", "ROWS", "TILE", "Tile", "colour", "legend", "tiles"]
