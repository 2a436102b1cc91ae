"""A standalone HTTP server that imitates Odoo 17's external JSON-RPC API.

Standard library only. Start it with ``python -m sandbox.odoo --port 8069``.
See ``docs/sandbox.md`` for the seed data, the control endpoints and the known gaps.
"""

SERVER_VERSION = "17.0-20240709"
SERVER_VERSION_INFO: list[object] = [17, 0, 0, "final", 0, ""]
