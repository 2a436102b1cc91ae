"""The per-batch lookup context shared by the push's building steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class BatchContext:
    """Per-batch lookups, each done once for the whole batch."""

    gateway: Any
    # (channel, shipping method values) -> (product id, delivery.carrier id or None)
    shipping_products: dict[tuple[int, str], tuple[int, int | None]] = field(default_factory=dict)
    # delivery.carrier id -> the carrier (read once per batch, for every carrier value map)
    carriers: dict[int, dict[str, Any]] | None = None
    taxes: dict[int, dict[str, int]] = field(default_factory=dict)
    warehouses: dict[int, int | None] = field(default_factory=dict)
    order_warehouse: dict[int, int] = field(default_factory=dict)
