import shlex
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management.base import BaseCommand


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


class Command(BaseCommand):
    help = "Print the resolved runtime settings as shell exports (used by `make run`)."

    def handle(self, *args: Any, **options: Any) -> None:
        db = settings.DATABASES["default"]
        sandbox_default = f"http://127.0.0.1:{settings.HUB_SANDBOX_PORT}" == settings.ODOO_URL
        values = {
            "HUB_WEB_PORT": settings.HUB_WEB_PORT,
            "HUB_FLOWER_PORT": settings.HUB_FLOWER_PORT,
            "HUB_SANDBOX_PORT": settings.HUB_SANDBOX_PORT,
            "HUB_VAR_DIR": settings.VAR_DIR,
            "FLOWER_BASIC_AUTH": settings.FLOWER_BASIC_AUTH,
            "ODOO_URL": settings.ODOO_URL,
            "HUB_START_SANDBOX": "1" if sandbox_default else "0",
            "HUB_DATABASE_DISPLAY": f"{db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}",
            "HUB_BROKER_DISPLAY": _redact(settings.CELERY_BROKER_URL),
        }
        for key, value in values.items():
            self.stdout.write(f"export {key}={shlex.quote(str(value))}")
