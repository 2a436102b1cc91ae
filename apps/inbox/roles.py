"""Groups and their permissions. Other apps extend ROLE_PERMISSIONS (app_label.codename) from
their AppConfig.ready(); `manage.py hub_roles` applies it idempotently.

"*" means every permission. Codenames whose app is not installed are skipped with a note, so an
app may name a permission of an app that lands later (e.g. orders.release_hold).
"""

from __future__ import annotations

SUPPORT = "Support"
INTEGRATION_ADMIN = "Integration admin"
APPROVER = "Approver"

ROLE_PERMISSIONS: dict[str, set[str]] = {
    SUPPORT: {
        "inbox.view_issue",
        "inbox.change_issue",
        "inbox.view_issuerow",
        "ledger.view_inboundevent",
        "core.view_jobrun",
    },
    INTEGRATION_ADMIN: {"*"},
    APPROVER: {
        "inbox.view_issue",
        "inbox.change_issue",
        "inbox.view_issuerow",
        "inbox.edit_payload",
        "ledger.view_inboundevent",
        "orders.release_hold",
    },
}

# Never granted to Support, whatever another app adds: channel credentials live there.
SUPPORT_FORBIDDEN_APPS = {"sales_channels"}
