from __future__ import annotations

from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "apps.fulfillment"
    label = "fulfillment"
    verbose_name = "Shipments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.inbox.roles import ROLE_PERMISSIONS, SUPPORT
        from apps.ledger import services as ledger

        from . import handlers, tasks  # noqa: F401  register the tasks and the periodic poll
        from .models import PickingHint, ShipmentSync

        # Roles (hub_roles): support staff see shipments, their lines, syncs and carrier
        # reports to answer "where is my parcel"; retrying a sync stays with the admins (and
        # with the inbox's Retry, which support has).
        ROLE_PERMISSIONS[SUPPORT] |= {
            "fulfillment.view_shipment",
            "fulfillment.view_shipmentline",
            "fulfillment.view_shipmentsync",
            "fulfillment.view_shipmentreport",
        }
        # Work rows the ledger's sweeper re-rings when due or when their worker died.
        ledger.register_work_kind(ShipmentSync, "fulfillment.sync", kwarg="sync_id")
        ledger.register_work_kind(PickingHint, "fulfillment.read_pickings", kwarg="hint_id")
        # Channel fulfillments the hub did not make: echo or "fulfilled outside Odoo".
        handlers.register(ledger.register_event_handler)
