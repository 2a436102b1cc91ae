"""Publishing: what the catalog publication (apps.catalog) reads from Odoo.

Odoo calls: product.template: search_read, read (``bin_size`` for image sizes, then the image
itself only for the templates whose size changed); product.product: search_read (changes; the
saleable variants with a SKU, for products missing on a channel), read;
product.template.attribute.value: search_read, read; res.partner: read
(``property_product_pricelist``); product.pricelist.item: search_read (the break quantities).

Facts (EXTERNAL_API §19, transcript 18): a template write (``list_price``) stamps its variants'
``write_date`` too, but a ``price_extra`` change on a ``product.template.attribute.value``
stamps neither the variant nor the template, so the change poll reads three models; archived
variants are only seen with ``active_test: False``; ``image_1920`` reads as base64, and with
``bin_size`` as a size string ("178.00 bytes").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .base import GatewayBase, _second, _unique, chunked, falsy_none, m2o_id

CATALOG_CHANGE_MODELS = (
    "product.template",
    "product.product",
    "product.template.attribute.value",
)
VARIANT_FIELDS = [
    "name",
    "display_name",
    "description_sale",
    "default_code",
    "barcode",
    "weight",
    "lst_price",
    "product_tmpl_id",
    "product_template_attribute_value_ids",
    "active",
    "sale_ok",
    "write_date",
]
IMAGE_CHUNK = 20  # images are read whole only for the few templates whose size changed
CENT = Decimal("0.01")


def to_money(value: Any) -> Decimal:
    """Odoo's float price to a Decimal, to the cent (the float never takes part in arithmetic)."""
    return Decimal(str(value or 0)).quantize(CENT)


@dataclass
class CatalogChanges:
    """Variants touched since the watermarks, and the new watermarks (one per model)."""

    product_ids: list[int] = field(default_factory=list)
    watermarks: dict[str, str] = field(default_factory=dict)
    more: bool = False


@dataclass(frozen=True)
class VariantData:
    id: int
    template_id: int
    name: str
    description: str
    sku: str
    barcode: str
    weight: Decimal
    list_price: Decimal
    attribute_value_ids: tuple[int, ...]
    active: bool
    write_date: str


