"""What an event says once its corrections are applied: one rule for every reader.

A correction (``docs/lifecycle.md``) names the event it corrects and ``changes``: a new
``occurred_at``, a new ``place``, and keys of the ``body`` to replace (each key replaced as a
whole: a corrected ``outputs`` is the new ``outputs``). Corrections apply in the order they were
accepted; for the same field the latest wins. The history views show the effective values
beside the reported ones; the supervision rules judge the effective ones (a fact reported with
a wrong date and corrected is late or not by its corrected date).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Effective:
    """An event's fields after its corrections."""

    occurred_at: str
    place: str | None
    body: dict[str, Any]


def apply_corrections(
    occurred_at: str,
    place: str | None,
    body: Mapping[str, Any],
    corrections: Iterable[Mapping[str, Any]],
) -> Effective:
    """``occurred_at``, ``place`` and ``body`` of an event after ``corrections`` (the bodies of
    its correction events, in acceptance order). A ``changes`` that is not an object, or a
    ``changes.body`` that is not one, changes nothing (the domain refuses both on the way in)."""
    fixed = dict(body)
    for correction in corrections:
        changes = correction.get("changes")
        if not isinstance(changes, Mapping):
            continue
        patch = changes.get("body")
        if isinstance(patch, Mapping):
            fixed.update(patch)
        value = changes.get("occurred_at")
        if isinstance(value, str):
            occurred_at = value
        if "place" in changes:
            new_place = changes["place"]
            place = new_place if isinstance(new_place, str) or new_place is None else place
    return Effective(occurred_at, place, fixed)
