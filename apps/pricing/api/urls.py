from django.urls import path

from . import views

app_name = "pricing_api"

urlpatterns = [
    path("prices/", views.PricesView.as_view(), name="prices"),
]
