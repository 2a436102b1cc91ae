"""Model access rights (a much simplified ir.model.access).

Groups are identified by a stable key stored on res.groups records (``_key``). The table
below only distinguishes what an integration may run into: portal users, internal users
without app rights, and the seeded ``integration`` user that cannot manage users.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ACCESS_ERROR, OdooError
from .schema import REGISTRY

if TYPE_CHECKING:
    from .orm import Env
    from .store import Store

GROUPS: list[tuple[str, str]] = [
    ("internal", "User types / Internal User"),
    ("system", "Administration / Settings"),
    ("erp_manager", "Administration / Access Rights"),
    ("partner_manager", "Extra Rights / Contact Creation"),
    ("sale_user", "Sales / User: Own Documents Only"),
    ("sale_manager", "Sales / Administrator"),
    ("stock_user", "Inventory / User"),
    ("stock_manager", "Inventory / Administrator"),
    ("account_invoice", "Invoicing / Billing"),
    ("account_manager", "Invoicing / Billing Administrator"),
    ("portal", "User types / Portal"),
    ("account_user", "Technical / Show Full Accounting Features"),
]
# group key -> the xml id the records carry in ir.model.data.
GROUP_XML_IDS: dict[str, str] = {
    "internal": "base.group_user",
    "system": "base.group_system",
    "erp_manager": "base.group_erp_manager",
    "partner_manager": "base.group_partner_manager",
    "sale_user": "sales_team.group_sale_salesman",
    "sale_manager": "sales_team.group_sale_manager",
    "stock_user": "stock.group_stock_user",
    "stock_manager": "stock.group_stock_manager",
    "account_invoice": "account.group_account_invoice",
    "account_manager": "account.group_account_manager",
    "portal": "base.group_portal",
    "account_user": "account.group_account_user",
}
# Models whose rights no group implies, not even Settings: Community's admin cannot create
# bank statement lines without "Show Full Accounting Features" (transcript 15 #27).
STRICT_MODELS = {"account.bank.statement.line"}

Rule = dict[str, list[str]]
_BUSINESS = ["sale_user", "stock_user", "account_invoice"]
_MASTER_WRITE = ["system", "sale_manager", "stock_manager", "account_manager"]

RULES: dict[str, Rule] = {
    "res.partner": {
        "read": ["internal", "portal"],
        "write": ["partner_manager"],
        "create": ["partner_manager"],
        "unlink": ["partner_manager"],
    },
    "res.users": {
        "read": ["internal"],
        "write": ["erp_manager"],
        "create": ["erp_manager"],
        "unlink": ["erp_manager"],
    },
    "res.groups": {
        "read": ["internal"],
        "write": ["erp_manager"],
        "create": ["erp_manager"],
        "unlink": ["erp_manager"],
    },
    "res.users.apikeys": {
        "read": ["internal"],
        "write": ["internal"],
        "create": ["internal"],
        "unlink": ["internal"],
    },
    "account.bank.statement.line": {
        "read": ["account_invoice", "account_user"],
        "write": ["account_user"],
        "create": ["account_user"],
        "unlink": ["account_user"],
    },
    "res.users.apikeys.description": {
        "read": ["internal"],
        "write": ["internal"],
        "create": ["internal"],
        "unlink": ["internal"],
    },
}
_PREFIX_RULES: list[tuple[str, Rule]] = [
    (
        "stock.quant",
        {
            "read": ["stock_user", "internal"],
            "write": ["stock_user"],
            "create": ["stock_user"],
            "unlink": ["stock_manager"],
        },
    ),
    (
        "stock.",
        {
            "read": [
                "stock_manager",
                "stock_user",
                "account_invoice",
                "sale_manager",
                "sale_user",
                "portal",
            ],
            "write": ["stock_user", "sale_user"],
            "create": ["stock_user", "sale_user"],
            "unlink": ["stock_manager", "stock_user"],
        },
    ),
    (
        "sale.",
        {
            "read": ["stock_user", "account_invoice", "sale_manager", "sale_user", "portal"],
            "write": ["sale_user"],
            "create": ["sale_user"],
            "unlink": ["sale_manager"],
        },
    ),
    (
        "account.",
        {
            "read": ["account_invoice", "account_user", "sale_user", "stock_user"],
            "write": ["account_invoice", "account_user", "sale_user"],
            "create": ["account_invoice", "account_user", "sale_user"],
            "unlink": ["account_manager"],
        },
    ),
    (
        "delivery.",
        {
            "read": ["internal"],
            "write": _MASTER_WRITE,
            "create": _MASTER_WRITE,
            "unlink": _MASTER_WRITE,
        },
    ),
    (
        "product.",
        {
            "read": [
                "system",
                "stock_manager",
                "stock_user",
                "account_manager",
                "sale_manager",
                "sale_user",
                "internal",
            ],
            "write": _MASTER_WRITE,
            "create": _MASTER_WRITE,
            "unlink": _MASTER_WRITE,
        },
    ),
    (
        "ir.",
        {"read": ["internal"], "write": ["system"], "create": ["system"], "unlink": ["system"]},
    ),
    (
        "base.automation",
        {"read": ["system"], "write": ["system"], "create": ["system"], "unlink": ["system"]},
    ),
]
_DEFAULT: Rule = {
    "read": ["internal"],
    "write": _MASTER_WRITE,
    "create": _MASTER_WRITE,
    "unlink": _MASTER_WRITE,
}
_VERBS = {"read": "access", "write": "modify", "create": "create", "unlink": "delete"}


def rule_for(model: str) -> Rule:
    if model in RULES:
        return RULES[model]
    for prefix, rule in _PREFIX_RULES:
        if model.startswith(prefix):
            return rule
    return _DEFAULT


def user_groups(env: Env) -> set[str]:
    user = env.rec("res.users", env.uid)
    keys: set[str] = set()
    if user is not None:
        for gid in user.get("groups_id") or []:
            group = env.rec("res.groups", gid)
            if group is not None and group.get("_key"):
                keys.add(group["_key"])
    return keys


def check_access(env: Env, model: str, operation: str) -> None:
    groups = user_groups(env)
    # Settings administrators reach every model; managing users also needs Access Rights.
    if (
        "system" in groups
        and model not in STRICT_MODELS
        and (
            "erp_manager" in groups
            or operation == "read"
            or model not in ("res.users", "res.groups")
        )
    ):
        return
    allowed = rule_for(model).get(operation, [])
    if groups & set(allowed):
        return
    names = dict(GROUPS)
    labels = sorted(names[g].replace(" / ", "/") for g in set(allowed) if g in names)
    desc = REGISTRY[model].description
    raise OdooError(
        ACCESS_ERROR,
        f"You are not allowed to {_VERBS[operation]} '{desc}' ({model}) records.\n\n"
        "This operation is allowed for the following groups:\n"
        + "".join(f"\t- {label}\n" for label in labels)
        + "\nContact your administrator to request access if necessary.",
    )


def key_uid(store: Store, key: str) -> int | None:
    """The active user an API key belongs to (JSON-2's bearer authentication)."""
    for k in store.tables["res.users.apikeys"].values():
        if key and k.get("_key") == key:
            user = store.tables["res.users"].get(k.get("user_id"))
            if user is not None and user.get("active", True):
                return int(k["user_id"])
    return None
