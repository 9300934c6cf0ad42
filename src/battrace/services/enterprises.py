"""Registering enterprises and keeping their whitelist history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Protocol

from battrace.codes import validate_credit_code, validate_division_code
from battrace.domain.entities import Enterprise, EnterpriseKey, WhitelistChange
from battrace.domain.quantities import utc_now
from battrace.domain.roles import CODING_ROLES, parse_roles
from battrace.errors import ConflictError, NotFoundError, ValidationError
from battrace.store.base import Store
from battrace.store.rows import today_in_china

_MANUFACTURER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


class FirmRecord(Protocol):
    """An enterprise as a demo or a simulation describes it."""

    @property
    def credit_code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def roles(self) -> tuple[str, ...]: ...
    @property
    def division(self) -> str: ...
    @property
    def manufacturer_code(self) -> str | None: ...


def register_firm(
    store: Store, firm: FirmRecord, whitelisted_since: date | None = None
) -> Enterprise:
    """:func:`register_enterprise` for a described firm."""
    return register_enterprise(
        store,
        credit_code=firm.credit_code,
        name=firm.name,
        roles=list(firm.roles),
        division=firm.division,
        manufacturer_code=firm.manufacturer_code,
        whitelisted_since=whitelisted_since,
    )


def register_enterprise(
    store: Store,
    *,
    credit_code: str,
    name: str,
    roles: list[str] | str,
    division: str,
    manufacturer_code: str | None = None,
    whitelisted_since: date | None = None,
    now: Callable[[], datetime] = utc_now,
) -> Enterprise:
    """Register a firm or regulator.

    ``credit_code`` is its unified social credit code (GB 32100, check character verified),
    ``division`` a GB/T 2260 code, ``manufacturer_code`` the 3-character code filed for
    GB/T 34014 (required for battery makers and echelon firms, refused for others). With
    ``whitelisted_since`` the firm enters the whitelist from that date. Raises
    ``ValidationError`` naming the field, or ``ConflictError`` when the credit code or the
    manufacturer code is already registered.
    """
    enterprise_id = validate_credit_code(credit_code, field="credit_code")
    clean_name = name.strip()
    if not clean_name or len(clean_name) > 200:
        raise ValidationError("name: must be 1 to 200 characters", field="name", rule="length")
    role_set = parse_roles(roles)
    place = validate_division_code(division, field="division")
    mcode = manufacturer_code.strip().upper() if manufacturer_code else None
    if mcode is not None:
        if len(mcode) != 3 or not set(mcode) <= _MANUFACTURER_CHARS:
            raise ValidationError(
                "manufacturer_code: must be 3 characters A-Z or 0-9 (GB/T 34014 positions 1-3)",
                field="manufacturer_code",
                rule="format",
            )
        if not role_set & CODING_ROLES:
            raise ValidationError(
                "manufacturer_code: only battery makers and echelon firms file one",
                field="manufacturer_code",
                rule="coding_role",
            )
    elif role_set & CODING_ROLES:
        raise ValidationError(
            "manufacturer_code: battery makers and echelon firms must file one",
            field="manufacturer_code",
            rule="required",
        )
    registered_at = now()
    enterprise = Enterprise(
        id=enterprise_id,
        name=clean_name,
        roles=role_set,
        division=place.code,
        manufacturer_code=mcode,
        whitelisted=False,
        registered_at=registered_at,
    )
    with store.write() as tx:
        if store.enterprise(enterprise_id) is not None:
            raise ConflictError(
                f"credit_code: enterprise {enterprise_id} is already registered",
                field="credit_code",
                rule="registered_once",
            )
        if mcode is not None and store.enterprise_by_manufacturer_code(mcode) is not None:
            raise ConflictError(
                f"manufacturer_code: {mcode} is already filed by another enterprise",
                field="manufacturer_code",
                rule="unique",
            )
        tx.insert_enterprise(enterprise)
        if whitelisted_since is not None:
            change = WhitelistChange(
                enterprise_id,
                True,
                whitelisted_since,
                None,
                "listed at registration",
                registered_at,
            )
            tx.add_whitelist_change(change)
    found = store.enterprise(enterprise_id)
    assert found is not None
    return found


def change_whitelist(
    store: Store,
    enterprise_id: str,
    *,
    listed: bool,
    effective_date: date,
    batch: str | None = None,
    note: str | None = None,
    now: Callable[[], datetime] = utc_now,
) -> WhitelistChange:
    """Record that a firm enters (``listed``) or leaves the whitelist from ``effective_date``.

    History is kept: nothing is overwritten. Raises ``NotFoundError`` for an unknown firm.
    """
    recorded_at = now()
    change = WhitelistChange(enterprise_id, listed, effective_date, batch, note, recorded_at)
    with store.write() as tx:
        if store.enterprise(enterprise_id) is None:
            raise NotFoundError(
                f"enterprise {enterprise_id} is not registered",
                field="enterprise",
                rule="registered",
            )
        tx.add_whitelist_change(change)
    return change


class RegistryCache:
    """Enterprises (with today's whitelist status) and their signing keys, kept for a writer
    that checks thousands of reports a second (the API's group-commit writer), which would
    otherwise read both again for every distinct reporter of every group.

    :meth:`refresh`, once per transaction, forgets everything when the day (in China) has
    changed or :meth:`Store.registry_version` has moved (a whitelist change, a key registered
    or revoked, committed by any process), so the checks see what they would without the
    cache. Enterprises themselves never change once registered; unknown ones are not kept
    (a registration is seen at once). At most ``size`` of each are kept (then all are
    forgotten)."""

    def __init__(self, size: int = 10_000, today: Callable[[], str] = today_in_china) -> None:
        self.size = size
        self._today = today
        self._version: tuple[str, tuple[int, int, int]] | None = None
        self._enterprises: dict[str, Enterprise] = {}
        self._keys: dict[str, list[EnterpriseKey]] = {}

    def refresh(self, store: Store) -> None:
        """Forget what is kept if the registry or the day changed since the last refresh."""
        version = (self._today(), store.registry_version())
        if version != self._version:
            self._enterprises.clear()
            self._keys.clear()
            self._version = version

    def enterprise(self, store: Store, enterprise_id: str) -> Enterprise | None:
        """As ``store.enterprise(enterprise_id)``."""
        found = self._enterprises.get(enterprise_id)
        if found is None:
            found = store.enterprise(enterprise_id)
            if found is not None:
                if len(self._enterprises) >= self.size:
                    self._enterprises.clear()
                self._enterprises[enterprise_id] = found
        return found

    def keys_of(self, store: Store, enterprise_id: str) -> list[EnterpriseKey]:
        """As ``store.keys_of(enterprise_id)``."""
        found = self._keys.get(enterprise_id)
        if found is None:
            found = store.keys_of(enterprise_id)
            if len(self._keys) >= self.size:
                self._keys.clear()
            self._keys[enterprise_id] = found
        return found


def whitelisted_on(history: list[WhitelistChange], day: date) -> bool:
    """Whether the whitelist history says the firm was listed on ``day``."""
    status = False
    for change in sorted(history, key=lambda c: (c.effective_date, c.recorded_at)):
        if change.effective_date <= day:
            status = change.listed
    return status


def enterprise_page(
    store: Store,
    *,
    role: str | None = None,
    province: str | None = None,
    only: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """A page of enterprises by credit code: ``{"items": [...], "next": cursor or None}``.

    ``only`` keeps one enterprise (an enterprise listing itself); ``after`` is the ``next``
    of the previous page. Raises ``ValidationError`` for an unknown role, a malformed
    province or a limit outside 1..1000.
    """
    if not 1 <= limit <= 1000:
        raise ValidationError("limit: must be between 1 and 1000", field="limit", rule="range")
    wanted_role = next(iter(parse_roles([role]))).value if role is not None else None
    if province is not None:
        province = validate_division_code(province, field="province").province_code
    found = [
        e
        for e in store.list_enterprises(role=wanted_role, province=province)
        if (only is None or e.id == only) and (after is None or e.id > after)
    ]
    items = found[:limit]
    return {
        "items": [e.to_dict() for e in items],
        "next": items[-1].id if len(found) > limit else None,
    }


def enterprise_view(store: Store, enterprise_id: str) -> dict[str, Any]:
    """An enterprise with its whitelist history, for ``enterprise show``."""
    enterprise = store.enterprise(enterprise_id)
    if enterprise is None:
        raise NotFoundError(
            f"enterprise {enterprise_id} is not registered", field="enterprise", rule="registered"
        )
    data = enterprise.to_dict()
    data["whitelist_history"] = [c.to_dict() for c in store.whitelist_history(enterprise_id)]
    return data
