"""In-memory catalog, orders, received-write log and statistics shared by every stand-in.

One ``threading.RLock`` (``Store.lock``) guards all of it: handlers hold it for the whole of a
read-modify-write so that concurrent batch writes serialise the way a database would.

A catalog entry is one sellable unit (SKU). Entries with the same ``group`` are variants of one
product (a Shopify product with several variants, a WooCommerce variable product with
variations, a BigCommerce product with variant-level tracking); an entry without a group is a
product of its own. Ids are allocated per platform style (see ``IdScheme``).
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class IdScheme:
    """Where each platform's ids start. Shopify ids are large on purpose: 32-bit bugs show."""

    product: int
    variant: int
    inventory_item: int
    shared_product_variant_space: bool = False  # WordPress: variations are posts too
    order: int = 1001


ID_SCHEMES = {
    "shopify": IdScheme(7_100_000_001, 42_100_000_001, 44_100_000_001, order=5_912_345_678_901),
    "woocommerce": IdScheme(101, 101, 0, shared_product_variant_space=True, order=501),
    "bigcommerce": IdScheme(111, 201, 0, order=250),
    # Magento: every SKU is a product (entity id); a configurable parent is one too.
    "magento": IdScheme(1, 1, 0, shared_product_variant_space=True, order=1),
}


@dataclass
class Item:
    sku: str
    stock: int
    name: str
    group: str  # "" = a product of its own
    price: str
    product_id: int
    variant_id: int
    inventory_item_id: int
    manage_stock: bool = True
    updated_at: float = field(default_factory=time.time)
    # Catalog fields the hub publishes (catalog_standin.py); empty until written.
    barcode: str = ""
    weight: str = ""
    description: str = ""
    options: list[list[str]] = field(default_factory=list)  # [[attribute, value], ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Product:
    id: int
    name: str
    group: str
    skus: list[str] = field(default_factory=list)
    description: str = ""
    images: list[str] = field(default_factory=list)  # image URLs set by the hub, in order

    @property
    def has_variants(self) -> bool:
        return bool(self.group)


def default_seed(products: int, seed_skus: list[str]) -> list[dict[str, Any]]:
    """Deterministic demo catalog: ``SKU-001``.. plus any explicitly named SKUs."""
    rows: list[dict[str, Any]] = []
    for i in range(1, products + 1):
        rows.append({"sku": f"SKU-{i:03d}", "stock": (i * 7) % 40 + 5, "name": f"Product {i}"})
    known = {r["sku"] for r in rows}
    for n, sku in enumerate(seed_skus, start=1):
        if sku and sku not in known:
            rows.append({"sku": sku, "stock": (n * 3) % 20 + 1, "name": sku})
            known.add(sku)
    return rows


