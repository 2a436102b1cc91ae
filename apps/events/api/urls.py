from django.urls import path

from . import views

app_name = "events_api"

urlpatterns = [
    path("events/types/", views.EventTypeListView.as_view(), name="event-type-list"),
    path("events/types/<str:name>/", views.EventTypeDetailView.as_view(), name="event-type"),
    path("events/", views.EventListView.as_view(), name="event-list"),
    path("webhook-endpoints/", views.EndpointListView.as_view(), name="endpoint-list"),
    path(
        "webhook-endpoints/<str:endpoint_id>/",
        views.EndpointDetailView.as_view(),
        name="endpoint-detail",
    ),
    path(
        "webhook-endpoints/<str:endpoint_id>/rotate-secret/",
        views.EndpointRotateView.as_view(),
        name="endpoint-rotate",
    ),
    path(
        "webhook-endpoints/<str:endpoint_id>/recover/",
        views.EndpointRecoverView.as_view(),
        name="endpoint-recover",
    ),
]
