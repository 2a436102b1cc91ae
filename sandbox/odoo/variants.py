"""Product variants by attribute values, per-value price extras and images (transcript 18).

- ``product.attribute`` / ``product.attribute.value``: the attribute and its values.
- ``product.template.attribute.value`` (a "ptav"): one value as used by one template. It carries
  ``price_extra``; a variant lists its ptavs in ``product_template_attribute_value_ids``, and its
  ``lst_price`` is the template's ``list_price`` plus the sum of their extras. Writing a ptav's
  ``price_extra`` stamps only the ptav's ``write_date``: the variant's and the template's stay
  as they were (transcript 18 #18-23), which is the trap a catalog poll must avoid.
- Images: ``image_1920``/``image_128`` live on the template (base64); a variant reads its
  template's. With ``context={"bin_size": True}`` a read answers a size string such as
  ``"178.00 bytes"`` instead of the image (#8).

Not modelled: attribute lines and automatic variant creation from them (create the variants
as ``product.product`` records with ``product_tmpl_id`` and their ptav ids), exclusions,
``create_variant`` modes, per-variant images (``image_variant_1920``) and image resizing.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from . import misc as _misc  # noqa: F401  (lst_price is wrapped below)
from .orm import COMPUTES, Env, compute
from .schema import (
    COMMON_FIELDS,
    REGISTRY,
    Field,
    Model,
    boolean,
    char,
    computed,
    flt,
    integer,
    m2m,
    m2o,
    o2m,
    sel,
)
from .store import Record


def _binary(string: str) -> Field:
    return Field("binary", string)


def _register(model: Model) -> None:
    for fname, f in model.fields.items():
        if not f.string:
            f.string = fname.replace("_ids", "s").replace("_id", "").replace("_", " ").title()
    model.fields = {**COMMON_FIELDS, **model.fields}
    REGISTRY[model.name] = model


_register(
    Model(
        "product.attribute",
        "Product Attribute",
        {
            "name": char("Attribute", required=True),
            "create_variant": sel(
                "Variants Creation Mode",
                [("always", "Instantly"), ("dynamic", "Dynamically"), ("no_variant", "Never")],
                default="always",
            ),
            "display_type": sel(
                "Display Type",
                [("radio", "Radio"), ("pills", "Pills"), ("select", "Select"), ("color", "Color")],
                default="radio",
            ),
            "sequence": integer("Sequence", default=20),
            "value_ids": o2m("product.attribute.value", "attribute_id", "Values"),
        },
        order="sequence, id",
    )
)
_register(
    Model(
        "product.attribute.value",
        "Attribute Value",
        {
            "name": char("Value", required=True),
            "attribute_id": m2o("product.attribute", "Attribute"),
            "sequence": integer("Sequence", default=0),
            "default_extra_price": flt("Default Extra Price"),
        },
        order="attribute_id, sequence, id",
    )
)
_register(
    Model(
        "product.template.attribute.value",
        "Product Template Attribute Value",
        {
            "name": computed("char", "Value"),
            "product_tmpl_id": m2o("product.template", "Product Template"),
            "product_attribute_value_id": m2o("product.attribute.value", "Attribute Value"),
            "attribute_id": computed("many2one", "Attribute", comodel="product.attribute"),
            "price_extra": flt("Value Price Extra"),
            "ptav_active": boolean("Active", default=True),
            "ptav_product_variant_ids": computed(
                "many2many", "Related Variants", comodel="product.product"
            ),
        },
        order="attribute_id, id",
    )
)

_template = REGISTRY["product.template"]
_variant = REGISTRY["product.product"]
_template.fields.update(
    {
        "image_1920": _binary("Image"),
        "image_128": computed("binary", "Image 128"),
        "product_variant_count": computed("integer", "# Product Variants"),
    }
)
_variant.fields.update(
    {
        "image_1920": computed("binary", "Image"),
        "image_128": computed("binary", "Image 128"),
        "product_template_attribute_value_ids": m2m(
            "product.template.attribute.value", "Attribute Values"
        ),
        "product_template_variant_value_ids": computed(
            "many2many", "Variant Values", comodel="product.template.attribute.value"
        ),
        "combination_indices": computed("char", "Combination Indices"),
        "price_extra": computed("float", "Variant Price Extra"),
    }
)


def _ptavs(env: Env, rec: Record) -> list[Record]:
    out = []
    for pid in rec.get("product_template_attribute_value_ids") or []:
        ptav = env.rec("product.template.attribute.value", pid)
        if ptav is not None:
            out.append(ptav)
    return out


@compute("product.template.attribute.value", "name")
def _c_ptav_name(env: Env, rec: Record) -> Any:
    value = env.rec("product.attribute.value", rec.get("product_attribute_value_id"))
    return value.get("name") if value else False


@compute("product.template.attribute.value", "attribute_id")
def _c_ptav_attribute(env: Env, rec: Record) -> Any:
    value = env.rec("product.attribute.value", rec.get("product_attribute_value_id"))
    return value.get("attribute_id") if value else None


@compute("product.template.attribute.value", "ptav_product_variant_ids")
def _c_ptav_variants(env: Env, rec: Record) -> list[int]:
    return sorted(
        pid
        for pid, p in env.table("product.product").items()
        if rec["id"] in (p.get("product_template_attribute_value_ids") or [])
        and p.get("active", True)
    )


@compute("product.product", "price_extra")
def _c_price_extra(env: Env, rec: Record) -> float:
    return float(sum(float(p.get("price_extra") or 0) for p in _ptavs(env, rec)))


_base_lst = COMPUTES.get(("product.product", "lst_price"))


@compute("product.product", "lst_price")
def _c_lst_price(env: Env, rec: Record) -> float:
    base = float(_base_lst(env, rec)) if _base_lst else float(rec.get("list_price") or 0)
    return base + _c_price_extra(env, rec)


@compute("product.product", "product_template_variant_value_ids")
def _c_variant_values(env: Env, rec: Record) -> list[int]:
    return list(rec.get("product_template_attribute_value_ids") or [])


@compute("product.product", "combination_indices")
def _c_combination(env: Env, rec: Record) -> str:
    return ",".join(str(i) for i in sorted(rec.get("product_template_attribute_value_ids") or []))


@compute("product.product", "image_1920", "image_128")
def _c_variant_image(env: Env, rec: Record) -> Any:
    tmpl = env.rec("product.template", rec.get("product_tmpl_id"))
    return (tmpl or {}).get("image_1920") or False


@compute("product.template", "image_128")
def _c_template_image_128(env: Env, rec: Record) -> Any:
    return rec.get("image_1920") or False


@compute("product.template", "product_variant_count")
def _c_variant_count(env: Env, rec: Record) -> int:
    return sum(
        1
        for pid in env.s.referencing("product.product", "product_tmpl_id", rec["id"])
        if (env.rec("product.product", pid) or {}).get("active", True)
    )


def human_size(size: int) -> str:
    """Odoo's ``human_size``: what a binary field reads as under ``bin_size``."""
    units = ("bytes", "Kb", "Mb", "Gb", "Tb")
    value = float(size)
    i = 0
    while value >= 1024 and i < len(units) - 1:
        value /= 1024
        i += 1
    return f"{value:.2f} {units[i]}"


_fmt = Env.fmt


def _fmt_binary(self: Env, model: str, fname: str, value: Any, load: Any = "_classic_read") -> Any:
    f = REGISTRY[model].fields[fname]
    if f.type == "binary" and value and self.ctx.get("bin_size"):
        try:
            size = len(base64.b64decode(str(value), validate=False))
        except (binascii.Error, ValueError):
            size = len(str(value))
        return human_size(size)
    return _fmt(self, model, fname, value, load)


Env.fmt = _fmt_binary  # type: ignore[method-assign]
