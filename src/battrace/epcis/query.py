"""EPCIS 2.0 query parameters: read them, and match EPCIS events against them. Pure.

The parameters are those of the EPCIS 2.0 ``SimpleEventQuery`` (EPCIS 2.0 section 8.2.7.1)
that make sense for battrace's events, named and valued as the REST binding sends them: a
parameter may be repeated, and one value may list alternatives separated by ``|``. Within a
parameter the values are alternatives (OR); different parameters must all hold (AND).

A name battrace does not answer, a value of the wrong form, or a single-valued parameter
given twice raises :class:`QueryParameterError` naming the parameter (the standard's
``QueryParameterException``).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from battrace.domain.events import EventType
from battrace.epcis.identifiers import (
    ACTOR_FIELD,
    BATTERY_PREFIX,
    COUNTERPARTY_FIELD,
    DIVISION_PREFIX,
    TYPE_FIELD,
    division_prefix,
    event_id_of,
)
from battrace.epcis.shapes import cbv_term
from battrace.errors import ValidationError

DEFAULT_PER_PAGE: Final = 30  # the EPCIS 2.0 REST binding's default for perPage
MAX_PER_PAGE: Final = 1000
QUERY_EXCEPTION: Final = "QueryParameterException"

EPCIS_EVENT_TYPES: Final = frozenset(
    {
        "ObjectEvent",
        "AggregationEvent",
        "TransformationEvent",
        "TransactionEvent",
        "AssociationEvent",
    }
)
ACTIONS: Final = frozenset({"ADD", "OBSERVE", "DELETE"})
SOURCE_DEST_TYPES: Final = ("owning_party", "possessing_party", "location")

_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+\Z")
_TERM = re.compile(r"[a-z][a-z0-9_]*\Z")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z")
_TOKEN_PREFIX: Final = "epcis-after:"

# MATCH_ parameters: the event fields holding the EPCs (or EPC classes) they look at
_EPC_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "MATCH_epc": ("epcList", "childEPCs"),
    "MATCH_parentID": ("parentID",),
    "MATCH_inputEPC": ("inputEPCList",),
    "MATCH_outputEPC": ("outputEPCList",),
    "MATCH_anyEPC": ("epcList", "childEPCs", "parentID", "inputEPCList", "outputEPCList"),
}
_CLASS_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "MATCH_epcClass": ("quantityList", "childQuantityList"),
    "MATCH_inputEPCClass": ("inputQuantityList",),
    "MATCH_outputEPCClass": ("outputQuantityList",),
    "MATCH_anyEPCClass": (
        "quantityList",
        "childQuantityList",
        "inputQuantityList",
        "outputQuantityList",
    ),
}
_TIMES: Final[Mapping[str, tuple[str, bool]]] = {
    "GE_eventTime": ("eventTime", True),
    "LT_eventTime": ("eventTime", False),
    "GE_recordTime": ("recordTime", True),
    "LT_recordTime": ("recordTime", False),
}
_EXTENSIONS: Final = (TYPE_FIELD, ACTOR_FIELD, COUNTERPARTY_FIELD)


class QueryParameterError(ValidationError):
    """Raised when a query names a parameter battrace does not answer or gives a bad value.

    EPCIS 2.0 calls it ``QueryParameterException`` (HTTP 400 in the REST binding); ``field``
    is the parameter and ``rule`` says what was wrong with it.
    """

    status = 400
    code = "query_parameter"


def _bad(name: str, rule: str, message: str) -> QueryParameterError:
    return QueryParameterError(f"{name}: {message} [{QUERY_EXCEPTION}]", field=name, rule=rule)


Condition = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class EventQuery:
    """A parsed query: a page size, where the page starts, and the conditions to match.

    ``battery_codes`` and ``event_ids``, when not None, bound the events that can match (so
    a store can look them up instead of scanning): a matching event involves one of those
    batteries / has one of those ids.
    """

    per_page: int
    after_id: int = 0
    conditions: tuple[Condition, ...] = ()
    battery_codes: frozenset[str] | None = None
    event_ids: frozenset[int] | None = None

    def matches(self, epcis_event: Mapping[str, Any]) -> bool:
        """Whether one EPCIS event (as :func:`~battrace.epcis.mapping.event_to_epcis` makes
        it) satisfies every condition."""
        return all(condition(epcis_event) for condition in self.conditions)


def encode_page_token(last_id: int) -> str:
    """An opaque ``nextPageToken``: the page after event ``last_id``."""
    raw = f"{_TOKEN_PREFIX}{last_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str) -> int:
    """The event id a page token continues after; raises ``QueryParameterError``."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    number = text.removeprefix(_TOKEN_PREFIX)
    if not text.startswith(_TOKEN_PREFIX) or not number.isdigit():
        raise _bad("nextPageToken", "value", "is not a page token this server gave")
    return int(number)


