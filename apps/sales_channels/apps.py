from django.apps import AppConfig


class SalesChannelsConfig(AppConfig):
    name = "apps.sales_channels"
    label = "sales_channels"
    verbose_name = "Sales channels"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (clears the ingress cache on changes)
