from __future__ import annotations

import logging
from typing import Any

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class InventoryConfig(AppConfig):
    name = "apps.inventory"
    label = "inventory"
    verbose_name = "Inventory"

    def ready(self) -> None:
        from django.apps import apps
        from django.db.models.signals import post_save

        from apps.orders.models import ChannelOrder, OrderTransition

        from . import tasks  # noqa: F401  register the tasks and periodic jobs

        # An order accepted (created) or moved (every transition writes a history row, even
        # though the state itself changes by a conditional UPDATE): its SKUs' ATP changed.
        post_save.connect(_order_saved, sender=ChannelOrder, dispatch_uid="inventory.order_saved")
        post_save.connect(
            _transition_saved, sender=OrderTransition, dispatch_uid="inventory.order_moved"
        )
        # Roles (hub_roles): support staff see stock per SKU and reconciliation runs, and may
        # re-publish a SKU (an audited admin action); they never see channel credentials.
        from apps.inbox.roles import ROLE_PERMISSIONS, SUPPORT

        from . import (
            publishers,  # noqa: F401
            reconcile,  # noqa: F401  the reconcile task and its nightly job
        )

        ROLE_PERMISSIONS[SUPPORT] |= {
            "inventory.view_skustock",
            "inventory.view_reconciliationrun",
        }

        if apps.is_installed("apps.ledger"):
            from apps.ledger import services as ledger

            from . import handlers

            handlers.register(ledger.register_event_handler)


def _order_saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if created:
        from .detection import order_touched

        order_touched(order_id=instance.pk)


# Moves among these change nothing the hub publishes: the order already counts in Odoo's own
# stock (on hand and reserved drop together when it ships), and pending orders are only those
# not in Odoo yet. Without this, every shipment re-published its SKUs on every channel.
_SHIPPING_STATES = frozenset({"in_odoo", "partially_shipped", "shipped"})


def _transition_saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if not created:
        return
    frm, to = instance.from_state, instance.to_state
    if frm == to or (frm in _SHIPPING_STATES and to in _SHIPPING_STATES):
        return  # a history note, or a shipment: the available stock is unchanged
    from .detection import order_touched

    order_touched(order_id=instance.order_id)
