from django.urls import path

from . import views

urlpatterns = [
    path(
        "webhooks/<str:kind>/<slug:channel_code>/",
        views.webhook_receive,
        name="webhook-receive",
    ),
]
