"""The edge to Odoo: the only code in the hub that talks to it (docs/odoo.md)."""
