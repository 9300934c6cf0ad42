"""The URIs battrace uses in EPCIS documents, and the JSON-LD context that declares them.

EPCIS 2.0 names every object, party, location and event with a URI (the GS1 JSON schema
checks ``format: uri``). GB/T 34014 battery codes, GB 32100 credit codes and GB/T 2260
division codes are not GS1 keys, so they cannot be written as GS1 EPC URIs (``urn:epc:id:``
is reserved for the schemes of the GS1 EPC Tag Data Standard); they are written as
battrace URNs instead, which EPCIS allows for identifiers outside the GS1 system:

=================  =========================================  ================================
what               URI                                        example
=================  =========================================  ================================
battery (an EPC)   ``urn:battrace:battery:<GB/T 34014 code>`` ``urn:battrace:battery:N1DPB...``
enterprise         ``urn:battrace:party:<credit code>``       ``urn:battrace:party:9135...``
place              ``urn:battrace:division:<GB/T 2260 code>`` ``urn:battrace:division:310115``
event              ``urn:battrace:event:<id>``                ``urn:battrace:event:42``
material class     ``urn:battrace:material:<material>``       ``urn:battrace:material:li``
recycling          ``urn:battrace:transformation:<code>``     (its first input battery)
=================  =========================================  ================================

Extension fields live in the ``battrace`` JSON-LD namespace (``urn:battrace:ext:``); the
body is declared a JSON literal (``@json``) so that a JSON-LD processor keeps it whole.
Pure: no I/O.
"""

from __future__ import annotations

from typing import Any, Final

from battrace.errors import ValidationError

EPCIS_CONTEXT_URL: Final = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
BATTRACE_NAMESPACE: Final = "urn:battrace:ext:"

# Compact IRIs of the extension fields (their prefix ``battrace`` is declared below).
TYPE_FIELD: Final = "battrace:type"
ACTOR_FIELD: Final = "battrace:actor"
COUNTERPARTY_FIELD: Final = "battrace:counterparty"
REF_FIELD: Final = "battrace:ref"
BODY_FIELD: Final = "battrace:body"
NEXT_PAGE_FIELD: Final = "battrace:nextPageToken"


def battrace_context() -> dict[str, Any]:
    """The JSON-LD context entry declaring the battrace namespace and its typed terms."""
    return {
        "battrace": BATTRACE_NAMESPACE,
        BODY_FIELD: {"@type": "@json"},
        ACTOR_FIELD: {"@type": "@id"},
        COUNTERPARTY_FIELD: {"@type": "@id"},
    }


def document_context() -> list[Any]:
    """The ``@context`` of every document battrace writes: GS1's, then battrace's."""
    return [EPCIS_CONTEXT_URL, battrace_context()]


BATTERY_PREFIX: Final = "urn:battrace:battery:"
PARTY_PREFIX: Final = "urn:battrace:party:"
DIVISION_PREFIX: Final = "urn:battrace:division:"
EVENT_PREFIX: Final = "urn:battrace:event:"
MATERIAL_PREFIX: Final = "urn:battrace:material:"
TRANSFORMATION_PREFIX: Final = "urn:battrace:transformation:"


def battery_uri(code: str) -> str:
    return BATTERY_PREFIX + code


def party_uri(credit_code: str) -> str:
    return PARTY_PREFIX + credit_code


def division_uri(division: str) -> str:
    return DIVISION_PREFIX + division


def event_uri(event_id: int) -> str:
    return EVENT_PREFIX + str(event_id)


def material_uri(material: str) -> str:
    return MATERIAL_PREFIX + material


def transformation_uri(first_input: str) -> str:
    """The ``transformationID`` of the transformation that ends ``first_input``'s life.

    A battery is recycled once (nothing but a correction follows), so its code names the
    transformation.
    """
    return TRANSFORMATION_PREFIX + first_input


def _strip(value: Any, prefix: str, field: str, what: str) -> str:
    if not isinstance(value, str) or not value.startswith(prefix) or len(value) == len(prefix):
        raise ValidationError(
            f"{field}: {value!r} is not {what} ({prefix}<...>)", field=field, rule="uri_form"
        )
    return value[len(prefix) :]


def battery_code_of(uri: Any, field: str) -> str:
    """The battery code in a battery URI; raises ``ValidationError`` naming ``field`` if the
    URI is of another form (the code itself is checked when the event is reported)."""
    return _strip(uri, BATTERY_PREFIX, field, "a battrace battery EPC")


def credit_code_of(uri: Any, field: str) -> str:
    """The credit code in a party URI; raises ``ValidationError`` naming ``field`` otherwise."""
    return _strip(uri, PARTY_PREFIX, field, "a battrace party id")


def division_of(uri: Any, field: str) -> str:
    """The GB/T 2260 code in a division URI; raises ``ValidationError`` naming ``field``."""
    return _strip(uri, DIVISION_PREFIX, field, "a battrace division id")


def event_id_of(uri: str) -> int | None:
    """The battrace event id in ``urn:battrace:event:<id>``, or None for any other URI."""
    if not uri.startswith(EVENT_PREFIX):
        return None
    text = uri[len(EVENT_PREFIX) :]
    if not text.isascii() or not text.isdigit() or text.startswith("0"):
        return None
    return int(text)


def division_prefix(division: str) -> str:
    """The code prefix shared by a GB/T 2260 division and every division inside it.

    ``310000`` (a province) -> ``31``; ``310100`` (a prefecture) -> ``3101``; ``310115``
    (a county) -> ``310115``.
    """
    if len(division) == 6 and division.endswith("0000"):
        return division[:2]
    if len(division) == 6 and division.endswith("00"):
        return division[:4]
    return division