def _values(name: str, raw: str | list[str]) -> list[str]:
    texts = [raw] if isinstance(raw, str) else list(raw)
    out: list[str] = []
    for text in texts:
        if not isinstance(text, str):
            raise _bad(name, "type", "must be text")
        for part in text.split("|"):
            if not part.strip():
                raise _bad(name, "empty", "has an empty value")
            out.append(part.strip())
    if not out:
        raise _bad(name, "empty", "has no value")
    return out


def _single(name: str, raw: str | list[str]) -> str:
    values = [raw] if isinstance(raw, str) else list(raw)
    if len(values) != 1 or not isinstance(values[0], str) or not values[0].strip():
        raise _bad(name, "single_value", "takes exactly one value")
    return values[0].strip()


def _uris(name: str, raw: str | list[str]) -> frozenset[str]:
    values = _values(name, raw)
    for value in values:
        if not _URI.match(value):
            raise _bad(name, "uri", f"{value!r} is not a URI")
    return frozenset(values)


def _time(name: str, raw: str | list[str]) -> datetime:
    text = _single(name, raw)
    # a "+" in a query string that was not percent-encoded arrives as a space
    if len(text) > 6 and text[-6] == " ":
        text = text[:-6] + "+" + text[-5:]
    if _TIME.match(text):
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    raise _bad(
        name,
        "date_time",
        f"{text!r} is not an RFC 3339 date-time such as 2024-04-01T09:00:00+08:00",
    )


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _terms(name: str, raw: str | list[str]) -> frozenset[str]:
    out = set()
    for value in _values(name, raw):
        term = cbv_term(value)
        if not (_TERM.match(term) or _URI.match(term)):
            raise _bad(name, "cbv_term", f"{value!r} is neither a bare CBV term nor a URI")
        out.add(term)
    return frozenset(out)


def _field_values(event: Mapping[str, Any], keys: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for key in keys:
        value = event.get(key)
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, list):
            found.update(v for v in value if isinstance(v, str))
    return found


