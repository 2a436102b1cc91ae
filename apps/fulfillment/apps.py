from __future__ import annotations

from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "apps.fulfillment"
    label = "fulfillment"
    verbose_name = "Shipments"
    default_auto_field = "django.db.models.BigAutoField"
