"""The images the channels fetch: ``GET /catalog/images/<checksum>`` (no authentication:
the SHA-256 checksum is the name, and the image is what the shop shows anyway)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from .models import CatalogImage


def image(request: HttpRequest, checksum: str) -> HttpResponse:
    found = CatalogImage.objects.filter(checksum=checksum.lower()).first()
    if found is None:
        raise Http404("no such image")
    resp = HttpResponse(bytes(found.content), content_type=found.content_type)
    resp["Cache-Control"] = "public, max-age=31536000, immutable"
    return resp
