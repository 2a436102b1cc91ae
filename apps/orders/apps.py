from __future__ import annotations

import logging
from typing import Any

from django.apps import AppConfig
from django.db import transaction

logger = logging.getLogger(__name__)


class OrdersConfig(AppConfig):
    name = "apps.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from apps.mappings.models import Binding
        from apps.odoo.preflight import register_needs_provider

        from . import tasks  # noqa: F401  register the tasks and periodic jobs
        from .preflight import odoo_setup_needs

        register_needs_provider(odoo_setup_needs)

        post_save.connect(_binding_saved, sender=Binding, dispatch_uid="orders.release_on_binding")
        # Roles (hub_roles): support staff see orders and their history to triage; an Approver
        # sees them to release holds (the release itself needs orders.release_hold).
        from apps.inbox.roles import APPROVER, ROLE_PERMISSIONS, SUPPORT

        seeing = {
            "orders.view_channelorder",
            "orders.view_orderline",
            "orders.view_ordertransition",
        }
        ROLE_PERMISSIONS[SUPPORT] |= seeing
        ROLE_PERMISSIONS[APPROVER] |= seeing
        # The ledger may be absent: without it the API still works, webhooks do not.
        from django.apps import apps

        if not apps.is_installed("apps.ledger"):
            logger.debug("apps.ledger not installed: order webhooks are not handled")
            return
        from apps.ledger import services as ledger

        from . import handlers

        # ChannelOrder is not a ledger WorkRow (its state is the business state and the push
        # works in batches), so the ledger's sweeper does not re-ring it: orders.push_sweep does.
        handlers.register(ledger.register_event_handler)


def _binding_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A product binding appeared or changed: release the orders held for its SKU.

    After commit (the binding must be visible) and in-process: the release only writes our
    rows and rings the push, so it needs neither Odoo nor the broker.
    """
    if instance.kind != "product":
        return
    from .services import orders_release_for_sku

    code = instance.channel.code
    skus = {s for s in (instance.external_code, instance.external_id) if s}

    def release() -> None:
        for sku in skus:
            orders_release_for_sku(channel_code=code, sku=sku)

    transaction.on_commit(release)
