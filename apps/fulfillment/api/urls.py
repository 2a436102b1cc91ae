from django.urls import path

from . import views

app_name = "fulfillment_api"

urlpatterns = [
    path(
        "orders/<int:order_id>/shipments/",
        views.OrderShipmentsView.as_view(),
        name="order-shipments",
    ),
    path(
        "shipments/<int:shipment_id>/events/",
        views.ShipmentEventsView.as_view(),
        name="shipment-events",
    ),
]
