from django.apps import AppConfig


class SalesChannelsConfig(AppConfig):
    name = "apps.sales_channels"
    label = "sales_channels"
    verbose_name = "Sales channels"

    def ready(self) -> None:
        from . import openapi, signals  # noqa: F401  (OpenAPI auth scheme; ingress cache)
