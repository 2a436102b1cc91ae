"""Automation rules that POST to the hub: the hints that wake a poll early (stock, shipments).

Odoo calls: ir.model: search_read; ir.model.fields: search_read; base.automation: search_read,
create, write; ir.actions.server: read, write.

Odoo 17 has an outgoing webhook server action (``state: "webhook"``, transcript 12): an
automation rule on a model runs it when one of its trigger fields changes on a record that
matches its ``filter_domain``. The body is ``record.read(fields, load=None)`` plus ``_action``,
``_id`` and ``_model``, JSON with sorted keys: many2one fields as bare ids, datetimes through
``str()`` so ``write_date`` carries microseconds ("2026-12-05 16:17:14.405856", unlike
``read`` over RPC). It is sent synchronously inside the transaction, before commit, once, with
a 1 s timeout and no retry: a hint, never the record of truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import OdooConfigurationError
from .base import GatewayBase, _unique


class AutomationGateway(GatewayBase):
    """Idempotent installation of "POST this record to the hub" automation rules."""

    def webhook_rule_ensure(
        self,
        *,
        name: str,
        url: str,
        model: str,
        trigger_fields: Sequence[str],
        sent_fields: Sequence[str],
        filter_domain: str | None = None,
        module_hint: str = "",
    ) -> tuple[int, bool]:
        """Install (or find by ``name``) an on-save rule on ``model`` that POSTs to ``url``.

        Idempotent: a rule with the same name on the same model is reused (archived ones
        included); its webhook URL, ``filter_domain`` and ``active`` flag are brought up to date
        with one write each only when they differ. Returns (automation id, created).
        """
        models = self.client.call(
            "ir.model",
            "search_read",
            [[["model", "in", [model, "base.automation"]]]],
            {"fields": ["model"]},
        )
        by_model = {r["model"]: int(r["id"]) for r in models}
        if "base.automation" not in by_model:
            raise OdooConfigurationError(
                "Odoo has no automation rules: install the module base_automation "
                "(Apps → Automation Rules)",
                model="base.automation",
                module="base_automation",
            )
        if model not in by_model:
            raise OdooConfigurationError(
                f"Odoo has no model {model}"
                + (f" (is {module_hint} installed?)" if module_hint else ""),
                model=model,
            )
        model_id = by_model[model]
        wanted = _unique([*trigger_fields, *sent_fields])
        rows = self.client.call(
            "ir.model.fields",
            "search_read",
            [[["model", "=", model], ["name", "in", wanted]]],
            {"fields": ["name"]},
        )
        field_ids = {r["name"]: int(r["id"]) for r in rows}
        missing = [f for f in wanted if f not in field_ids]
        if missing:
            raise OdooConfigurationError(
                f"{model} lacks fields {', '.join(missing)}"
                + (f" (install {module_hint})" if module_hint else ""),
                model=model,
                fields=missing,
            )
        found = self.client.call(
            "base.automation",
            "search_read",
            [[["name", "=", name], ["model_id", "=", model_id]]],
            {
                "fields": ["action_server_ids", "active", "filter_domain"],
                "order": "id",
                "context": {"active_test": False},
            },
        )
        if found:
            rule = found[0]
            action_ids = [int(a) for a in rule.get("action_server_ids") or []]
            if action_ids:
                actions = self.client.call(
                    "ir.actions.server", "read", [action_ids, ["webhook_url"]]
                )
                stale = [a["id"] for a in actions if a.get("webhook_url") != url]
                if stale:
                    self.client.call("ir.actions.server", "write", [stale, {"webhook_url": url}])
            vals: dict[str, Any] = {}
            if not rule.get("active"):
                vals["active"] = True
            if filter_domain is not None and (rule.get("filter_domain") or "") != filter_domain:
                vals["filter_domain"] = filter_domain
            if vals:
                self.client.call("base.automation", "write", [[rule["id"]], vals])
            return int(rule["id"]), False
        rule_vals: dict[str, Any] = {
            "name": name,
            "model_id": model_id,
            "trigger": "on_create_or_write",
            "trigger_field_ids": [[6, 0, [field_ids[f] for f in trigger_fields]]],
            "action_server_ids": [
                [
                    0,
                    0,
                    {
                        "name": f"{name}: POST to the hub",
                        "model_id": model_id,
                        "state": "webhook",
                        "webhook_url": url,
                        "webhook_field_ids": [[6, 0, [field_ids[f] for f in sent_fields]]],
                    },
                ]
            ],
        }
        if filter_domain:
            # A stored compute in 17 that only fills it for single-field "on_state_set"-like
            # triggers; given on create it is kept as written (checked on a real 17).
            rule_vals["filter_domain"] = filter_domain
        rule_id = self.client.call("base.automation", "create", [rule_vals])
        return int(rule_id), True
