from django.urls import path

from . import views

app_name = "inventory_api"

urlpatterns = [
    path("inventory/", views.InventoryView.as_view(), name="inventory"),
]
