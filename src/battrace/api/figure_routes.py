"""Compliance figures: ``GET /api/v1/figures/{kind}`` (:mod:`battrace.supervision.figures`).

Who sees what (:func:`figure_scope`):

- the national regulator: every figure, any filter;
- a provincial regulator: every figure, limited to its province (the ``province`` filter
  defaults to its own; asking for another one is 403, rule ``jurisdiction``);
- an enterprise: ``timeliness``, ``recovery`` and ``collection`` about itself only (the
  ``enterprise`` filter is forced to the caller; naming another enterprise is 403, rule
  ``own_figures_only``); the other figures are 403, rule ``regulators_only``;
- anonymous: 401.

The figures are computed on the store's own database (a fresh evaluation per request; there
is no Parquet engine over HTTP).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from battrace.api.answers import documented, json_answer
from battrace.api.auth import current_caller
from battrace.api.context import context_of
from battrace.api.matrix import BY_NAME, Outcome, RouteAccess, route_doc
from battrace.codes import validate_credit_code
from battrace.domain.access import Caller
from battrace.domain.events import Chemistry
from battrace.services.access import denied, require_caller
from battrace.supervision.calendar import FIRST_DAY, LAST_DAY
from battrace.supervision.figures import FIGURE_KINDS, LEVELS, figures, province_prefix

router = APIRouter(prefix="/api/v1/figures", tags=["figures"])
CallerDep = Annotated[Caller, Depends(current_caller)]


class FigureKind(StrEnum):
    COLLECTION = "collection"
    PROVINCES = "provinces"
    RECOVERY = "recovery"
    TIMELINESS = "timeliness"
    TREND = "trend"
    FLOWS = "flows"


class Level(StrEnum):
    PACK = "pack"
    MODULE = "module"
    CELL = "cell"


assert tuple(FigureKind) == FIGURE_KINDS, "FigureKind out of step with figures.FIGURE_KINDS"
assert tuple(Level) == LEVELS, "Level out of step with figures.LEVELS"

#: what an enterprise may ask about itself
ENTERPRISE_KINDS = frozenset({"timeliness", "recovery", "collection"})

#: this route's row of the access matrix (battrace.api.matrix.ROUTES holds it once added)
ROUTE = RouteAccess(
    "read_figures",
    "GET",
    "/api/v1/figures/{kind}",
    "Compliance figures",
    200,
    (
        Outcome.UNAUTHENTICATED,
        Outcome.OWN,
        Outcome.OWN,
        Outcome.OWN,
        Outcome.OWN,
        Outcome.YES,
    ),
)

DESCRIPTION = """\
One figure, computed on the current log (`docs/api.md`, `battrace figures`):
`collection` (per vehicle maker: packs retired, reaching a whitelisted treating firm, rate,
tonnes), `provinces` (batteries per province by category: count and tonnes, with a `total`
row), `recovery` (per recycler: content, output and rate per metal), `timeliness` (per
enterprise: events, late reports, on-time share, median and p90 delay in working days),
`trend` (events per month by type group), `flows` (Sankey links of packs: `source`,
`target`, `count`). Each figure takes some filters only; another is 422, rule
`not_applicable`. A provincial regulator sees its province only; an enterprise only
`timeliness`, `recovery` and `collection`, about itself."""


class FigureAnswer(BaseModel):
    """A figure: its kind, the filters applied (after authorisation) and its rows."""

    kind: str
    filters: dict[str, Any] = Field(description="The filters applied (null: not applied).")
    items: list[dict[str, Any]] = Field(description="The figure's rows (see docs/api.md).")


def _doc() -> dict[str, Any]:
    if ROUTE.name in BY_NAME:
        return dict(route_doc(ROUTE.name, DESCRIPTION))
    return {
        "operation_id": ROUTE.name,
        "summary": ROUTE.summary,
        "name": ROUTE.name,
        "description": f"{DESCRIPTION}\n\n{ROUTE.access_line()}",
    }


def figure_scope(
    caller: Caller, kind: str, province: str | None, enterprise: str | None
) -> tuple[str | None, str | None]:
    """(province, enterprise) filters ``caller`` may ask for figure ``kind`` with; raises
    ``Unauthenticated`` or ``PermissionDenied`` (bad values: ``ValidationError``)."""
    me = require_caller(caller)
    prefix = province_prefix(province) if province is not None else None
    firm = validate_credit_code(enterprise, field="enterprise") if enterprise is not None else None
    if caller.is_national:
        return prefix, firm
    if caller.is_regulator:
        own = me.province[:2]
        if prefix is not None and prefix != own:
            raise denied(
                f"province: {prefix}0000 is outside the jurisdiction of {me.id}",
                "jurisdiction",
                "province",
            )
        return own, firm
    if kind not in ENTERPRISE_KINDS:
        raise denied(
            f"kind: the {kind} figure is for regulators; an enterprise reads"
            f" {', '.join(sorted(ENTERPRISE_KINDS))} about itself",
            "regulators_only",
            "kind",
        )
    if firm is not None and firm != me.id:
        raise denied(
            f"enterprise: {me.id} reads figures about itself only, not {firm}",
            "own_figures_only",
            "enterprise",
        )
    return prefix, me.id


@router.get(
    "/{kind}",
    responses=documented(200, FigureAnswer, "The figure's rows"),
    **_doc(),
)
def read_figures(
    request: Request,
    caller: CallerDep,
    kind: Annotated[FigureKind, Path(description="Which figure.")],
    as_of: Annotated[
        date | None,
        Query(description="Leave out events after this day (default: the whole log)."),
    ] = None,
    year: Annotated[
        int | None,
        Query(
            ge=FIRST_DAY.year,
            le=LAST_DAY.year,
            description="Year of retirement (collection), recycling (recovery), the fact"
            " (timeliness), the month (trend), production (flows: first of a range).",
        ),
    ] = None,
    year_to: Annotated[
        int | None,
        Query(ge=FIRST_DAY.year, le=LAST_DAY.year, description="flows: last production year."),
    ] = None,
    province: Annotated[
        str | None,
        Query(pattern=r"^([0-9]{2}|[0-9]{6})$", description="Province: 2 or 6 digits."),
    ] = None,
    chemistry: Annotated[Chemistry | None, Query()] = None,
    enterprise: Annotated[
        str | None, Query(max_length=64, description="An enterprise's credit code.")
    ] = None,
    level: Annotated[Level | None, Query(description="provinces: unit level (pack).")] = None,
) -> Response:
    name = str(kind.value)
    scoped_province, scoped_enterprise = figure_scope(caller, name, province, enterprise)
    filters: dict[str, Any] = {
        "as_of": as_of,
        "year": year,
        "year_to": year_to,
        "province": scoped_province + "0000" if scoped_province is not None else None,
        "chemistry": chemistry.value if chemistry is not None else None,
        "enterprise": scoped_enterprise,
        "level": level.value if level is not None else None,
    }
    with context_of(request).access.reading() as store:
        items = figures(store, name, **filters)
    shown = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in filters.items()}
    return json_answer({"kind": name, "filters": shown, "items": items})


__all__ = ["ENTERPRISE_KINDS", "ROUTE", "FigureAnswer", "figure_scope", "router"]
