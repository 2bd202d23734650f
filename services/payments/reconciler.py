"""The reconciler: settles open orders whose webhook never came and expires abandoned ones.

One pass at a time across every worker and machine: a pass runs only while it holds a
PostgreSQL session-level advisory lock, taken with pg_try_advisory_lock on a connection of its
own, so a second worker skips its turn instead of doing the same work twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from quart import Quart
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.check_sumup_status import check_sumup_status
from bp.cart.services.payment_attempts import deactivate_current_attempt
from lib import lifecycle
from lib.errors import ServiceError
from models import Order
from services.payments.orders import OPEN_STATUSES, close_order, load_order, session_ends_at
from services.payments.runtime import PaymentsRuntime

# pg_advisory_lock key of the reconciler ("reconcil" in ASCII), shared by every worker.
RECONCILER_LOCK_KEY = int.from_bytes(b"reconcil", "big", signed=True)

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


async def reconcile_once(
    runtime: PaymentsRuntime, *, now: datetime | None = None
) -> ReconcileReport:
    """One pass over the open orders (a bounded batch, oldest first), if no one else is in one."""
    async with runtime.engine.connect() as lock_connection:
        acquired = await lock_connection.scalar(
            select(func.pg_try_advisory_lock(RECONCILER_LOCK_KEY))
        )
        # The lock belongs to the connection, not to this transaction: end the transaction.
        await lock_connection.commit()
        if not acquired:
            log.debug("reconciler: another worker is running a pass")
            return ReconcileReport(ran=False)
        try:
            return await _pass(runtime, now=now)
        finally:
            await lock_connection.scalar(select(func.pg_advisory_unlock(RECONCILER_LOCK_KEY)))
            await lock_connection.commit()


async def _pass(runtime: PaymentsRuntime, *, now: datetime | None) -> ReconcileReport:
    settings = runtime.settings
    report = ReconcileReport()
    async with runtime.sessionmaker() as session:
        order_ids = list(
            await session.scalars(
                select(Order.id)
                .where(Order.status.in_(OPEN_STATUSES))
                .order_by(Order.created_at, Order.id)
                .limit(settings.reconciler_batch_size)
            )
        )
    for order_id in order_ids:
        report.checked += 1
        async with runtime.sessionmaker() as session:
            try:
                outcome = await reconcile_order(
                    session, order_id=order_id, runtime=runtime, now=now
                )
            except ServiceError as error:
                # SumUp unreachable, a merchant without credentials: the next pass tries again.
                log.warning("reconciler: order %s left for the next pass: %s", order_id, error)
                report.errors += 1
                continue
            except Exception:  # one broken order must not stop the others
                log.exception("reconciler: order %s failed", order_id)
                report.errors += 1
                continue
        if outcome == "paid":
            report.paid += 1
        elif outcome == "expired":
            report.expired += 1
    if report.paid or report.expired or report.errors:
        log.info(
            "reconciler: %d checked, %d paid, %d expired, %d errors",
            report.checked,
            report.paid,
            report.expired,
            report.errors,
        )
    return report


async def reconcile_order(
    session: AsyncSession, *, order_id: int, runtime: PaymentsRuntime, now: datetime | None = None
) -> str:
    """Settle one open order by SumUp, and expire it once its hosted session is over.

    Answers the order's status afterwards ("open" when nothing changed).
    """
    settings, gateway = runtime.settings, runtime.gateway
    order = await load_order(session, order_id)
    if order is None or order.status not in OPEN_STATUSES:
        await session.commit()
        return order.status if order is not None else "missing"
    if order.sumup_reference is not None or order.sumup_checkout_id is not None:
        await session.commit()
        settlement = await check_sumup_status(
            session, order_id=order_id, gateway=gateway, settings=settings, source="reconciler"
        )
        if settlement.status not in OPEN_STATUSES:
            return settlement.status
        if settlement.mismatch:
            # A checkout that does not match its order is an operator's call, not ours.
            return "open"
        order = await load_order(session, order_id)
        assert order is not None
    deadline = session_ends_at(order, settings) + timedelta(minutes=settings.checkout_grace_minutes)
    if (now or datetime.now(UTC)) < deadline:
        await session.commit()
        return "open"
    return await expire_order(session, order_id=order_id, runtime=runtime)


async def expire_order(session: AsyncSession, *, order_id: int, runtime: PaymentsRuntime) -> str:
    """Deactivate the order's SumUp checkout, then expire it and release its claims.

    A checkout SumUp reports as processed is settled as paid instead. Answers the status.
    """
    done = await deactivate_current_attempt(
        session,
        order_id=order_id,
        settings=runtime.settings,
        gateway=runtime.gateway,
        source="reconciler",
    )
    if done.paid:
        return "paid"
    try:
        order = await load_order(session, order_id, lock=True)
        assert order is not None
        # Paid, or given a new attempt, while SumUp was being asked: leave it be.
        if order.status in OPEN_STATUSES and order.sumup_reference == done.reference:
            await close_order(session, order=order, status="expired", sumup_status="EXPIRED")
        status = order.status
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return status


async def reconciler_job(app: Quart) -> None:
    """Background job: a reconciler pass every RECONCILER_INTERVAL_SECONDS."""
    settings = lifecycle.settings_of(app)
    if not settings.reconciler_enabled:
        return
    runtime = PaymentsRuntime.of_app(app)
    while True:
        try:
            await reconcile_once(runtime)
        except Exception:  # a failed pass (database down) must not end the job
            log.exception("reconciler pass failed")
        await asyncio.sleep(settings.reconciler_interval_seconds)


if reconciler_job not in lifecycle.BACKGROUND_JOBS:
    lifecycle.BACKGROUND_JOBS.append(reconciler_job)