class Stats:
    """Counters for ``GET /__standin__/stats``. Guarded by the store lock."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.statuses: dict[str, int] = {}
        self.items_written = 0
        self.throttled = 0
        self.max_batch = 0
        self.batches: dict[str, list[int]] = {}

    def snapshot(self) -> dict[str, Any]:
        return {
            "calls": dict(sorted(self.calls.items())),
            "total_calls": sum(self.calls.values()),
            "statuses": dict(sorted(self.statuses.items())),
            "items_written": self.items_written,
            "throttled": self.throttled,
            "max_batch": self.max_batch,
            "batches": {k: list(v) for k, v in sorted(self.batches.items())},
        }


class Store:
    def __init__(self, kind: str, seed_rows: list[dict[str, Any]]) -> None:
        self.kind = kind
        self.ids = ID_SCHEMES[kind]
        self.lock = threading.RLock()
        self._seed_rows = copy.deepcopy(seed_rows)
        self.items: dict[str, Item] = {}
        self.products: dict[int, Product] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.received: list[dict[str, Any]] = []
        self.stats = Stats()
        self.extra: dict[str, Any] = {}  # per-platform state (e.g. Shopify fulfillments)
        self.reset()

    # -- lifecycle ------------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.items = {}
            self.products = {}
            self.orders = {}
            self.received = []
            self.stats = Stats()
            self.extra = {}
            self._next_product = self.ids.product
            self._next_variant = self.ids.variant
            self._next_inventory_item = self.ids.inventory_item
            self._next_order = self.ids.order
            self.upsert_items(self._seed_rows)

    # -- catalog --------------------------------------------------------------------------------
    def _alloc_product(self) -> int:
        pid = self._next_product
        self._next_product += 1
        if self.ids.shared_product_variant_space:
            self._next_variant = self._next_product
        return pid

    def _alloc_variant(self) -> int:
        vid = self._next_variant
        self._next_variant += 1
        if self.ids.shared_product_variant_space:
            self._next_product = self._next_variant
        return vid

    def upsert_items(self, rows: list[dict[str, Any]]) -> list[Item]:
        """Add or replace catalog entries from ``{sku, stock, name?, group?, price?}`` rows.

        Replacing keeps the ids (the platform would); a changed group is not supported and
        raises ValueError, because moving a SKU between products changes its ids on a real store.
        """
        out: list[Item] = []
        with self.lock:
            for row in rows:
                if not isinstance(row, dict) or not str(row.get("sku") or "").strip():
                    raise ValueError("every product needs a non-empty 'sku'")
                sku = str(row["sku"]).strip()
                stock = int(row.get("stock", 0) or 0)
                group = str(row.get("group") or "")
                existing = self.items.get(sku)
                if existing is not None:
                    if group != existing.group:
                        raise ValueError(f"{sku}: changing 'group' of an existing SKU")
                    existing.stock = stock
                    existing.name = str(row.get("name") or existing.name)
                    existing.price = str(row.get("price") or existing.price)
                    existing.manage_stock = bool(row.get("manage_stock", existing.manage_stock))
                    existing.updated_at = time.time()
                    out.append(existing)
                    continue
                product = None
                if group:
                    product = next((p for p in self.products.values() if p.group == group), None)
                if product is None:
                    product = Product(
                        self._alloc_product(), str(group or row.get("name") or sku), group
                    )
                    self.products[product.id] = product
                variant_id = (
                    product.id if not group and self.ids.shared_product_variant_space else 0
                )
                if not variant_id:
                    variant_id = self._alloc_variant()
                inv = 0
                if self.ids.inventory_item:
                    inv = self._next_inventory_item
                    self._next_inventory_item += 1
                item = Item(
                    sku=sku,
                    stock=stock,
                    name=str(row.get("name") or sku),
                    group=group,
                    price=str(row.get("price") or "19.99"),
                    product_id=product.id,
                    variant_id=variant_id,
                    inventory_item_id=inv,
                    manage_stock=bool(row.get("manage_stock", True)),
                )
                product.skus.append(sku)
                self.items[sku] = item
                out.append(item)
        return out

    def rename_sku(self, item: Item, sku: str) -> None:
        """A SKU written by the hub: the entry keeps its ids under the new SKU."""
        sku = str(sku or "").strip()
        if not sku or sku == item.sku or sku in self.items:
            return
        old = item.sku
        self.items.pop(old, None)
        item.sku = sku
        self.items[sku] = item
        product = self.products.get(item.product_id)
        if product is not None:
            product.skus = [sku if s == old else s for s in product.skus]

    def by_variant(self, variant_id: int) -> Item | None:
        return next((i for i in self.items.values() if i.variant_id == variant_id), None)

    def by_inventory_item(self, inventory_item_id: int) -> Item | None:
        return next(
            (i for i in self.items.values() if i.inventory_item_id == inventory_item_id), None
        )

    def product_items(self, product_id: int) -> list[Item]:
        product = self.products.get(product_id)
        if product is None:
            return []
        return [self.items[s] for s in product.skus if s in self.items]

    def set_stock(self, item: Item, quantity: int) -> None:
        item.stock = int(quantity)
        item.updated_at = time.time()
        self.stats.items_written += 1

    def levels(self) -> dict[str, int]:
        with self.lock:
            return {sku: item.stock for sku, item in self.items.items()}

    # -- orders ---------------------------------------------------------------------------------
    def new_order_id(self) -> int:
        oid = self._next_order
        self._next_order += 1
        return oid

    # -- bookkeeping ----------------------------------------------------------------------------
    def count(self, key: str) -> None:
        with self.lock:
            self.stats.calls[key] = self.stats.calls.get(key, 0) + 1

    def count_status(self, status: int | str) -> None:
        with self.lock:
            self.stats.statuses[str(status)] = self.stats.statuses.get(str(status), 0) + 1

    def batch(self, key: str, size: int) -> None:
        with self.lock:
            self.stats.max_batch = max(self.stats.max_batch, size)
            self.stats.batches.setdefault(key, []).append(size)

    def throttled(self) -> None:
        with self.lock:
            self.stats.throttled += 1

    def record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.received.append(entry)
