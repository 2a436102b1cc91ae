"""Product images: sizes first (``bin_size``), the image itself only when its size changed,
sent only when its checksum changed.

Per channel and Odoo template, ``ImageState`` keeps the size string Odoo last reported, the
checksum (SHA-256 of the decoded image) of what was downloaded then, and the checksum the
channel last accepted. A run reads the sizes of the templates it looks at in one call per
1,000 (no image crosses the wire), downloads only the templates whose size is new or changed
(20 per call), and sends an image only when its checksum differs from the published one. The
platforms fetch images from a URL: the hub serves each downloaded image at
``HUB_PUBLIC_URL/catalog/images/<checksum>`` (apps.catalog.urls).

A replacement image of exactly the same byte size is not noticed by the size check;
``catalog publish --images`` (``force``) re-reads and compares every image.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from apps.sales_channels.models import Channel

from .models import CatalogImage, ImageState, VariantState
from .publishers import ImageTarget


def image_url(checksum: str) -> str:
    base = str(getattr(settings, "HUB_PUBLIC_URL", "") or "").rstrip("/")
    try:
        path = reverse("catalog-image", args=[checksum])
    except NoReverseMatch:
        path = f"/catalog/images/{checksum}"
    return f"{base}{path}"


def _content_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith(b"GIF8"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def publish_images(
    channel: Channel,
    *,
    rows: Sequence[VariantState],
    variants: dict[int, Any],
    gateway: Any,
    publisher: Any,
    force: bool = False,
) -> int:
    """Publish the images of the templates of ``rows`` whose checksum changed; returns the
    number of images the channel accepted."""
    owner: dict[int, VariantState] = {}
    for row in rows:
        v = variants.get(row.odoo_product_id)
        if v is not None and v.active and v.template_id:
            owner.setdefault(v.template_id, row)
    if not owner:
        return 0
    sizes = gateway.catalog_image_sizes(template_ids=sorted(owner))
    states = {
        s.odoo_template_id: s
        for s in ImageState.objects.filter(channel=channel, odoo_template_id__in=list(owner))
    }
    for tid in owner:
        if tid not in states:
            states[tid] = ImageState.objects.create(channel=channel, odoo_template_id=tid)
    fetch = [
        tid
        for tid, size in sizes.items()
        if size and (force or size != states[tid].size or not states[tid].checksum)
    ]
    images = gateway.catalog_images(template_ids=fetch) if fetch else {}
    for tid, b64 in images.items():
        state = states[tid]
        state.size = sizes.get(tid, "")
        if not b64:
            state.checksum = ""
            continue
        try:
            data = base64.b64decode(b64)
        except (binascii.Error, ValueError):
            continue
        checksum = hashlib.sha256(data).hexdigest()
        CatalogImage.objects.get_or_create(
            checksum=checksum, defaults={"content": data, "content_type": _content_type(data)}
        )
        state.checksum = checksum
        state.save(update_fields=["size", "checksum", "updated_at"])
    targets = [
        ImageTarget(
            template_id=tid,
            external_id=owner[tid].external_id,
            sku=owner[tid].sku,
            url=image_url(states[tid].checksum),
            checksum=states[tid].checksum,
        )
        for tid in sorted(owner)
        if sizes.get(tid)
        and states[tid].checksum
        and states[tid].checksum != states[tid].published_checksum
    ]
    if not targets:
        return 0
    accepted = 0
    by_sku = {t.sku: t for t in targets}
    for out in publisher.publish_images(targets):
        target = by_sku.get(out.sku)
        if target is None:
            continue
        if out.ok:
            state = states[target.template_id]
            state.published_checksum = target.checksum
            state.published_at = timezone.now()
            state.save(update_fields=["published_checksum", "published_at", "updated_at"])
            accepted += 1
        else:
            from .services import _report

            row = owner[target.template_id]
            _report(channel, row, "image", out.error)
            row.save(update_fields=["last_error", "updated_at"])
    return accepted
