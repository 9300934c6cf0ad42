"""Plotly figures (plain dicts, drawn in the page by ``Plotly.newPlot``) for the dashboard.

The figures are made here, on the server, from the supervision figures' rows: the page only
hands each one to plotly.js (served from the installed ``plotly`` package, never a CDN).
Every label goes through the page's :class:`~battrace.web.i18n.Text`.
"""

from __future__ import annotations

from typing import Any, Final

from battrace.web.i18n import Text

FONT: Final = {"family": "system-ui, -apple-system, 'Segoe UI', sans-serif", "size": 12}
SEVERITY_COLOURS: Final = {
    "critical": "#7f0000",
    "high": "#d7301f",
    "medium": "#fc8d59",
    "low": "#fdcc8a",
}
SEVERITIES: Final = ("critical", "high", "medium", "low")
CATEGORY_COLOURS: Final = {
    "in_stock": "#9ecae1",
    "in_service": "#3182bd",
    "retired": "#fd8d3c",
    "collected": "#31a354",
    "second_life": "#756bb1",
    "repurposed": "#bcbddc",
    "recycled": "#636363",
}
TREND_GROUPS: Final = ("produced", "installed", "retired", "collected", "repurposed", "recycled")
TREND_COLOURS: Final = ("#3182bd", "#6baed6", "#fd8d3c", "#31a354", "#756bb1", "#636363")


def _layout(height: int = 320, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "height": height,
        "margin": {"l": 56, "r": 16, "t": 16, "b": 48},
        "font": FONT,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": False,
    }
    layout.update(extra)
    return layout


def categories(row: dict[str, Any], t: Text, names: tuple[str, ...]) -> dict[str, Any]:
    """Bars: batteries per category of a ``provinces`` figure row."""
    return {
        "data": [
            {
                "type": "bar",
                "x": [t(f"category.{n}") for n in names],
                "y": [int(row.get(n) or 0) for n in names],
                "marker": {"color": [CATEGORY_COLOURS.get(n, "#888888") for n in names]},
                "hovertemplate": "%{x}: %{y:,}<extra></extra>",
            }
        ],
        "layout": _layout(yaxis={"title": {"text": t("unit.packs")}, "rangemode": "tozero"}),
    }


def severities(counts: dict[str, int], t: Text) -> dict[str, Any]:
    """Bars: open alerts per severity, most severe first."""
    return {
        "data": [
            {
                "type": "bar",
                "x": [t(f"severity.{s}") for s in SEVERITIES],
                "y": [counts.get(s, 0) for s in SEVERITIES],
                "marker": {"color": [SEVERITY_COLOURS[s] for s in SEVERITIES]},
                "hovertemplate": "%{x}: %{y:,}<extra></extra>",
            }
        ],
        "layout": _layout(
            height=260, yaxis={"title": {"text": t("unit.alerts")}, "rangemode": "tozero"}
        ),
    }


def trend(rows: list[dict[str, Any]], t: Text) -> dict[str, Any]:
    """Lines: events per month by type group (the ``trend`` figure)."""
    months = [t.month(r["month"]) for r in rows]
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": t(f"trend.{group}"),
            "x": months,
            "y": [int(r.get(group) or 0) for r in rows],
            "line": {"color": colour, "width": 2},
            "hovertemplate": "%{x}: %{y:,}<extra>%{fullData.name}</extra>",
        }
        for group, colour in zip(TREND_GROUPS, TREND_COLOURS, strict=True)
    ]
    return {
        "data": data,
        "layout": _layout(
            height=340,
            showlegend=True,
            legend={"orientation": "h", "y": -0.25},
            margin={"l": 56, "r": 16, "t": 16, "b": 80},
            xaxis={"type": "category", "nticks": 12, "tickangle": -30},
            yaxis={"title": {"text": t("unit.events")}, "rangemode": "tozero"},
        ),
    }


def sankey(rows: list[dict[str, Any]], nodes: tuple[str, ...], t: Text) -> dict[str, Any]:
    """The Sankey diagram of the ``flows`` figure: packs from stage to stage."""
    index = {name: i for i, name in enumerate(nodes)}
    links = [r for r in rows if r["count"] > 0 and r["source"] in index and r["target"] in index]
    reached: dict[str, int] = {}
    for r in links:
        reached[r["target"]] = reached.get(r["target"], 0) + int(r["count"])
    made = sum(int(r["count"]) for r in links if r["source"] == "maker")
    labels = []
    for name in nodes:
        amount = made if name == "maker" else reached.get(name, 0)
        labels.append(f"{t(f'node.{name}')} ({amount:,})")
    return {
        "data": [
            {
                "type": "sankey",
                "arrangement": "snap",
                "valueformat": ",d",
                "node": {
                    "label": labels,
                    "pad": 18,
                    "thickness": 16,
                    "line": {"width": 0.5, "color": "#555555"},
                },
                "link": {
                    "source": [index[r["source"]] for r in links],
                    "target": [index[r["target"]] for r in links],
                    "value": [int(r["count"]) for r in links],
                    "color": "rgba(49,130,189,0.35)",
                },
            }
        ],
        "layout": _layout(height=520, margin={"l": 8, "r": 8, "t": 16, "b": 16}),
    }


def on_time(events: int, late: int, t: Text) -> dict[str, Any]:
    """Bars: an enterprise's events reported on time and late."""
    return {
        "data": [
            {
                "type": "bar",
                "x": [t("timeliness.on_time"), t("timeliness.late")],
                "y": [max(0, events - late), late],
                "marker": {"color": ["#31a354", "#d7301f"]},
                "hovertemplate": "%{x}: %{y:,}<extra></extra>",
            }
        ],
        "layout": _layout(
            height=240, yaxis={"title": {"text": t("unit.events")}, "rangemode": "tozero"}
        ),
    }


__all__ = ["SEVERITIES", "categories", "on_time", "sankey", "severities", "trend"]
