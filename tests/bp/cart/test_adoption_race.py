"""Adoption at sign-in moves the anonymous lines in one statement: a change another connection
makes to them meanwhile is either moved with them or left where it was, never lost or revived."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from quart import Quart
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.adopt import adopt_anonymous_cart
from bp.runtime import runtime
from models import CartItem
from tests.support import factories as f
from tests.support.lock_waits import statement_waiting_for_a_lock

SID = "anon-racing-1"
USER_ID = 7


async def loaf_in_anonymous_cart(db: AsyncSession, quantity: int = 2) -> CartItem:
    page = await f.page(db, "bakery", "The Bakery")
    loaf = await f.product(db, page, "Sourdough loaf", "4.50")
    return await f.cart_item(db, loaf, session_id=SID, quantity=quantity)


async def adopt(app: Quart) -> Any:
    """The adoption, on its own connection."""
    async with runtime(app).databases.sessionmaker() as session:
        return await adopt_anonymous_cart(
            session,
            session_id=SID,
            user_id=USER_ID,
            max_quantity=99,
            domains=runtime(app).domains,
        )


async def wait_until_a_statement_waits_for_a_row(db: AsyncSession) -> None:
    """Until another connection of this database waits for a lock on cart_items."""
    await statement_waiting_for_a_lock(db, matching="%cart_items%")


async def live_quantities(db: AsyncSession) -> dict[str, int]:
    rows = await db.execute(
        select(CartItem.user_id, CartItem.session_id, func.sum(CartItem.quantity))
        .where(CartItem.deleted_at.is_(None))
        .group_by(CartItem.user_id, CartItem.session_id)
    )
    await db.commit()
    return {("user" if user_id else "anonymous"): int(total) for user_id, _, total in rows}


async def test_an_add_committed_during_adoption_is_moved_not_lost(
    app: Quart, db: AsyncSession
) -> None:
    line = await loaf_in_anonymous_cart(db, quantity=2)
    async with runtime(app).databases.sessionmaker() as shopper:
        # The anonymous shopper adds one more loaf in another tab; it commits mid-adoption.
        await shopper.execute(
            update(CartItem).where(CartItem.id == line.id).values(quantity=CartItem.quantity + 1)
        )
        adoption = asyncio.create_task(adopt(app))
        await wait_until_a_statement_waits_for_a_row(db)
        await shopper.commit()
        adopted = await adoption

    assert await live_quantities(db) == {"user": 3}
    assert adopted.result.items == 3


async def test_a_line_cleared_by_a_payment_during_adoption_does_not_come_back(
    app: Quart, db: AsyncSession
) -> None:
    line = await loaf_in_anonymous_cart(db, quantity=2)
    async with runtime(app).databases.sessionmaker() as payment:
        # Settlement soft-deletes the line of the order just paid; it commits mid-adoption.
        await payment.execute(
            update(CartItem).where(CartItem.id == line.id).values(deleted_at=datetime.now(UTC))
        )
        adoption = asyncio.create_task(adopt(app))
        await wait_until_a_statement_waits_for_a_row(db)
        await payment.commit()
        adopted = await adoption

    assert await live_quantities(db) == {}
    assert adopted.result.items == 0


async def test_adds_racing_an_adoption_are_all_kept(app: Quart, db: AsyncSession) -> None:
    line = await loaf_in_anonymous_cart(db, quantity=1)
    adds_per_tab, tabs = 5, 6
    made: list[int] = []

    async def tab() -> None:
        for _ in range(adds_per_tab):
            async with runtime(app).databases.sessionmaker() as shopper:
                result = await shopper.execute(
                    update(CartItem)
                    .where(CartItem.id == line.id, CartItem.deleted_at.is_(None))
                    .values(quantity=CartItem.quantity + 1)
                )
                await shopper.commit()
            made.append(int(getattr(result, "rowcount", 0)))
            await asyncio.sleep(0)

    await asyncio.gather(*(tab() for _ in range(tabs)), adopt(app))

    # Every add that found the anonymous line is in the user's cart; one that came after the
    # adoption found no line to add to.
    assert await live_quantities(db) == {"user": 1 + sum(made)}
