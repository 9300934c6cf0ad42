"""Enterprise roles and which role may report which event type.

The roles follow the parties named in the 2018 *Interim Provisions on Traceability Management
of NEV Power Batteries* (新能源汽车动力蓄电池回收利用溯源管理暂行规定) and the 2026 *Interim
Measures for the Recycling and Comprehensive Utilization of Waste NEV Power Batteries*.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A role an enterprise holds; one enterprise may hold several."""

    BATTERY_MAKER = "battery_maker"
    VEHICLE_MAKER = "vehicle_maker"
    IMPORTER = "importer"
    DEALER = "dealer"
    REPAIRER = "repairer"
    SWAP_OPERATOR = "swap_operator"
    COLLECTION_OUTLET = "collection_outlet"
    DISMANTLER = "dismantler"
    ECHELON_FIRM = "echelon_firm"
    RECYCLER = "recycler"
    REGULATOR = "regulator"


ROLE_NAMES_ZH: dict[Role, str] = {
    Role.BATTERY_MAKER: "电池生产企业",
    Role.VEHICLE_MAKER: "汽车生产企业",
    Role.IMPORTER: "进口商",
    Role.DEALER: "销售商",
    Role.REPAIRER: "维修企业",
    Role.SWAP_OPERATOR: "换电运营企业",
    Role.COLLECTION_OUTLET: "回收服务网点",
    Role.DISMANTLER: "报废机动车回收拆解企业",
    Role.ECHELON_FIRM: "梯次利用企业",
    Role.RECYCLER: "再生利用企业",
    Role.REGULATOR: "监管部门",
}

# Roles that file a 3-character manufacturer code (GB/T 34014 positions 1-3): battery makers
# code what they produce, echelon firms re-code their second-life products.
CODING_ROLES = frozenset({Role.BATTERY_MAKER, Role.ECHELON_FIRM})

# Roles that must be on the whitelist (行业规范条件 list) to receive waste batteries.
WHITELIST_ROLES = frozenset({Role.ECHELON_FIRM, Role.RECYCLER})


def parse_roles(values: list[str] | tuple[str, ...] | str) -> frozenset[Role]:
    """Turn role names (a list, or one comma-separated string) into a set of :class:`Role`.

    Raises ``battrace.errors.ValidationError`` (field ``roles``) naming an unknown role or an
    empty list.
    """
    from battrace.errors import ValidationError

    items = values.split(",") if isinstance(values, str) else list(values)
    roles: set[Role] = set()
    for raw in items:
        name = raw.strip()
        if not name:
            continue
        try:
            roles.add(Role(name))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValidationError(
                f"roles: unknown role {name!r} (known: {known})", field="roles", rule="known_role"
            ) from None
    if not roles:
        raise ValidationError(
            "roles: at least one role is required", field="roles", rule="required"
        )
    return frozenset(roles)
