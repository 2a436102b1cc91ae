"""Ledger handlers of the customers app, registered in CustomersConfig.ready.

- consumer accounts: see ``consumer.py``;
- Shopify's compliance topics ``customers/redact``, ``shop/redact``, ``customers/data_request``:
  see ``privacy.py``. One ``PrivacyRequest`` per delivery (keyed on the ledger event), so a
  retried event resumes where it stopped (the hub's erasure is done once; Odoo's step repeats
  until it went through).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from apps.core.errors import PermanentError
from apps.sales_channels.models import Channel

from . import consumer, privacy
from .models import PrivacyRequest

PRIVACY_TOPICS = ("customers/redact", "shop/redact", "customers/data_request")


def _body(event: Any) -> dict[str, Any]:
    try:
        data = json.loads(bytes(event.body))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PermanentError(f"privacy webhook body is not JSON: {exc}", field="body") from exc
    return data if isinstance(data, dict) else {}


def privacy_event_handle(event: Any) -> dict[str, Any]:
    channel = Channel.objects.filter(code=event.channel_code).first()
    if channel is None:
        return {"skipped": "unknown channel"}
    request, _ = PrivacyRequest.objects.get_or_create(
        channel_code=channel.code,
        kind=event.topic,
        request_id=f"event:{event.pk}",
        defaults={"requested_by": f"{channel.kind} webhook"},
    )
    if event.topic == "shop/redact":
        privacy.shop_redact(channel=channel, request=request)
        return {"privacy_request": request.pk, "state": request.state}
    body = _body(event)
    subject = privacy.subject_from_shopify(channel.code, body)
    if not request.customer_external_id and subject.customer_ids:
        request.customer_external_id = sorted(subject.customer_ids)[0]
        request.save(update_fields=["customer_external_id"])
    if event.topic == "customers/redact":
        if request.counts.get("hub_done"):
            privacy._odoo_settle(channel=channel, request=request)
        else:
            privacy.redact(channel=channel, subject=subject, request=request)
    else:
        privacy.data_export(channel=channel, subject=subject, request=request)
    return {"privacy_request": request.pk, "state": request.state}


def register(register_event_handler: Callable[[str, Callable[[Any], Any]], Any]) -> None:
    for topic in consumer.SHOPIFY_TOPICS + consumer.WOO_TOPICS + consumer.BIGCOMMERCE_TOPICS:
        register_event_handler(topic, consumer.customer_event_handle)
    for topic in PRIVACY_TOPICS:
        register_event_handler(topic, privacy_event_handle)
