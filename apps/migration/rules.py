"""The per-channel match rule: where the legacy connector wrote the channel's order in Odoo.

`Channel.legacy_match_field` names the sale.order field (client_order_ref, origin, or a custom
x_ field), `legacy_match_pattern` what it holds (placeholders {number}, {external_id},
{po_number}), and `legacy_match_domain` an extra Odoo domain that picks the channel's orders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from apps.core.errors import ConfigurationError
from apps.orders.models import ChannelOrder
from apps.sales_channels.models import Channel

PLACEHOLDERS = ("number", "external_id", "po_number")
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class MatchRule:
    field: str
    pattern: str
    domain: tuple[Any, ...] = ()

    @classmethod
    def of(cls, channel: Channel) -> MatchRule:
        rule = cls(
            field=(channel.legacy_match_field or "client_order_ref").strip(),
            pattern=channel.legacy_match_pattern or "{number}",
            domain=tuple(channel.legacy_match_domain or ()),
        )
        rule.check(channel.code)
        return rule

    def check(self, code: str = "") -> None:
        slots = _SLOT.findall(self.pattern)
        unknown = [s for s in slots if s not in PLACEHOLDERS]
        if not slots or unknown:
            raise ConfigurationError(
                f"channel {code}: legacy_match_pattern {self.pattern!r} needs one of "
                + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                + (f" (unknown: {', '.join(unknown)})" if unknown else ""),
                channel=code,
            )
        for leaf in self.domain:
            if not (isinstance(leaf, str) or (isinstance(leaf, list) and len(leaf) == 3)):
                raise ConfigurationError(
                    f"channel {code}: legacy_match_domain must be an Odoo domain, e.g. "
                    '[["team_id", "=", 5]]',
                    channel=code,
                )

    def key(self, order: ChannelOrder) -> str:
        """What the legacy connector wrote for this hub order ("" when a part is missing)."""
        values = {
            "number": (order.number or "").strip(),
            "external_id": (order.external_id or "").strip(),
            "po_number": (order.po_number or "").strip(),
        }
        if any(not values[s] for s in _SLOT.findall(self.pattern)):
            return ""
        return _SLOT.sub(lambda m: values[m.group(1)], self.pattern)

    def like(self) -> str:
        """The pattern as an Odoo ``=like`` value: each placeholder becomes ``%``."""
        return _SLOT.sub("%", self.pattern)

    def parse(self, value: str) -> dict[str, str] | None:
        """The placeholder values in a legacy order's match field, or None if it does not fit."""
        regex = ""
        pos = 0
        for m in _SLOT.finditer(self.pattern):
            regex += re.escape(self.pattern[pos : m.start()]) + f"(?P<{m.group(1)}>.+?)"
            pos = m.end()
        regex += re.escape(self.pattern[pos:])
        found = re.fullmatch(regex, value or "")
        return {k: v.strip() for k, v in found.groupdict().items()} if found else None

    def hub_orders(self, channel: Channel, values: list[str]) -> dict[str, ChannelOrder]:
        """Match value -> the hub order of `channel` it names (one query per call)."""
        parsed = {v: p for v in values if (p := self.parse(v))}
        if not parsed:
            return {}
        from django.db.models import Q

        cond = Q()
        for p in parsed.values():
            cond |= Q(**p)
        rows = ChannelOrder.objects.filter(cond, channel=channel).select_related("channel")
        by_key = {self.key(r): r for r in rows}
        return {v: by_key[v] for v in parsed if v in by_key}
