"""The purge of carts left behind: old anonymous carts emptied (bookings and tickets cancelled),
fresh or signed-in carts kept, orders never touched; one pass at a time; `manage.py purge-carts`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from quart import Quart
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import BACKGROUND_JOBS
from bp.cart.services.purge import PURGE_LOCK_KEY, purge_job, purge_once
from bp.runtime import runtime
from lib.locks import single_instance
from models import CalendarEntry, CartItem, Order, Ticket
from tests.conftest import TEST_AUTH_DB, TEST_CART_DB, redis_url
from tests.support import factories as f
from tests.support.checkout import state_of
from tests.support.processes import ROOT

LONG_AGO = datetime.now(UTC) - timedelta(days=45)
LAST_WEEK = datetime.now(UTC) - timedelta(days=7)


async def age(db: AsyncSession, model: type[Any], row_id: int, when: datetime) -> None:
    """Make a row look as old as `when` (lines by their last change, the others by creation)."""
    column = "updated_at" if model is CartItem else "created_at"
    await db.execute(update(model).where(model.id == row_id).values({column: when}))
    await db.commit()


async def line_exists(db: AsyncSession, line_id: int) -> bool:
    count = await db.scalar(
        select(func.count()).select_from(CartItem).where(CartItem.id == line_id)
    )
    return bool(count)


def deps(app: Quart) -> dict[str, Any]:
    serving = runtime(app)
    return {
        "databases": serving.databases,
        "settings": serving.settings,
        "domains": serving.domains,
    }


async def test_old_anonymous_carts_are_emptied_and_the_rest_kept(
    app: Quart, db: AsyncSession
) -> None:
    page = await f.page(db, "bakery")
    loaf = await f.product(db, page)
    calendar = await f.calendar(db, page)
    slot = await f.slot(db, calendar, capacity=1)
    kind = await f.ticket_type(db, await f.event(db, calendar))

    # Left behind: a line and a booking, both untouched for 45 days.
    old_line = await f.cart_item(db, loaf, session_id="anon-old")
    old_booking = await f.slot_booking(db, slot, session_id="anon-old")
    old_ticket = await f.ticket(db, kind, user_id=1)
    await db.execute(
        update(Ticket).where(Ticket.id == old_ticket.id).values(user_id=None, session_id="anon-old")
    )
    await db.commit()
    for model, row in ((CartItem, old_line), (CalendarEntry, old_booking), (Ticket, old_ticket)):
        await age(db, model, row.id, LONG_AGO)
    # Only bookings, untouched: left behind too.
    lone_booking = await f.booking(db, calendar, session_id="anon-bookings-only")
    await age(db, CalendarEntry, lone_booking.id, LONG_AGO)
    # Touched last week: kept.
    recent_line = await f.cart_item(db, loaf, session_id="anon-recent")
    await age(db, CartItem, recent_line.id, LAST_WEEK)
    # Old lines but a booking put in last week: the cart is in use.
    mixed_line = await f.cart_item(db, loaf, session_id="anon-mixed")
    await age(db, CartItem, mixed_line.id, LONG_AGO)
    mixed_booking = await f.booking(db, calendar, session_id="anon-mixed")
    await age(db, CalendarEntry, mixed_booking.id, LAST_WEEK)
    # A signed-in shopper's cart, however old: kept.
    user_line = await f.cart_item(db, loaf, user_id=7)
    user_booking = await f.booking(db, calendar, user_id=7)
    await age(db, CartItem, user_line.id, LONG_AGO)
    await age(db, CalendarEntry, user_booking.id, LONG_AGO)
    # An old anonymous order with its claimed booking: never touched.
    order = await f.order(db, session_id="anon-old", status="pending")
    claimed = await f.booking(db, calendar, session_id="anon-old", state="ordered")
    await db.execute(
        update(CalendarEntry).where(CalendarEntry.id == claimed.id).values(order_id=order.id)
    )
    await db.commit()
    await age(db, CalendarEntry, claimed.id, LONG_AGO)

    report = await purge_once(**deps(app))

    assert (report.carts, report.lines, report.bookings, report.tickets) == (2, 1, 2, 1)
    assert not await line_exists(db, old_line.id)
    assert await state_of(db, CalendarEntry, old_booking.id) == "cancelled"
    assert await state_of(db, CalendarEntry, lone_booking.id) == "cancelled"
    assert await state_of(db, Ticket, old_ticket.id) == "cancelled"
    assert await line_exists(db, recent_line.id)
    assert await line_exists(db, mixed_line.id)
    assert await state_of(db, CalendarEntry, mixed_booking.id) == "pending"
    assert await line_exists(db, user_line.id)
    assert await state_of(db, CalendarEntry, user_booking.id) == "pending"
    assert await state_of(db, CalendarEntry, claimed.id) == "ordered"
    kept = await db.get(Order, order.id, populate_existing=True)
    assert kept is not None and kept.status == "pending"
    # The purged booking's place is free again.
    left = await runtime(app).domains.calendar.slot_availability(db, slot_ids=[slot.id])
    assert left == {slot.id: 1}

    again = await purge_once(**deps(app))
    assert (again.carts, again.lines, again.bookings) == (0, 0, 0)


async def test_anonymous_cart_days_sets_the_age(app: Quart, db: AsyncSession) -> None:
    page = await f.page(db, "bakery")
    line = await f.cart_item(db, await f.product(db, page), session_id="anon-week")
    await age(db, CartItem, line.id, LAST_WEEK)
    settings = runtime(app).settings.model_copy(update={"anonymous_cart_days": 5})

    report = await purge_once(**{**deps(app), "settings": settings})

    assert report.lines == 1
    assert not await line_exists(db, line.id)


async def test_one_pass_at_a_time(app: Quart, db: AsyncSession) -> None:
    page = await f.page(db, "bakery")
    line = await f.cart_item(db, await f.product(db, page), session_id="anon-old")
    await age(db, CartItem, line.id, LONG_AGO)

    async with single_instance(runtime(app).databases.engine, PURGE_LOCK_KEY) as held:
        assert held
        skipped = await purge_once(**deps(app))

    assert skipped.ran is False
    assert await line_exists(db, line.id)


def test_the_purge_is_one_of_the_apps_jobs() -> None:
    assert purge_job in BACKGROUND_JOBS


async def test_manage_py_runs_one_pass(app: Quart, db: AsyncSession, database_url: str) -> None:
    page = await f.page(db, "bakery")
    line = await f.cart_item(db, await f.product(db, page), session_id="anon-old")
    await age(db, CartItem, line.id, LONG_AGO)
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url(),
        "REDIS_AUTH_DB": str(TEST_AUTH_DB),
        "REDIS_CART_DB": str(TEST_CART_DB),
    }

    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "manage.py", "purge-carts"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "emptied 1 anonymous carts: 1 lines" in done.stdout
    assert not await line_exists(db, line.id)
