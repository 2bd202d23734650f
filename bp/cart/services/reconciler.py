"""The reconciler: settles open orders whose webhook never came and expires abandoned ones.

One pass at a time across every worker and machine (lib/locks.py: a PostgreSQL advisory lock
on a connection of its own), so a second worker skips its turn instead of doing the same work
twice. Told to stop, a
pass ends after the order in hand (each order is its own transaction).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.check_sumup_status import check_sumup_status
from bp.cart.services.orders import close_order, load_order, session_ends_at
from bp.cart.services.payment_attempts import deactivate_current_attempt
from config.settings import Settings
from lib.db import Databases
from lib.errors import ServiceError
from lib.jobs import run_every
from lib.locks import lock_key, single_instance
from models import OPEN_STATUSES, Order
from services.registry import DomainServices
from services.runtime import Runtime
from services.sumup import PaymentGateway

# pg_advisory_lock key of the reconciler ("reconcil" in ASCII), shared by every worker.
RECONCILER_LOCK_KEY = lock_key(b"reconcil")

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
    *,
    databases: Databases,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
    now: datetime | None = None,
    stop: asyncio.Event | None = None,
) -> ReconcileReport:
    """One pass over the open orders (a bounded batch, oldest first), if no one else is in one.

    With `stop`, the pass ends early once it is set, after the order in hand.
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
            now=now,
            stop=stop,
        )


async def _pass(
    *,
    databases: Databases,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
    now: datetime | None,
    stop: asyncio.Event | None,
) -> ReconcileReport:
    report = ReconcileReport()
    async with databases.sessionmaker() as session:
        order_ids = list(
            await session.scalars(
                select(Order.id)
                .where(Order.status.in_(OPEN_STATUSES))
                .order_by(Order.created_at, Order.id)
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
    session: AsyncSession,
    *,
    order_id: int,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
    now: datetime | None = None,
) -> str:
    """Settle one open order by SumUp, and expire it once its hosted session is over.

    Answers the order's status afterwards ("open" when nothing changed).
    """
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
        if settlement.mismatch:
            # A checkout that does not match its order is an operator's call, not ours.
            return "open"
        order = await load_order(session, order_id)
        assert order is not None
    deadline = session_ends_at(order, settings) + timedelta(minutes=settings.checkout_grace_minutes)
    if (now or datetime.now(UTC)) < deadline:
        await session.commit()
        return "open"
    return await expire_order(
        session, order_id=order_id, settings=settings, gateway=gateway, domains=domains
    )


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
    try:
        order = await load_order(session, order_id, lock=True)
        assert order is not None
        # Paid, or given a new attempt, while SumUp was being asked: leave it be.
        if order.status in OPEN_STATUSES and order.sumup_reference == done.reference:
            await close_order(
                session, order=order, status="expired", domains=domains, sumup_status="EXPIRED"
            )
        status = order.status
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return status


async def reconciler_job(runtime: Runtime, stop: asyncio.Event) -> None:
    """Background job: a reconciler pass every RECONCILER_INTERVAL_SECONDS until told to stop."""
    await run_every(
        runtime.settings.reconciler_interval_seconds,
        lambda: reconcile_once(
            databases=runtime.databases,
            settings=runtime.settings,
            gateway=runtime.gateway,
            domains=runtime.domains,
            stop=stop,
        ),
        stop=stop,
        name="reconciler",
    )
