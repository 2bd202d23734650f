"""A service's block that fails leaves no transaction open and no row lock held."""

from __future__ import annotations

import pytest
from quart import Quart
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from lib.db import rolled_back_on_error
from models import Order
from tests.support import factories


class Refused(Exception):
    pass


async def test_a_failed_block_rolls_back_and_lets_the_error_go_on(
    app: Quart, db: AsyncSession
) -> None:
    order = await factories.order(db, user_id=7, status="pending")
    order_id = order.id
    await db.commit()

    with pytest.raises(Refused):
        async with rolled_back_on_error(db):
            locked = await db.scalar(select(Order).where(Order.id == order_id).with_for_update())
            assert locked is not None
            locked.status = "paid"
            raise Refused

    assert not db.in_transaction()
    async with runtime(app).databases.sessionmaker() as other:
        await other.execute(text("SET LOCAL lock_timeout = '2s'"))
        row = await other.scalar(
            select(Order.status).where(Order.id == order_id).with_for_update()
        )
    assert row == "pending"


async def test_a_block_that_succeeds_keeps_its_transaction(db: AsyncSession) -> None:
    async with rolled_back_on_error(db):
        await db.execute(text("SELECT 1"))
    assert db.in_transaction()
