"""Carts left behind: anonymous carts untouched for ANONYMOUS_CART_DAYS are emptied.

An anonymous cart (a browser's cart session) is left behind when none of its product lines was
added to or changed (`updated_at`) since the cut-off and none of its bookings or tickets was
put in since. Its lines are deleted and its pending bookings and tickets cancelled through the
events domain (so their places are free). A signed-in shopper's cart is kept whatever its age,
and nothing claimed by an order, nor any order, is touched.

One pass at a time across every worker (lib/locks.py), in batches of carts, each batch its own
transaction; told to stop, a pass ends after the batch in hand.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from lib.db import Databases, rolled_back_on_error
from lib.jobs import run_every
from lib.locks import lock_key, single_instance
from models import CartItem
from services.registry import DomainServices
from services.runtime import Runtime

PURGE_LOCK_KEY = lock_key(b"cartpurg")
BATCH_SIZE = 500

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeReport:
    """What one pass removed; `ran` is False when another worker held the lock."""

    ran: bool = True
    carts: int = 0
    lines: int = 0
    bookings: int = 0
    tickets: int = 0


def purge_cutoff(settings: Settings, *, now: datetime | None = None) -> datetime:
    """Carts untouched since before this are left behind."""
    return (now or datetime.now(UTC)) - timedelta(days=settings.anonymous_cart_days)


async def purge_once(
    *,
    databases: Databases,
    settings: Settings,
    domains: DomainServices,
    now: datetime | None = None,
    stop: asyncio.Event | None = None,
) -> PurgeReport:
    """One pass over the anonymous carts left behind, if no other worker is in one."""
    async with single_instance(databases.engine, PURGE_LOCK_KEY) as acquired:
        if not acquired:
            log.debug("cart purge: another worker is running a pass")
            return PurgeReport(ran=False)
        report = PurgeReport()
        cutoff = purge_cutoff(settings, now=now)
        while stop is None or not stop.is_set():
            async with databases.sessionmaker() as session:
                batch = await purge_anonymous_carts(
                    session, untouched_since=cutoff, domains=domains, limit=BATCH_SIZE
                )
            report = PurgeReport(
                carts=report.carts + batch.carts,
                lines=report.lines + batch.lines,
                bookings=report.bookings + batch.bookings,
                tickets=report.tickets + batch.tickets,
            )
            if batch.carts < BATCH_SIZE:
                break
    if report.carts:
        log.info(
            "cart purge: %d anonymous carts emptied (%d lines, %d bookings, %d tickets)",
            report.carts,
            report.lines,
            report.bookings,
            report.tickets,
        )
    return report


async def purge_anonymous_carts(
    session: AsyncSession, *, untouched_since: datetime, domains: DomainServices, limit: int
) -> PurgeReport:
    """Empty up to `limit` anonymous carts untouched since the time, in one transaction."""
    async with rolled_back_on_error(session):
        carts = await _left_behind(
            session, untouched_since=untouched_since, domains=domains, limit=limit
        )
        if not carts:
            await session.commit()
            return PurgeReport()
        result = await session.execute(
            delete(CartItem)
            .where(
                CartItem.session_id.in_(carts),
                CartItem.user_id.is_(None),
                CartItem.deleted_at.is_(None),
                # A line changed a moment ago (the shopper came back) stays.
                CartItem.updated_at < untouched_since,
            )
            .execution_options(synchronize_session=False)
        )
        cancelled = await domains.calendar.cancel_pending_for_sessions(session, session_ids=carts)
        await session.commit()
    return PurgeReport(
        carts=len(carts),
        lines=int(getattr(result, "rowcount", 0) or 0),
        bookings=cancelled.entries,
        tickets=cancelled.tickets,
    )


async def _left_behind(
    session: AsyncSession, *, untouched_since: datetime, domains: DomainServices, limit: int
) -> list[str]:
    """Anonymous carts with nothing added or changed since the time (lines, bookings, tickets)."""
    stale_lines = list(
        await session.scalars(
            select(CartItem.session_id)
            .where(
                CartItem.session_id.is_not(None),
                CartItem.user_id.is_(None),
                CartItem.deleted_at.is_(None),
            )
            .group_by(CartItem.session_id)
            .having(func.max(CartItem.updated_at) < untouched_since)
            .order_by(CartItem.session_id)
            .limit(limit)
        )
    )
    calendar = domains.calendar
    stale_calendar = await calendar.stale_anonymous_sessions(
        session, untouched_since=untouched_since, limit=limit
    )
    candidates = sorted({sid for sid in (*stale_lines, *stale_calendar) if sid is not None})
    if not candidates:
        return []
    # A cart whose lines are old but whose booking is new (or the other way round) is in use.
    fresh_lines = set(
        await session.scalars(
            select(CartItem.session_id)
            .where(
                CartItem.session_id.in_(candidates),
                CartItem.deleted_at.is_(None),
                CartItem.updated_at >= untouched_since,
            )
            .distinct()
        )
    )
    fresh_calendar = await calendar.active_anonymous_sessions(
        session, session_ids=candidates, since=untouched_since
    )
    return [sid for sid in candidates if sid not in fresh_lines | fresh_calendar][:limit]


async def purge_job(runtime: Runtime, stop: asyncio.Event) -> None:
    """Background job: a purge pass every CART_PURGE_INTERVAL_SECONDS until told to stop."""
    await run_every(
        runtime.settings.cart_purge_interval_seconds,
        lambda: purge_once(
            databases=runtime.databases,
            settings=runtime.settings,
            domains=runtime.domains,
            stop=stop,
        ),
        stop=stop,
        name="cart purge",
    )
