"""The reconciler: settles open orders whose webhook never came and expires abandoned ones.

Each open order has its own next-check time. A pass takes the orders that are due, those
looked at longest ago first, up to its batch; after each look the order's next check moves
back, the further the older its payment attempt (never past the moment it is due to expire),
so however many orders stay open, every one of them comes up within a bounded time. An order
whose check failed (SumUp unreachable) stays due, behind the others.

One pass at a time across every worker and machine (lib/locks.py), so a second worker skips
its turn instead of doing the same work twice. Told to stop, a pass ends after the order in
hand (each order is its own transaction). A pass also asks SumUp about refunds whose answer
was lost (refunds.py), so that none stays pending confirmation.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.check_sumup_status import check_sumup_status
from bp.cart.services.order_state import (
    close_order,
    get_order_or_raise,
    load_order,
    payment_window_ends_at,
    payment_window_opened_at,
)
from bp.cart.services.payment_attempts import deactivate_current_attempt
from bp.cart.services.refunds import refund_settle_time, resolve_pending_refund
from config.settings import Settings
from lib.db import Databases, rolled_back_on_error
from lib.errors import ServiceError
from lib.jobs import run_every
from lib.locks import lock_key, single_instance
from models import OPEN_STATUSES, Order
from services.job_status import record_reconciler_pass
from services.registry import DomainServices
from services.runtime import Runtime
from services.sumup import PaymentGateway

# The reconciler's lock ("reconcil"), shared by every worker.
RECONCILER_LOCK_KEY = lock_key(b"reconcil")
# An open order is looked at again after this share of its attempt's age (within the bounds
# of the settings): often while the shopper may be paying, seldom once it is abandoned.
RECHECK_AGE_SHARE = 0.5

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    """What one pass did (`paid`: orders it found paid); `ran` is False when another worker
    held the lock."""

    ran: bool = True
    checked: int = 0
    paid: int = 0
    expired: int = 0
    errors: int = 0
    # Refunds left pending confirmation that SumUp's transaction settled (made or not made).
    refunds_resolved: int = 0


async def reconcile_once(
    *,
    databases: Databases,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
    now: datetime | None = None,
    stop: asyncio.Event | None = None,
) -> ReconcileReport:
    """One pass over the open orders that are due (a bounded batch), if no one else is in one.

    `now` is the time the pass takes as the present (tests move it). With `stop`, the pass
    ends early once it is set, after the order in hand.
    """
    async with single_instance(databases.engine, RECONCILER_LOCK_KEY) as acquired:
        if not acquired:
            log.debug("reconciler: another worker is running a pass")
            return ReconcileReport(ran=False)
        return await _pass(
            databases=databases,
            settings=settings,
            gateway=gateway,
            domains=domains,
            now=now or datetime.now(UTC),
            stop=stop,
        )


async def _pass(
    *,
    databases: Databases,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
    now: datetime,
    stop: asyncio.Event | None,
) -> ReconcileReport:
    report = ReconcileReport()
    async with databases.sessionmaker() as session:
        order_ids = list(
            await session.scalars(
                select(Order.id)
                .where(Order.status.in_(OPEN_STATUSES), Order.next_check_at <= now)
                .order_by(func.coalesce(Order.last_checked_at, Order.created_at), Order.id)
                .limit(settings.reconciler_batch_size)
            )
        )
    for order_id in order_ids:
        if stop is not None and stop.is_set():
            break
        report.checked += 1
        async with databases.sessionmaker() as session:
            try:
                outcome = await reconcile_order(
                    session,
                    order_id=order_id,
                    settings=settings,
                    gateway=gateway,
                    domains=domains,
                    now=now,
                )
            except ServiceError as error:
                # SumUp unreachable, a merchant without credentials: the next pass tries again.
                log.warning("reconciler: order %s left for the next pass: %s", order_id, error)
                report.errors += 1
                await _record_check(session, order_id=order_id, now=now)
                continue
            except Exception:  # one broken order must not stop the others
                log.exception("reconciler: order %s failed", order_id)
                report.errors += 1
                await _record_check(session, order_id=order_id, now=now)
                continue
        if outcome == "paid":
            report.paid += 1
        elif outcome == "expired":
            report.expired += 1
    await _resolve_refunds(
        report, databases=databases, settings=settings, gateway=gateway, now=now, stop=stop
    )
    if report.paid or report.expired or report.errors or report.refunds_resolved:
        log.info(
            "reconciler: %d checked, %d paid, %d expired, %d errors, %d refunds resolved",
            report.checked,
            report.paid,
            report.expired,
            report.errors,
            report.refunds_resolved,
        )
    return report


async def _resolve_refunds(
    report: ReconcileReport,
    *,
    databases: Databases,
    settings: Settings,
    gateway: PaymentGateway,
    now: datetime,
    stop: asyncio.Event | None,
) -> None:
    """Ask SumUp about the refunds left pending confirmation long enough (refunds.py)."""
    async with databases.sessionmaker() as session:
        order_ids = list(
            await session.scalars(
                select(Order.id)
                .where(
                    Order.refund_requested_at.is_not(None),
                    Order.refunded_at.is_(None),
                    Order.refund_requested_at <= now - refund_settle_time(settings),
                )
                .order_by(Order.refund_requested_at)
                .limit(settings.reconciler_batch_size)
            )
        )
    for order_id in order_ids:
        if stop is not None and stop.is_set():
            return
        async with databases.sessionmaker() as session:
            try:
                outcome = await resolve_pending_refund(
                    session, order_id=order_id, settings=settings, gateway=gateway, now=now
                )
            except Exception:  # one broken order must not stop the others
                log.exception("reconciler: the refund of order %s could not be settled", order_id)
                report.errors += 1
                continue
        if outcome is not None:
            report.refunds_resolved += 1


async def reconcile_order(
    session: AsyncSession,
    *,
    order_id: int,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
    now: datetime | None = None,
) -> str:
    """Settle one open order by SumUp, and expire it once its payment window is over.

    A checkout that does not match its order never pays it, and such an order expires on
    schedule like any unpaid one. Answers the order's status afterwards ("open" when nothing
    changed), and schedules the order's next check while it stays open.
    """
    now = now or datetime.now(UTC)
    order = await load_order(session, order_id)
    if order is None or order.status not in OPEN_STATUSES:
        await session.commit()
        return order.status if order is not None else "missing"
    if order.sumup_reference is not None or order.sumup_checkout_id is not None:
        await session.commit()
        settlement = await check_sumup_status(
            session,
            order_id=order_id,
            settings=settings,
            gateway=gateway,
            domains=domains,
            source="reconciler",
        )
        if settlement.status not in OPEN_STATUSES:
            return settlement.status
        order = await get_order_or_raise(session, order_id)
    deadline = expiry_due_at(order, settings)
    if now < deadline:
        await session.commit()
        await _record_check(
            session, order_id=order_id, now=now, next_check_at=next_check(order, settings, now)
        )
        return "open"
    status = await expire_order(
        session, order_id=order_id, settings=settings, gateway=gateway, domains=domains
    )
    if status in OPEN_STATUSES:
        # Given a new attempt while it was being expired: its schedule starts again.
        await _record_check(session, order_id=order_id, now=now)
    return status


def expiry_due_at(order: Order, settings: Settings) -> datetime:
    """When an order still unpaid is expired: its payment window's end, and a little grace."""
    return payment_window_ends_at(order, settings) + timedelta(
        minutes=settings.checkout_grace_minutes
    )


