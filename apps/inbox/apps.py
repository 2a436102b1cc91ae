from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "apps.inbox"
    label = "inbox"
    verbose_name = "Exception inbox"
    default_auto_field = "django.db.models.BigAutoField"
