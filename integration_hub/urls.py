"""Top-level URLs. Each app contributes its own urls module."""

from django.contrib import admin
from django.urls import include, path

from apps.sales_channels.api.base import ContractDocsView, ContractSchemaView

urlpatterns = [
    path("", include("apps.observability.urls")),
    path("admin/", admin.site.urls),
    path("ops/", include("apps.ops.urls")),
    path("", include("apps.catalog.urls")),
    path("", include("apps.webhooks.urls")),
    path("api/v1/", include("apps.orders.api.urls")),
    path("api/v1/", include("apps.sales_channels.api.urls")),
    path("api/v1/", include("apps.inventory.api.urls")),
    path("api/v1/", include("apps.events.api.urls")),
    path("api/v1/", include("apps.fulfillment.api.urls")),
    path("api/v1/", include("apps.returns.api.urls")),
    path("api/v1/", include("apps.finance.api.urls")),
    path("api/v1/", include("apps.pricing.api.urls")),
    path("api/schema/", ContractSchemaView.as_view(), name="schema"),
    path("api/docs/", ContractDocsView.as_view(url_name="schema"), name="api-docs"),
]

# The API's error body for a URL no route matches (and for a crash), the HTML pages elsewhere.
handler404 = "apps.sales_channels.api.base.json_not_found"
handler500 = "apps.sales_channels.api.base.json_server_error"