def next_check(order: Order, settings: Settings, now: datetime) -> datetime:
    """When to look at an open order again: after a share of its attempt's age, bounded below
    by the reconciler's interval and above by RECONCILER_MAX_RECHECK_SECONDS, and never later
    than its expiry."""
    age = max((now - payment_window_opened_at(order)).total_seconds(), 0.0)
    wait = min(
        max(age * RECHECK_AGE_SHARE, settings.reconciler_interval_seconds),
        settings.reconciler_max_recheck_seconds,
    )
    return min(now + timedelta(seconds=wait), expiry_due_at(order, settings))


async def _record_check(
    session: AsyncSession, *, order_id: int, now: datetime, next_check_at: datetime | None = None
) -> None:
    """Note that the order was looked at (and, when given, when it is due next); commits.

    Without `next_check_at` the order stays due: it comes up again once the orders looked at
    before it have had their turn.
    """
    values: dict[str, object] = {"last_checked_at": now, "updated_at": Order.updated_at}
    if next_check_at is not None:
        values["next_check_at"] = next_check_at
    async with rolled_back_on_error(session):
        await session.execute(
            update(Order)
            .where(Order.id == order_id, Order.status.in_(OPEN_STATUSES))
            .values(**values)
        )
        await session.commit()


async def expire_order(
    session: AsyncSession,
    *,
    order_id: int,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
) -> str:
    """Deactivate the order's SumUp checkout, then expire it and release its claims.

    A checkout SumUp reports as processed is settled as paid instead. Answers the status.
    """
    done = await deactivate_current_attempt(
        session,
        order_id=order_id,
        settings=settings,
        gateway=gateway,
        domains=domains,
        source="reconciler",
    )
    if done.paid:
        return "paid"
    async with rolled_back_on_error(session):
        order = await get_order_or_raise(session, order_id, lock=True)
        # Paid, or given a new attempt, while SumUp was being asked: leave it be.
        if order.status in OPEN_STATUSES and order.sumup_reference == done.reference:
            await close_order(
                session, order=order, status="expired", domains=domains, sumup_status="EXPIRED"
            )
        status = order.status
        await session.commit()
    return status


async def reconciler_job(runtime: Runtime, stop: asyncio.Event) -> None:
    """Background job: a reconciler pass every RECONCILER_INTERVAL_SECONDS until told to stop."""
    await run_every(
        runtime.settings.reconciler_interval_seconds,
        lambda: reconcile_and_record(runtime, stop=stop),
        stop=stop,
        name="reconciler",
    )


async def reconcile_and_record(
    runtime: Runtime, *, stop: asyncio.Event | None = None, now: datetime | None = None
) -> ReconcileReport:
    """One pass (`reconcile_once`), counted in the runtime's metrics; a pass that ran is noted
    in Redis as the last one, for every worker's `/readyz`."""
    metrics = runtime.metrics
    try:
        report = await reconcile_once(
            databases=runtime.databases,
            settings=runtime.settings,
            gateway=runtime.gateway,
            domains=runtime.domains,
            now=now,
            stop=stop,
        )
    except Exception:
        metrics.reconciler_passes.labels("failed").inc()
        raise
    if not report.ran:
        metrics.reconciler_passes.labels("skipped").inc()
        return report
    metrics.reconciler_passes.labels("ok").inc()
    metrics.orders_expired.inc(report.expired)
    await record_reconciler_pass(runtime.redis.cart, at=datetime.now(UTC))
    return report
