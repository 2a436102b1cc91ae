"""The finance flow's business events, published inside the transaction of the change.

| change                                             | event              |
|----------------------------------------------------|--------------------|
| the hub posted an order's invoice in Odoo          | `invoice.posted`   |
| a captured payment was registered in Odoo          | `payment.captured` |
"""

from __future__ import annotations

from apps.events.publish import event_publish
from apps.orders.business_events import entity_key, order_ref

from .models import ChannelPayment, OrderInvoice


def invoice_posted(*, invoice: OrderInvoice) -> None:
    order = invoice.order
    event_publish(
        type="invoice.posted",
        entity_key=entity_key(order),
        channel=invoice.channel,
        occurred_at=invoice.posted_at,
        payload={
            "channel": invoice.channel.code,
            "order": order_ref(order),
            "invoice": {
                "odoo_name": invoice.odoo_name or str(invoice.odoo_id),
                "amount_total": f"{invoice.amount_total or 0:.2f}",
                "currency": (invoice.currency or order.currency).upper(),
                "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
            },
        },
    )


def payment_captured(*, payment: ChannelPayment) -> None:
    order = payment.order
    event_publish(
        type="payment.captured",
        entity_key=entity_key(order),
        channel=payment.channel,
        occurred_at=payment.processed_at,
        payload={
            "channel": payment.channel.code,
            "order": order_ref(order),
            "payment": {
                "amount": f"{payment.amount:.2f}",
                "currency": payment.currency.upper(),
                "gateway": payment.gateway,
                "channel_transaction_id": payment.transaction_id,
                "odoo_payment": payment.odoo_payment_name or None,
            },
        },
    )
