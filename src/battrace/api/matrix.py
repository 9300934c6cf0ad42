"""The route-by-caller access matrix of the HTTP API, as data.

One table drives three things: the summary and access line of every operation in the OpenAPI
document, the matrix in ``docs/api.md`` (:func:`render_matrix`; a test checks the doc shows
exactly this), and the parametrised tests that send every route as every kind of caller.

Columns (:class:`Who`), for the resource a route is about:

- ``anonymous``: no token;
- ``enterprise``: the enterprise concerned: the one in the path, the actor or maker it writes
  as, a party to the battery or event (for lists: any enterprise);
- ``other_enterprise``: an enterprise with no part in it;
- ``regulator``: a provincial regulator of the province concerned;
- ``other_regulator``: a provincial regulator of another province;
- ``national``: the national regulator (:mod:`battrace.domain.access`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypedDict


class Who(StrEnum):
    ANONYMOUS = "anonymous"
    ENTERPRISE = "enterprise"
    OTHER_ENTERPRISE = "other_enterprise"
    REGULATOR = "regulator"
    OTHER_REGULATOR = "other_regulator"
    NATIONAL = "national"


WHO_HEADINGS = {
    Who.ANONYMOUS: "anonymous",
    Who.ENTERPRISE: "the enterprise",
    Who.OTHER_ENTERPRISE: "another enterprise",
    Who.REGULATOR: "provincial regulator",
    Who.OTHER_REGULATOR: "other province's regulator",
    Who.NATIONAL: "national regulator",
}


class Outcome(StrEnum):
    YES = "yes"  # the route's success status
    OWN = "own"  # success, limited to what the caller may see
    PUBLIC = "public"  # success, the public part only
    UNAUTHENTICATED = "401"
    FORBIDDEN = "403"


@dataclass(frozen=True, slots=True)
class RouteAccess:
    """One route: its name (the OpenAPI operation id), method, path, summary, success
    status and the outcome for each caller, in :class:`Who` order."""

    name: str
    method: str
    path: str
    summary: str
    status: int
    outcomes: tuple[Outcome, Outcome, Outcome, Outcome, Outcome, Outcome]

    def outcome(self, who: Who) -> Outcome:
        return self.outcomes[list(Who).index(who)]

    def access_line(self) -> str:
        """``Access: anonymous 401; the enterprise yes; ...`` for the OpenAPI description."""
        cells = "; ".join(f"{WHO_HEADINGS[w]} {self.outcome(w)}" for w in Who)
        return f"Access: {cells}."


Y, OWN, PUB, U, F = (
    Outcome.YES,
    Outcome.OWN,
    Outcome.PUBLIC,
    Outcome.UNAUTHENTICATED,
    Outcome.FORBIDDEN,
)
_ALL = (Y, Y, Y, Y, Y, Y)
_READ = (U, Y, F, Y, F, Y)  # the enterprise concerned, or a regulator governing it
_MANAGE = (U, F, F, Y, F, Y)  # regulators governing it
_WRITE_AS = (U, Y, F, F, F, F)  # only the enterprise itself
_LIST = (U, OWN, OWN, OWN, OWN, Y)
_E = "/api/v1/enterprises/{enterprise_id}"
_B = "/api/v1/batteries/{code}"
_A = "/api/v1/alerts/{alert_id}"

ROUTES: tuple[RouteAccess, ...] = (
    RouteAccess("health", "GET", "/health", "Liveness and database check", 200, _ALL),
    RouteAccess(
        "checkpoint_note", "GET", "/checkpoint", "Signed checkpoint (C2SP note)", 200, _ALL
    ),
    RouteAccess("tile", "GET", "/tile/{path}", "C2SP tlog-tiles tile or entry bundle", 200, _ALL),
    RouteAccess("log_checkpoint", "GET", "/api/v1/log/checkpoint", "Checkpoint as JSON", 200, _ALL),
    RouteAccess("log_key", "GET", "/api/v1/log/key", "The log's verifier key", 200, _ALL),
    RouteAccess(
        "log_leaf",
        "GET",
        "/api/v1/log/leaves/{index}",
        "A leaf, with its event for those who may read it",
        200,
        (PUB, Y, PUB, Y, PUB, Y),
    ),
    RouteAccess(
        "log_inclusion", "GET", "/api/v1/log/proofs/inclusion", "Inclusion proof", 200, _ALL
    ),
    RouteAccess(
        "log_consistency", "GET", "/api/v1/log/proofs/consistency", "Consistency proof", 200, _ALL
    ),
    RouteAccess("list_enterprises", "GET", "/api/v1/enterprises", "List enterprises", 200, _LIST),
    RouteAccess(
        "register_enterprise", "POST", "/api/v1/enterprises", "Register an enterprise", 201, _MANAGE
    ),
    RouteAccess(
        "read_enterprise", "GET", _E, "An enterprise and its whitelist history", 200, _READ
    ),
    RouteAccess(
        "change_whitelist", "POST", _E + "/whitelist", "Record a whitelist change", 201, _MANAGE
    ),
    RouteAccess("list_keys", "GET", _E + "/keys", "An enterprise's signing keys", 200, _READ),
    RouteAccess("add_key", "POST", _E + "/keys", "Register a signing key", 201, _MANAGE),
    RouteAccess(
        "revoke_key", "POST", _E + "/keys/{key_id}/revoke", "Revoke a signing key", 200, _MANAGE
    ),
    RouteAccess(
        "pending_shipments", "GET", _E + "/pending", "Shipments not yet received", 200, _READ
    ),
    RouteAccess("list_tokens", "GET", _E + "/tokens", "An enterprise's API tokens", 200, _READ),
    RouteAccess("create_token", "POST", _E + "/tokens", "Make an API token", 201, _MANAGE),
    RouteAccess(
        "revoke_token",
        "POST",
        _E + "/tokens/{token_id}/revoke",
        "Revoke an API token",
        200,
        _READ,
    ),
    RouteAccess(
        "register_battery", "POST", "/api/v1/batteries", "Register a battery", 201, _WRITE_AS
    ),
    RouteAccess(
        "register_batteries",
        "POST",
        "/api/v1/batteries/batch",
        "Register batteries in bulk",
        201,
        _WRITE_AS,
    ),
    RouteAccess("list_batteries", "GET", "/api/v1/batteries", "List batteries", 200, _LIST),
    RouteAccess("read_battery", "GET", _B, "A battery with its full history", 200, _READ),
    RouteAccess(
        "battery_passport", "GET", _B + "/passport", "A battery's public passport", 200, _ALL
    ),
    RouteAccess("battery_history", "GET", _B + "/history", "A battery's events", 200, _READ),
    RouteAccess("battery_state", "GET", _B + "/state", "A battery's current state", 200, _READ),
    RouteAccess("report_event", "POST", "/api/v1/events", "Report an event", 201, _WRITE_AS),
    RouteAccess(
        "report_events", "POST", "/api/v1/events/batch", "Report events in bulk", 201, _WRITE_AS
    ),
    RouteAccess("read_event", "GET", "/api/v1/events/{event_id}", "An event", 200, _READ),
    # supervision alerts: "the enterprise" is the one an alert is about, "provincial regulator"
    # governs the alert's province
    RouteAccess("list_alerts", "GET", "/api/v1/alerts", "List alerts", 200, _LIST),
    RouteAccess("read_alert", "GET", _A, "An alert with its history", 200, _READ),
    RouteAccess(
        "acknowledge_alert", "POST", _A + "/acknowledge", "Acknowledge an alert", 200, _MANAGE
    ),
    RouteAccess("resolve_alert", "POST", _A + "/resolve", "Resolve an alert", 200, _MANAGE),
    RouteAccess("reopen_alert", "POST", _A + "/reopen", "Reopen a resolved alert", 200, _MANAGE),
    RouteAccess("read_figures", "GET", "/api/v1/figures/{kind}", "Compliance figures", 200, _LIST),
)

BY_NAME: dict[str, RouteAccess] = {r.name: r for r in ROUTES}


class RouteDoc(TypedDict):
    operation_id: str
    summary: str
    name: str
    description: str


def route_doc(name: str, description: str = "") -> RouteDoc:
    """Keyword arguments for a FastAPI route decorator: operation id, summary, and
    ``description`` followed by the route's access line."""
    route = BY_NAME[name]
    text = f"{description.strip()}\n\n{route.access_line()}" if description else route.access_line()
    return {"operation_id": name, "summary": route.summary, "name": name, "description": text}


def render_matrix() -> str:
    """The matrix as the Markdown table ``docs/api.md`` shows."""
    head = "| route | " + " | ".join(WHO_HEADINGS[w] for w in Who) + " |"
    rule = "|---|" + "---|" * len(Who)
    lines = [head, rule]
    for r in ROUTES:
        cells = " | ".join(str(o) for o in r.outcomes)
        lines.append(f"| `{r.method} {r.path}` | {cells} |")
    return "\n".join(lines) + "\n"


__all__ = ["BY_NAME", "ROUTES", "Outcome", "RouteAccess", "Who", "render_matrix", "route_doc"]
