from django.urls import path

from . import odoo, views

urlpatterns = [
    # Before the generic route, which would take "odoo" for a channel kind.
    path("webhooks/odoo/<str:token>/", odoo.odoo_stock_hint, name="webhook-odoo-stock"),
    path(
        "webhooks/odoo/<str:token>/pickings/",
        odoo.odoo_picking_hint,
        name="webhook-odoo-pickings",
    ),
    path(
        "webhooks/<str:kind>/<slug:channel_code>/",
        views.webhook_receive,
        name="webhook-receive",
    ),
]
