from django.urls import path

from . import views

app_name = "finance_api"

urlpatterns = [
    path(
        "orders/<int:order_id>/invoices/",
        views.OrderInvoicesView.as_view(),
        name="order-invoices",
    ),
]
