from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import transaction

from apps.ledger.models import InboundEvent
from apps.ledger.services import inbound_event_record


def record(topic: str, *, channel: str = "shop1", entity: str = "", **data: Any) -> InboundEvent:
    data.setdefault("key", uuid.uuid4().hex)
    with transaction.atomic():
        event, created = inbound_event_record(
            channel_code=channel,
            topic=topic,
            dedupe_key=data.get("dedupe", uuid.uuid4().hex),
            body=json.dumps(data).encode(),
            headers={"X-Test": "1"},
            entity_key=entity,
            external_ref=str(data.get("order", "")),
        )
    assert created
    return event


def key_of(event: InboundEvent) -> str:
    return json.loads(bytes(event.body))["key"]
