"""Thin tasks. Routing (settings.HUB_TASK_ROUTES): `finance.capture` and
`finance.payouts_import` (channel and provider APIs) on `channel_io`, `finance.sync` and
`finance.batch` (Odoo writes) on `odoo`, the rest on `batch`."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.core.periodic import periodic_job
from apps.core.taskbase import HubTask

from . import invoicing, payments, posting, reports, runs  # noqa: F401  register the actions


@shared_task(base=HubTask, name="finance.sync")
def finance_sync(sync_id: int) -> str:
    # The sweeper rings every finance row through this task (queue odoo). A capture reads the
    # channel's API, not Odoo: it goes to its own task on channel_io instead of holding an Odoo
    # worker while the channel answers.
    if runs.is_capture(sync_id):
        runs.ring_capture(sync_id)
        return "forwarded to finance.capture"
    return runs.row_run(sync_id=sync_id)


@shared_task(base=HubTask, name="finance.capture")
def finance_capture(sync_id: int) -> str:
    return runs.row_run(sync_id=sync_id)


@shared_task(base=HubTask, name="finance.batch")
def finance_batch(action: str) -> str:
    return runs.batch_run(action=action)


@periodic_job(
    name="finance.plan",
    every_seconds=float(getattr(settings, "HUB_INVOICE_PLAN_SECONDS", 15)),
    description="Record the invoices due under each channel's invoicing policy",
    time_limit=120,
)
def plan() -> str:
    return f"{invoicing.invoices_plan()} invoice(s) planned"


@periodic_job(
    name="finance.payouts_import",
    every_seconds=float(getattr(settings, "HUB_PAYOUT_IMPORT_SECONDS", 3600)),
    description="Import new payouts and their balance transactions; match them; post matches",
    time_limit=900,
)
def payouts_import() -> str:
    from .payouts import payouts_import_all

    return payouts_import_all()


@periodic_job(
    name="finance.invoices_refresh",
    every_seconds=float(getattr(settings, "HUB_INVOICE_REFRESH_SECONDS", 600)),
    description="Read the payment state of open invoices back from Odoo",
    time_limit=240,
)
def invoices_refresh() -> str:
    return f"{invoicing.invoices_refresh()} invoice(s) changed"


@periodic_job(
    name="finance.payments_waiting",
    every_seconds=float(getattr(settings, "HUB_PAYMENT_RECHECK_SECONDS", 300)),
    description="Payments waiting for an invoice Odoo makes itself (invoicing none) look again",
    time_limit=120,
)
def payments_waiting() -> str:
    return f"{payments.payments_waiting_recheck()} payment(s) re-checked"