class PublishingGateway(GatewayBase):
    """Reads for catalog and price publication, batched (1,000 ids per call)."""

    def catalog_changed_since(self, *, since: dict[str, str], limit: int = 20000) -> CatalogChanges:
        """Variant ids whose template, variant or template attribute value was written at or
        after that model's watermark in ``since`` ("YYYY-MM-DD HH:MM:SS"); a model without a
        watermark is skipped. Archived records count (``active_test: False``): delisting is a
        change too. A full page says ``more`` and keeps its last second as the watermark."""
        product_ids: set[int] = set()
        template_ids: set[int] = set()
        marks = dict(since)
        more = False
        ctx = {"active_test": False}
        fields_for = {
            "product.template": ["write_date"],
            "product.product": ["write_date"],
            "product.template.attribute.value": ["ptav_product_variant_ids", "write_date"],
        }
        for model in CATALOG_CHANGE_MODELS:
            mark = since.get(model)
            if not mark:
                continue
            rows = self.client.call(
                model,
                "search_read",
                [[["write_date", ">=", mark]]],
                {"fields": fields_for[model], "order": "write_date asc, id asc", "limit": limit},
                context=ctx,
            )
            for row in rows:
                if model == "product.template":
                    template_ids.add(int(row["id"]))
                elif model == "product.product":
                    product_ids.add(int(row["id"]))
                else:
                    product_ids.update(int(i) for i in row.get("ptav_product_variant_ids") or [])
            if rows:
                marks[model] = max(mark, _second(rows[-1]["write_date"]))
            more = more or len(rows) >= limit
        for part in chunked(sorted(template_ids)):
            rows = self.client.call(
                "product.product",
                "search_read",
                [[["product_tmpl_id", "in", part]]],
                {"fields": ["id"], "order": "id"},
                context=ctx,
            )
            product_ids.update(int(r["id"]) for r in rows)
        return CatalogChanges(product_ids=sorted(product_ids), watermarks=marks, more=more)

    def catalog_server_time(self) -> str:
        """The newest ``write_date`` Odoo holds on the three models: where a first poll
        starts (the initial state of a channel is ``catalog publish``, not the poll)."""
        newest = ""
        for model in CATALOG_CHANGE_MODELS:
            rows = self.client.call(
                model,
                "search_read",
                [[]],
                {"fields": ["write_date"], "order": "write_date desc, id desc", "limit": 1},
                context={"active_test": False},
            )
            if rows:
                newest = max(newest, _second(rows[0]["write_date"]))
        return newest

    def catalog_variants(self, *, product_ids: Sequence[int]) -> dict[int, VariantData]:
        """id -> what a channel shows of the variant; archived ones included (``active``)."""
        out: dict[int, VariantData] = {}
        for part in chunked(_unique(int(i) for i in product_ids)):
            rows = self.client.call(
                "product.product",
                "read",
                [part, VARIANT_FIELDS],
                context={"active_test": False},
            )
            for row in rows:
                out[int(row["id"])] = VariantData(
                    id=int(row["id"]),
                    template_id=m2o_id(row.get("product_tmpl_id")) or 0,
                    name=str(falsy_none(row.get("name")) or ""),
                    description=str(falsy_none(row.get("description_sale")) or ""),
                    sku=str(falsy_none(row.get("default_code")) or ""),
                    barcode=str(falsy_none(row.get("barcode")) or ""),
                    weight=Decimal(str(row.get("weight") or 0)).quantize(Decimal("0.001")),
                    list_price=to_money(row.get("lst_price")),
                    attribute_value_ids=tuple(
                        int(i) for i in row.get("product_template_attribute_value_ids") or []
                    ),
                    active=bool(row.get("active", True)),
                    write_date=_second(row.get("write_date") or ""),
                )
        return out

    def catalog_sellable_skus(self, *, page: int = 20000) -> dict[int, tuple[str, int]]:
        """id -> (SKU, template id) of every active, saleable good (no service or combo) with a
        SKU: what a channel may be missing (products the hub may create). One ``search_read``
        per ``page`` rows."""
        out: dict[int, tuple[str, int]] = {}
        last = 0
        while True:
            rows = self.client.call(
                "product.product",
                "search_read",
                [
                    [
                        ["id", ">", last],
                        ["default_code", "!=", False],
                        ["sale_ok", "=", True],
                        ["type", "not in", ["service", "combo"]],
                    ]
                ],
                {"fields": ["default_code", "product_tmpl_id"], "order": "id", "limit": page},
            )
            for row in rows:
                code = str(falsy_none(row.get("default_code")) or "").strip()
                if code:
                    out[int(row["id"])] = (code, m2o_id(row.get("product_tmpl_id")) or 0)
            if len(rows) < page:
                return out
            last = int(rows[-1]["id"])

    def catalog_attribute_values(self, *, ptav_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """template attribute value id -> (attribute name, value name), e.g. ("Size", "M")."""
        out: dict[int, tuple[str, str]] = {}
        for part in chunked(_unique(int(i) for i in ptav_ids)):
            rows = self.client.call(
                "product.template.attribute.value",
                "read",
                [part, ["name", "attribute_id"]],
                context={"active_test": False},
            )
            for row in rows:
                attribute = row.get("attribute_id")
                attr_name = attribute[1] if isinstance(attribute, list) else ""
                out[int(row["id"])] = (str(attr_name), str(falsy_none(row.get("name")) or ""))
        return out

    def catalog_image_sizes(self, *, template_ids: Sequence[int]) -> dict[int, str]:
        """template id -> image size string ("" without an image), read with ``bin_size``:
        no image crosses the wire."""
        out: dict[int, str] = {}
        for part in chunked(_unique(int(i) for i in template_ids)):
            rows = self.client.call(
                "product.template",
                "read",
                [part, ["image_1920"]],
                context={"bin_size": True, "active_test": False},
            )
            for row in rows:
                out[int(row["id"])] = str(falsy_none(row.get("image_1920")) or "")
        return out

    def catalog_images(self, *, template_ids: Sequence[int]) -> dict[int, str]:
        """template id -> base64 image ("" without one); ``IMAGE_CHUNK`` templates per call."""
        out: dict[int, str] = {}
        for part in chunked(_unique(int(i) for i in template_ids), IMAGE_CHUNK):
            rows = self.client.call(
                "product.template",
                "read",
                [part, ["image_1920"]],
                context={"active_test": False},
            )
            for row in rows:
                out[int(row["id"])] = str(falsy_none(row.get("image_1920")) or "")
        return out

    def partners_pricelist(self, *, partner_ids: Sequence[int]) -> dict[int, int | None]:
        """partner id -> its pricelist (``property_product_pricelist``, or the partner's own
        where the version computes none: ``adapter.partner_pricelist``), None when unset."""
        adapter = self.client.adapter
        out: dict[int, int | None] = {}
        for part in chunked(_unique(int(i) for i in partner_ids)):
            fields = list(adapter.partner_pricelist_fields)
            rows = self.client.call("res.partner", "read", [part, fields])
            for row in rows:
                out[int(row["id"])] = m2o_id(adapter.partner_pricelist(row))
        return out

    def pricelist_break_quantities(self, *, pricelist_id: int) -> list[Decimal]:
        """The ``min_quantity`` values above 1 of the pricelist's rules: the quantities at
        which a price break may start (B2B quantity pricing)."""
        rows = self.client.call(
            "product.pricelist.item",
            "search_read",
            [[["pricelist_id", "=", int(pricelist_id)], ["min_quantity", ">", 1]]],
            {"fields": ["min_quantity"], "order": "min_quantity asc, id asc"},
        )
        found = {Decimal(str(r.get("min_quantity") or 0)).normalize() for r in rows}
        return sorted(q for q in found if q > 1)
