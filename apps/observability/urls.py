from django.urls import path

from . import ops, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    path("ops/pipeline-check", ops.pipeline_check, name="pipeline-check"),
    path(
        "ops/pipeline-check/<str:correlation_id>",
        ops.pipeline_check_status,
        name="pipeline-check-status",
    ),
]
