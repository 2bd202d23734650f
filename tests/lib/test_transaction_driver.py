"""A statement in a transaction runs on the driver of the transaction's connection, and is part
of that transaction as if it had gone through the session (lib/db.execute_in_transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import asyncpg
import pytest
from asyncpg.exceptions import AdminShutdownError, CannotConnectNowError, UniqueViolationError
from quart import Quart
from sqlalchemy import BigInteger, Table, bindparam, event, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from lib.db import Query, _connection_lost, execute_alone, execute_in_transaction
from lib.errors import database_unavailable
from models import CartItem, Order
from tests.support import factories

ORDERS = cast(Table, Order.__table__)
TRANSACTION_ID = Query(select(func.txid_current()))
ORDER_STATUS = Query(select(Order.status).where(Order.id == bindparam("order_id", BigInteger)))
MARK_FAILED = Query(
    update(ORDERS)
    .where(ORDERS.c.id == bindparam("order_id", BigInteger))
    .values(status="failed", updated_at=func.now())
    .returning(ORDERS.c.id)
)
LINES_OF = Query(
    select(func.count(CartItem.id)).where(CartItem.user_id == bindparam("user_id", BigInteger))
)


@contextmanager
def through_sqlalchemy(app: Quart) -> Iterator[list[str]]:
    """The statements SQLAlchemy itself executes inside the block."""
    seen: list[str] = []
    engine = runtime(app).databases.engine.sync_engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def pending_order(db: AsyncSession) -> int:
    order = await factories.order(db, user_id=7, status="pending")
    await db.commit()
    return order.id


async def test_the_first_statement_begins_the_transaction_and_the_rest_run_on_the_driver(
    app: Quart,
) -> None:
    async with runtime(app).databases.sessionmaker() as session:
        with through_sqlalchemy(app) as seen:
            first = (await execute_in_transaction(session, TRANSACTION_ID)).scalar()
            second = (await execute_in_transaction(session, TRANSACTION_ID)).scalar()
            third = (await execute_alone(session, TRANSACTION_ID)).scalar()
        assert session.in_transaction()
        await session.rollback()

    assert first == second == third, "all three ran in one transaction"
    assert len(seen) == 1, seen


async def test_what_it_writes_commits_and_rolls_back_with_the_session(
    app: Quart, db: AsyncSession
) -> None:
    kept, undone = await pending_order(db), await pending_order(db)
    sessions = runtime(app).databases.sessionmaker

    for order_id, ending in ((kept, "commit"), (undone, "rollback")):
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
            marked = await execute_in_transaction(session, MARK_FAILED, {"order_id": order_id})
            assert marked.scalar() == order_id
            # The session's own statements see it before the commit.
            assert await session.scalar(select(Order.status).where(Order.id == order_id)) == (
                "failed"
            )
            await getattr(session, ending)()

    async with sessions() as session:
        read = {
            order_id: (await execute_alone(session, ORDER_STATUS, {"order_id": order_id})).scalar()
            for order_id in (kept, undone)
        }
    assert read == {kept: "failed", undone: "pending"}


async def test_it_sees_what_the_session_has_not_flushed_yet(app: Quart, db: AsyncSession) -> None:
    page = await factories.page(db, "bakery")
    loaf = await factories.product(db, page, "Loaf", "4.50")
    await db.commit()

    async with runtime(app).databases.sessionmaker() as session:
        await session.execute(text("SELECT 1"))
        session.add(CartItem(user_id=41, product_id=loaf.id, quantity=1))
        counted = await execute_in_transaction(session, LINES_OF, {"user_id": 41})
        await session.rollback()

    assert counted.scalar() == 1


async def test_a_lost_connection_fails_the_statement_as_unavailable_and_is_not_reused(
    app: Quart, db: AsyncSession, database_url: str
) -> None:
    order_id = await pending_order(db)
    sessions = runtime(app).databases.sessionmaker

    async with sessions() as session:
        backend = await session.scalar(select(func.pg_backend_pid()))
        admin = await asyncpg.connect(database_url)
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", backend)
        finally:
            await admin.close()
        with pytest.raises(Exception) as failed:
            await execute_in_transaction(session, ORDER_STATUS, {"order_id": order_id})
        assert database_unavailable(failed.value)
        # The transaction ends without a round trip on the lost connection.
        await session.rollback()

    async with sessions() as session:
        await session.execute(text("SELECT 1"))
        status = await execute_in_transaction(session, ORDER_STATUS, {"order_id": order_id})
        assert status.scalar() == "pending"
        assert await session.scalar(select(func.pg_backend_pid())) != backend


def test_a_statement_with_a_value_computed_at_each_run_is_refused() -> None:
    # Order.updated_at is set by `onupdate` at each execution when the statement does not set it.
    with pytest.raises(ValueError, match="updated_at"):
        Query(update(ORDERS).values(status="failed"))


async def test_a_connection_the_server_is_shutting_down_is_not_trusted_again(
    database_url: str,
) -> None:
    # A fast shutdown's "terminating connection" can reach the driver before it sees the
    # connection close: that connection is lost all the same (invalidated, not pooled again).
    driver = await asyncpg.connect(database_url)
    try:
        assert not driver.is_closed()
        assert _connection_lost(AdminShutdownError("terminating connection"), driver)
        assert _connection_lost(CannotConnectNowError("the database system is starting"), driver)
        assert not _connection_lost(UniqueViolationError("duplicate key"), driver)
    finally:
        await driver.close()
