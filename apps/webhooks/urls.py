from django.urls import path

from . import adobe, odoo, views

urlpatterns = [
    # Before the generic route, which would take "odoo" for a channel kind.
    path("webhooks/odoo/<str:token>/", odoo.odoo_stock_hint, name="webhook-odoo-stock"),
    path(
        "webhooks/odoo/<str:token>/pickings/",
        odoo.odoo_picking_hint,
        name="webhook-odoo-pickings",
    ),
    # Adobe I/O Events (the generic receiver, with its own OpenAPI declaration).
    path(
        "webhooks/magento/<slug:channel_code>/",
        adobe.AdobeEventsView.as_view(),
        name="webhook-magento",
    ),
    path(
        "webhooks/<str:kind>/<slug:channel_code>/",
        views.webhook_receive,
        name="webhook-receive",
    ),
]