def _class_values(event: Mapping[str, Any], keys: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for key in keys:
        for item in event.get(key) or ():
            if isinstance(item, dict) and isinstance(item.get("epcClass"), str):
                found.add(item["epcClass"])
    return found


def _within(uri: str, areas: frozenset[str]) -> bool:
    if uri in areas:
        return True
    if not uri.startswith(DIVISION_PREFIX):
        return False
    code = uri[len(DIVISION_PREFIX) :]
    return any(
        area.startswith(DIVISION_PREFIX)
        and code.startswith(division_prefix(area[len(DIVISION_PREFIX) :]))
        for area in areas
    )


def _enum(name: str, raw: str | list[str], allowed: frozenset[str]) -> frozenset[str]:
    values = frozenset(_values(name, raw))
    for value in sorted(values):
        if value not in allowed:
            raise _bad(name, "enum", f"{value!r} is not one of {', '.join(sorted(allowed))}")
    return values


def _value_in(key: str, allowed: frozenset[str]) -> Condition:
    return lambda event: event.get(key) in allowed


def _term_in(key: str, terms: frozenset[str]) -> Condition:
    return lambda event: cbv_term(str(event.get(key))) in terms


def _time_bound(key: str, bound: datetime, at_least: bool) -> Condition:
    def condition(event: Mapping[str, Any]) -> bool:
        moment = _moment(event.get(key))
        if moment is None:
            return False
        return moment >= bound if at_least else moment < bound

    return condition


def _place_in(key: str, places: frozenset[str], with_descendants: bool) -> Condition:
    def condition(event: Mapping[str, Any]) -> bool:
        where = event.get(key)
        uri = where.get("id") if isinstance(where, dict) else None
        if not isinstance(uri, str):
            return False
        return _within(uri, places) if with_descendants else uri in places

    return condition


def _epcs_overlap(keys: tuple[str, ...], epcs: frozenset[str]) -> Condition:
    return lambda event: not _field_values(event, keys).isdisjoint(epcs)


def _classes_overlap(keys: tuple[str, ...], classes: frozenset[str]) -> Condition:
    return lambda event: not _class_values(event, keys).isdisjoint(classes)


def _party_condition(name: str, raw: str | list[str]) -> Condition:
    list_key, side = ("sourceList", "source")
    rest = name.removeprefix("EQ_source_")
    if name.startswith("EQ_destination_"):
        list_key, side = ("destinationList", "destination")
        rest = name.removeprefix("EQ_destination_")
    if rest not in SOURCE_DEST_TYPES:
        raise _bad(name, "unknown_parameter", f"{rest!r} is not a CBV source/destination type")
    wanted = _uris(name, raw)

    def condition(event: Mapping[str, Any]) -> bool:
        return any(
            isinstance(e, dict) and cbv_term(str(e.get("type"))) == rest and e.get(side) in wanted
            for e in event.get(list_key) or ()
        )

    return condition


def _extension_condition(name: str, raw: str | list[str]) -> Condition:
    key = name.removeprefix("EQ_")
    if key == TYPE_FIELD:
        return _value_in(key, _enum(name, raw, frozenset(t.value for t in EventType)))
    return _value_in(key, _uris(name, raw))


def _known_names() -> list[str]:
    names = [
        "eventType",
        *_TIMES,
        "EQ_action",
        "EQ_bizStep",
        "EQ_disposition",
        "EQ_readPoint",
        "EQ_bizLocation",
        "WD_readPoint",
        "WD_bizLocation",
        "EQ_eventID",
        *_EPC_FIELDS,
        *_CLASS_FIELDS,
        *(f"EQ_{side}_{t}" for side in ("source", "destination") for t in SOURCE_DEST_TYPES),
        *(f"EQ_{key}" for key in _EXTENSIONS),
        "perPage",
        "nextPageToken",
    ]
    return names


def parse_query(
    params: Mapping[str, str | list[str]],
    *,
    default_per_page: int = DEFAULT_PER_PAGE,
    max_per_page: int = MAX_PER_PAGE,
) -> EventQuery:
    """Read EPCIS query parameters (a query string's names to one or more values).

    Returns an :class:`EventQuery`. Raises :class:`QueryParameterError` naming the first
    parameter that is unknown, repeated when it takes one value, or badly valued.
    """
    conditions: list[Condition] = []
    per_page = default_per_page
    after_id = 0
    codes: frozenset[str] | None = None
    ids: frozenset[int] | None = None
    for name in sorted(params):
        raw = params[name]
        if name == "perPage":
            text = _single(name, raw)
            if not text.isdigit() or not 1 <= int(text) <= max_per_page:
                raise _bad(name, "range", f"must be a whole number from 1 to {max_per_page}")
            per_page = int(text)
        elif name == "nextPageToken":
            after_id = decode_page_token(_single(name, raw))
        elif name == "eventType":
            conditions.append(_value_in("type", _enum(name, raw, EPCIS_EVENT_TYPES)))
        elif name in _TIMES:
            key, at_least = _TIMES[name]
            conditions.append(_time_bound(key, _time(name, raw), at_least))
        elif name == "EQ_action":
            conditions.append(_value_in("action", _enum(name, raw, ACTIONS)))
        elif name in ("EQ_bizStep", "EQ_disposition"):
            conditions.append(_term_in(name.removeprefix("EQ_"), _terms(name, raw)))
        elif name in ("EQ_readPoint", "EQ_bizLocation", "WD_readPoint", "WD_bizLocation"):
            conditions.append(_place_in(name[3:], _uris(name, raw), name.startswith("WD_")))
        elif name == "EQ_eventID":
            wanted = _uris(name, raw)
            conditions.append(_value_in("eventID", wanted))
            found = frozenset(i for i in map(event_id_of, wanted) if i is not None)
            ids = found if ids is None else ids & found
        elif name in _EPC_FIELDS:
            epcs = _uris(name, raw)
            conditions.append(_epcs_overlap(_EPC_FIELDS[name], epcs))
            mine = frozenset(
                uri[len(BATTERY_PREFIX) :] for uri in epcs if uri.startswith(BATTERY_PREFIX)
            )
            if codes is None or len(mine) < len(codes):
                codes = mine
        elif name in _CLASS_FIELDS:
            conditions.append(_classes_overlap(_CLASS_FIELDS[name], _uris(name, raw)))
        elif name.startswith(("EQ_source_", "EQ_destination_")):
            conditions.append(_party_condition(name, raw))
        elif name.startswith("EQ_") and name[3:] in _EXTENSIONS:
            conditions.append(_extension_condition(name, raw))
        else:
            raise _bad(
                name,
                "unknown_parameter",
                "battrace does not answer this query parameter; it answers "
                + ", ".join(_known_names()),
            )
    return EventQuery(
        per_page=per_page,
        after_id=after_id,
        conditions=tuple(conditions),
        battery_codes=codes,
        event_ids=ids,
    )
