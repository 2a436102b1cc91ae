"""Keep the per-process ingress cache honest: any channel or secret change clears it."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Channel, ChannelSecret
from .selectors import channel_ingress_cache_clear


@receiver([post_save, post_delete], sender=Channel)
@receiver([post_save, post_delete], sender=ChannelSecret)
def _channel_changed(sender: Any, **kwargs: Any) -> None:
    channel_ingress_cache_clear()
