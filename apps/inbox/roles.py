"""Groups and their permissions. Other apps extend ROLE_PERMISSIONS (app_label.codename) from
their AppConfig.ready(); `manage.py hub_roles` applies it idempotently.

"*" means every permission but the Approver's decisions (APPROVER_ONLY) and the apps no role
is given (ADMIN_FORBIDDEN_APPS). Codenames whose app is not installed are skipped with a note, so
an app may name a permission of an app that lands later (e.g. orders.release_hold).

Least privilege (docs/security.md): an Integration admin configures the hub; it does not decide
what the four-eyes rule gives an Approver (releasing a hold or a payout, approving a refund,
editing a payload, downloading a person's data), and it does not manage users, since whoever
can change a user can make anyone a superuser. Users and groups stay with superusers.
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

# The Approver's decisions: never part of "*". Apps add theirs in AppConfig.ready().
APPROVER_ONLY: set[str] = {"inbox.edit_payload", "orders.release_hold"}

# Users, groups, sessions, content types and Django's admin log: no role, superusers only.
ADMIN_FORBIDDEN_APPS = {"auth", "admin", "contenttypes", "sessions"}
