"""Operator metrics read from the database at scrape time, so every worker answers the same."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from models import OPEN_STATUSES
from models.base import sql_list

# Each query is served by a partial index, so a scrape stays cheap with millions of orders (the
# statuses are written into the SQL, as in the index, so the planner can match it).
OPEN_ORDERS = text(
    "SELECT status, count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "  # noqa: S608  (constants only)
    f"FROM orders WHERE status IN ({sql_list(OPEN_STATUSES)}) GROUP BY status"
)
OUTBOX_BACKLOG = text(
    "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "
    "FROM event_outbox WHERE delivered_at IS NULL AND dead_lettered_at IS NULL"
)
OUTBOX_DEAD_LETTERED = text("SELECT count(*) FROM event_outbox WHERE dead_lettered_at IS NOT NULL")
RECONCILER_DUE = text(
    "SELECT count(*), coalesce(extract(epoch FROM now() - min(next_check_at)), 0) "  # noqa: S608  (constants only)
    f"FROM orders WHERE status IN ({sql_list(OPEN_STATUSES)}) AND next_check_at <= now()"
)
REFUNDS_UNCONFIRMED = text(
    "SELECT count(*) FROM orders WHERE refund_requested_at IS NOT NULL AND refunded_at IS NULL"
)
PAYMENT_MISMATCHES = text(
    "SELECT count(*) FROM orders "
    "WHERE payment_mismatch_at IS NOT NULL AND payment_mismatch_resolved_at IS NULL"
)
REFUNDS_DUE = text("SELECT count(*) FROM orders WHERE needs_refund AND refunded_at IS NULL")


async def collect_metrics(session: AsyncSession) -> str:
    """The Prometheus text exposition of the service's gauges."""
    lines = [
        "# HELP cart_open_orders Orders awaiting payment, by status.",
        "# TYPE cart_open_orders gauge",
    ]
    oldest = 0.0
    by_status = dict.fromkeys(OPEN_STATUSES, 0)
    for status, count, age in (await session.execute(OPEN_ORDERS)).all():
        by_status[status] = int(count)
        oldest = max(oldest, float(age))
    lines += [f'cart_open_orders{{status="{s}"}} {n}' for s, n in sorted(by_status.items())]
    lines += [
        "# HELP cart_open_order_oldest_seconds Age of the oldest order awaiting payment.",
        "# TYPE cart_open_order_oldest_seconds gauge",
        f"cart_open_order_oldest_seconds {oldest:.0f}",
    ]
    due, overdue = (await session.execute(RECONCILER_DUE)).one()
    lines += [
        "# HELP cart_reconciler_due_orders Orders awaiting payment whose reconciler check is due.",
        "# TYPE cart_reconciler_due_orders gauge",
        f"cart_reconciler_due_orders {int(due)}",
        "# HELP cart_reconciler_overdue_seconds How long the most overdue reconciler check has "
        "waited (stays below the reconciler's interval while it keeps up).",
        "# TYPE cart_reconciler_overdue_seconds gauge",
        f"cart_reconciler_overdue_seconds {float(overdue):.0f}",
    ]
    backlog, backlog_age = (await session.execute(OUTBOX_BACKLOG)).one()
    lines += [
        "# HELP cart_outbox_undelivered Domain events waiting to be relayed to the federation "
        "store (dead letters apart).",
        "# TYPE cart_outbox_undelivered gauge",
        f"cart_outbox_undelivered {int(backlog)}",
        "# HELP cart_outbox_oldest_seconds Age of the oldest undelivered event.",
        "# TYPE cart_outbox_oldest_seconds gauge",
        f"cart_outbox_oldest_seconds {float(backlog_age):.0f}",
    ]
    dead = await session.scalar(OUTBOX_DEAD_LETTERED)
    lines += [
        "# HELP cart_outbox_dead_lettered Domain events the relay gave up on (see manage.py "
        "dead-letters).",
        "# TYPE cart_outbox_dead_lettered gauge",
        f"cart_outbox_dead_lettered {int(dead or 0)}",
    ]
    refunds = await session.scalar(REFUNDS_DUE)
    lines += [
        "# HELP cart_refunds_due Paid orders marked as needing a refund, not yet refunded.",
        "# TYPE cart_refunds_due gauge",
        f"cart_refunds_due {int(refunds or 0)}",
    ]
    unconfirmed = await session.scalar(REFUNDS_UNCONFIRMED)
    lines += [
        "# HELP cart_refunds_unconfirmed Refunds sent to SumUp whose outcome is not confirmed yet.",
        "# TYPE cart_refunds_unconfirmed gauge",
        f"cart_refunds_unconfirmed {int(unconfirmed or 0)}",
    ]
    mismatches = await session.scalar(PAYMENT_MISMATCHES)
    lines += [
        "# HELP cart_payment_mismatches Payments SumUp reported that did not match their order, "
        "not yet resolved by an operator.",
        "# TYPE cart_payment_mismatches gauge",
        f"cart_payment_mismatches {int(mismatches or 0)}",
    ]
    return "\n".join(lines) + "\n"
