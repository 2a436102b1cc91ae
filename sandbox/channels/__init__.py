"""Standalone HTTP stand-ins for the sales-channel platforms' admin APIs.

Standard library only. Start one with
``python -m sandbox.channels --kind shopify|woocommerce|bigcommerce|magento --port 8101``.
Each stand-in answers the calls the hub makes (catalog reads, stock writes, order
acknowledgement) with the response shapes, limits and rate-limit signals of the real platform,
and exposes JSON control endpoints under ``/__standin__/``. ``sandbox.channels.sender`` signs and
sends webhooks the way each platform does. See ``docs/channel-standins.md`` for what is emulated
and, as important, what is not.
"""

KINDS = ("shopify", "woocommerce", "bigcommerce", "magento")
