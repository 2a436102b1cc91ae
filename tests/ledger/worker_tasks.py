"""Event handlers for ledger tests. Real workers load this module with --include, so the
handlers are registered there too; tests import it for the same registrations in-process."""

from __future__ import annotations

import json
import time

from apps.core.errors import LockContention, MappingMissing, TransientError
from apps.core.models import JobRun
from apps.ledger.registry import register_event_handler


def mark(name: str) -> int:
    JobRun.objects.create(name=name, status=JobRun.Status.OK)
    return JobRun.objects.filter(name=name).count()


_mark = mark


def count(name: str) -> int:
    return JobRun.objects.filter(name=name).count()


def _data(event) -> dict:
    return json.loads(bytes(event.body))


def effect_handler(event) -> None:
    data = _data(event)
    _mark(f"attempt:{data['key']}")
    _mark(f"effect:{data['key']}")
    # The order the effects happened in, for the per-entity order test.
    _mark(f"seq:{data.get('entity', '')}:{data.get('seq', '')}")


effect_handler.dry_run = lambda event: f"would count effect for {_data(event)['key']}"  # type: ignore[attr-defined]


def crash_handler(event) -> None:
    """Holds on its first attempt long enough for the test to SIGKILL the worker."""
    data = _data(event)
    n = _mark(f"attempt:{data['key']}")
    if n == 1:
        time.sleep(float(data.get("hold", 30)))
    _mark(f"effect:{data['key']}")


def mapping_handler(event) -> None:
    """Fails until the SKU is 'mapped' (a JobRun marker stands in for the mapping table)."""
    data = _data(event)
    _mark(f"attempt:{data['key']}")
    if not count(f"mapped:{data['sku']}"):
        raise MappingMissing(
            f"SKU {data['sku']} on order {data['order']} has no Odoo product",
            sku=data["sku"],
            order_number=data["order"],
        )
    _mark(f"effect:{data['key']}")


def flaky_handler(event) -> None:
    data = _data(event)
    n = _mark(f"attempt:{data['key']}")
    if n <= int(data.get("fail", 1)):
        raise TransientError(f"flaky {n}")
    _mark(f"effect:{data['key']}")


def contended_handler(event) -> None:
    data = _data(event)
    n = _mark(f"attempt:{data['key']}")
    if n <= int(data.get("fail", 1)):
        raise LockContention("busy", retry_after=0.05)
    _mark(f"effect:{data['key']}")


def result_handler(event) -> dict:
    """Returns what it did, as a real flow returns the Odoo reference it created."""
    return {"odoo": "sale.order,42"}


def boom_handler(event) -> None:
    raise ValueError("something nobody classified")


register_event_handler("test.effect", effect_handler)
register_event_handler("test.crash", crash_handler)
register_event_handler("test.mapping", mapping_handler)
register_event_handler("test.flaky", flaky_handler)
register_event_handler("test.contended", contended_handler)
register_event_handler("test.result", result_handler)
register_event_handler("test.boom*", boom_handler)
