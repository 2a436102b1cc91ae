"""The authorization matrix (tests/security/matrix.py, docs/security.md): every API operation,
every other URL and every admin operation, for each of the ten identities, through the whole
Django stack. A cell that differs from the table fails; so does an operation without a row.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from . import calls, matrix, matrix_render
from .admin_calls import admin_call, admin_operations
from .runner import differences, observe
from .world import World

METHODS = ("get", "post", "put", "patch", "delete")


def schema_operations() -> set[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method in item
        if method in METHODS
    }


def routes() -> set[str]:
    """Every URL route outside the admin, as written in the URLconf."""

    def walk(patterns: list[Any], prefix: str) -> set[str]:
        out: set[str] = set()
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                out |= walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                out.add(route)
        return out

    return {r for r in walk(get_resolver().url_patterns, "") if not r.startswith("admin/")}


def as_schema_path(route: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


@pytest.fixture
def world(settings: Any, tmp_path: Any) -> World:
    settings.HUB_OUTBOUND_ALLOW_PRIVATE = True  # partner endpoints on a dead loopback port
    settings.HUB_WEBHOOK_REQUIRE_HTTPS = False
    settings.HUB_ODOO_WEBHOOK_TOKEN = "sec-hint-token-8a1f"
    settings.VAR_DIR = tmp_path  # the privacy export row writes its file there
    return World()


@pytest.fixture
def world_with_odoo(world: World, settings: Any, odoo_sandbox: Any) -> World:
    """/readyz answers 200 and the fix-in-place finds its product: the Odoo sandbox is up."""
    settings.ODOO_URL = odoo_sandbox.url
    return world


def test_every_operation_and_route_has_a_row() -> None:
    api = schema_operations()
    assert api == set(matrix.API), "API operations without a row / rows without an operation"
    assert api <= set(calls.API), "API operations without a request to send"
    documented = {op.split(" ", 1)[1] for op in api}
    pages = {r for r in routes() if as_schema_path(r) not in documented}
    assert pages == set(matrix.PAGES) == set(calls.PAGES)
    for route, (method, _) in matrix.PAGES.items():
        assert calls.PAGES[route][0] == method, route


def test_every_admin_operation_has_a_row() -> None:
    """Every registered ModelAdmin, its add/change/delete, each of its actions and URLs."""
    have = admin_operations()
    assert set(have) == set(matrix.ADMIN), "ModelAdmins without rows / rows without a ModelAdmin"
    for label, ops in have.items():
        assert set(ops) == set(matrix.ADMIN[label]), label


@pytest.mark.django_db
def test_api_matrix(world_with_odoo: World) -> None:
    world = world_with_odoo
    ops = sorted(schema_operations() | set(matrix.API))
    rows = {op: matrix.API.get(op, ("", "")) for op in ops}
    observed = {op: observe(world, calls.API[op], tuple(rows[op][0].split())) for op in ops}
    expected = {op: cells for op, (_, cells) in matrix.API.items()}
    diff = differences(expected, observed)
    assert not diff, "\n".join(diff)


@pytest.mark.django_db
def test_other_urls_matrix(world_with_odoo: World) -> None:
    world = world_with_odoo
    observed = {route: observe(world, calls.PAGES[route][1], ()) for route in matrix.PAGES}
    expected = {route: cells for route, (_, cells) in matrix.PAGES.items()}
    diff = differences(expected, observed)
    assert not diff, "\n".join(diff)


@pytest.mark.django_db
@pytest.mark.parametrize("label", list(matrix.ADMIN))
def test_admin_matrix(world_with_odoo: World, label: str) -> None:
    world = world_with_odoo
    observed = {
        f"{label} {op}": observe(world, lambda w, op=op: admin_call(w, label, op), (), audited=True)
        for op in matrix.ADMIN[label]
    }
    expected = {f"{label} {op}": cells for op, cells in matrix.ADMIN[label].items()}
    diff = differences(expected, observed)
    assert not diff, "\n".join(diff)


def test_the_doc_shows_the_matrix() -> None:
    """docs/security.md is generated from the table: python -m tests.security.matrix_render."""
    assert matrix_render.doc_block() == matrix_render.render()
