"""Settings for bench/webhook_bench.py only: production settings plus the baseline routes."""

from integration_hub.settings import *  # noqa: F403

ROOT_URLCONF = "bench.webhook_urls"
