"""Indexes for the rollup and SLO queries, on the tables they read (time ranges).

They are created from here, not in each app's models, because only the operations queries need
them: ``received_at`` and ``pushed_at`` of orders, the transitions' ``at``, issues'
``resolved_at``, SKUs' ``published_at`` and delivery attempts' ``started_at``. The ledger's
``received_at`` is deliberately not indexed (every webhook would pay for it): polled events are
scanned by id instead (apps.ops.rollups.scan_polled).
"""

from django.db import migrations

INDEXES = [
    ("ops_order_received", "orders_channelorder", "received_at"),
    ("ops_order_pushed", "orders_channelorder", "pushed_at"),
    ("ops_transition_at", "orders_ordertransition", "at"),
    ("ops_issue_resolved", "inbox_issue", "resolved_at"),
    ("ops_skustock_published", "inventory_skustock", "published_at"),
    ("ops_attempt_started", "events_deliveryattempt", "started_at"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0001_initial"),
        ("orders", "0001_initial"),
        ("inbox", "0001_initial"),
        ("inventory", "0001_initial"),
        ("events", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})",
            f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, column in INDEXES
    ]
