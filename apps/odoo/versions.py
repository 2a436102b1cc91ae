"""What differs between the Odoo versions the hub supports, and nothing else.

17 is verified against the recorded transcripts of a real Odoo 17.0 server and by the live
contract suite run on one (docs/odoo.md, "Verified against a real Odoo 17"). 16 and 18 come from
reading Odoo's public source and are not verified against a running server (docs/odoo.md).
The gateway asks the adapter for every version-sensitive field name, value or method, so adding
a version is adding one adapter here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from .errors import OdooConfigurationError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VersionAdapter:
    major: int
    # product.product: how a storable product is written and searched.
    storable_vals: tuple[tuple[str, Any], ...]
    storable_domain: tuple[tuple[str, str, Any], ...]
    # stock.move: the field that holds the done quantity, and whether "picked" must be set too.
    move_done_field: str
    move_uses_picked: bool
    # stock.return.picking: the button that creates the return picking.
    return_method: str
    # The module that adds carrier_tracking_ref / carrier_id to stock.picking.
    tracking_module: str
    # sale.order fields that exist in this version (delivery_status came with 17).
    sale_order_status_fields: tuple[str, ...]

    def product_storable_vals(self) -> dict[str, Any]:
        return dict(self.storable_vals)

    def product_storable_domain(self) -> list[list[Any]]:
        return [list(leaf) for leaf in self.storable_domain]

    def move_fields(self) -> list[str]:
        fields = [self.move_done_field]
        if self.move_uses_picked:
            fields.append("picked")
        return fields

    def move_done_vals(self, quantity: float) -> dict[str, Any]:
        """Values that mark ``quantity`` as done on a stock.move."""
        vals: dict[str, Any] = {self.move_done_field: quantity}
        if self.move_uses_picked:
            # 17+: "quantity" is both reserved and done; only picked moves count as done.
            vals["picked"] = True
        return vals

    def move_done_quantity(self, move: dict[str, Any]) -> float:
        """Done quantity of a move read with ``move_fields()`` (after validation)."""
        return float(move.get(self.move_done_field) or 0.0)


_SO_FIELDS_17 = ("name", "state", "picking_ids", "delivery_status", "invoice_status", "locked")

ODOO_16 = VersionAdapter(
    major=16,
    storable_vals=(("detailed_type", "product"),),
    storable_domain=(("detailed_type", "=", "product"),),
    move_done_field="quantity_done",
    move_uses_picked=False,
    return_method="create_returns",
    tracking_module="delivery",
    # 16 has no delivery_status and no locked flag (a locked order is in state "done").
    sale_order_status_fields=("name", "state", "picking_ids", "invoice_status"),
)

# Verified against transcripts 02, 03, 06, 06b and 07 (create_returns, not action_create_returns).
ODOO_17 = VersionAdapter(
    major=17,
    storable_vals=(("detailed_type", "product"),),
    storable_domain=(("detailed_type", "=", "product"),),
    move_done_field="quantity",
    move_uses_picked=True,
    return_method="create_returns",
    tracking_module="stock_delivery",
    sale_order_status_fields=_SO_FIELDS_17,
)

# 18: detailed_type is gone; type is consu/service/combo and storable is the is_storable boolean.
ODOO_18 = VersionAdapter(
    major=18,
    storable_vals=(("type", "consu"), ("is_storable", True)),
    storable_domain=(("is_storable", "=", True),),
    move_done_field="quantity",
    move_uses_picked=True,
    return_method="action_create_returns",
    tracking_module="stock_delivery",
    sale_order_status_fields=_SO_FIELDS_17,
)

ADAPTERS: dict[int, VersionAdapter] = {16: ODOO_16, 17: ODOO_17, 18: ODOO_18}


def parse_major(version: dict[str, Any]) -> int:
    """Major version from a ``common.version`` answer ("saas~17.2" counts as 17)."""
    info = version.get("server_version_info")
    head: Any = info[0] if isinstance(info, list) and info else version.get("server_serie", "")
    text = str(head).split("~")[-1].split(".")[0]
    try:
        return int(text)
    except ValueError:
        raise OdooConfigurationError(
            "Cannot read the Odoo version", server_version=version.get("server_version")
        )


def adapter_for(version: dict[str, Any]) -> VersionAdapter:
    major = parse_major(version)
    if major in ADAPTERS:
        return ADAPTERS[major]
    if major > max(ADAPTERS):
        # Newer servers still speak /jsonrpc; the newest known model is the best guess, and the
        # field errors it may cause are classified as configuration errors, loudly.
        logger.warning("Odoo %s is newer than the supported versions; using the 18 adapter", major)
        return ADAPTERS[max(ADAPTERS)]
    raise OdooConfigurationError(
        f"Odoo {major} is not supported (16, 17 and 18 are)",
        server_version=version.get("server_version"),
    )
