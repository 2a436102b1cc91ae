"""Integration Hub project package: settings, URLs and the Celery app."""

import os
from pathlib import Path

# Metrics are written by several processes (web workers, Celery workers, beat) and read by the web
# process that serves /metrics, so prometheus_client must run in multiprocess mode. It picks its
# storage when first imported, hence this runs before anything else imports it.
_BASE_DIR = Path(__file__).resolve().parent.parent
os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    str(Path(os.environ.get("HUB_VAR_DIR", _BASE_DIR / "var")) / "metrics"),
)
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

from .celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
