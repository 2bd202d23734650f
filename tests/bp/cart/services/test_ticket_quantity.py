"""The ticket rule under concurrency: changes of one shopper's tickets of one type, made at once
on several connections, end in a count one of them asked for, never a mixture."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from quart import Quart
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.ticket_quantity import TicketChange, add_tickets, set_ticket_quantity
from bp.runtime import runtime
from lib.errors import ServiceError
from models import Ticket, TicketType
from tests.support import factories as f

ROUNDS = 5


async def standard_tickets(db: AsyncSession, capacity: int | None = 50) -> TicketType:
    event = await f.event(db, await f.calendar(db, await f.page(db)))
    return await f.ticket_type(db, event, "Standard", capacity=capacity)


async def pending_count(db: AsyncSession, user_id: int, ticket_type: TicketType) -> int:
    return int(
        await db.scalar(
            select(func.count(Ticket.id)).where(
                Ticket.user_id == user_id,
                Ticket.ticket_type_id == ticket_type.id,
                Ticket.state == "pending",
            )
        )
        or 0
    )


async def at_once(app: Quart, *changes: Callable[[AsyncSession], Awaitable[TicketChange]]) -> None:
    """Run the changes at the same moment, each in its own session on its own connection."""
    start = asyncio.Event()

    async def run(change: Callable[[AsyncSession], Awaitable[TicketChange]]) -> TicketChange:
        async with runtime(app).databases.sessionmaker() as session:
            # A connection of its own before the start line, so the changes really overlap.
            await session.execute(select(1))
            await start.wait()
            return await change(session)

    tasks = [asyncio.create_task(run(change)) for change in changes]
    await asyncio.sleep(0.05)
    start.set()
    await asyncio.gather(*tasks)


async def test_two_quantity_changes_at_once_leave_one_of_the_counts(
    app: Quart, db: AsyncSession
) -> None:
    ticket_type = await standard_tickets(db)
    domains = runtime(app).domains
    await f.ticket(db, ticket_type, user_id=1)

    for _ in range(ROUNDS):
        await at_once(
            app,
            lambda s: set_ticket_quantity(
                s, user_id=1, ticket_type_id=ticket_type.id, quantity=3, domains=domains
            ),
            lambda s: set_ticket_quantity(
                s, user_id=1, ticket_type_id=ticket_type.id, quantity=5, domains=domains
            ),
        )
        assert await pending_count(db, 1, ticket_type) in (3, 5)
        # Back to one ticket, so that the next round changes the count again.
        await set_ticket_quantity(
            db, user_id=1, ticket_type_id=ticket_type.id, quantity=1, domains=domains
        )


async def test_adds_at_once_are_all_counted(app: Quart, db: AsyncSession) -> None:
    ticket_type = await standard_tickets(db)
    domains = runtime(app).domains

    await at_once(
        app,
        *[
            lambda s: add_tickets(
                s, user_id=1, ticket_type_id=ticket_type.id, quantity=2, domains=domains
            )
            for _ in range(4)
        ],
        lambda s: set_ticket_quantity(
            s, user_id=2, ticket_type_id=ticket_type.id, quantity=3, domains=domains
        ),
    )

    assert await pending_count(db, 1, ticket_type) == 8
    assert await pending_count(db, 2, ticket_type) == 3


async def test_adds_at_once_never_go_beyond_what_is_left(app: Quart, db: AsyncSession) -> None:
    ticket_type = await standard_tickets(db, capacity=5)
    domains = runtime(app).domains

    refused: list[str] = []

    async def add_three(session: AsyncSession) -> TicketChange:
        try:
            return await add_tickets(
                session, user_id=1, ticket_type_id=ticket_type.id, quantity=3, domains=domains
            )
        except ServiceError as error:
            refused.append(error.message)
            return TicketChange(ticket_type="", event="", before=0, after=0)

    await at_once(app, add_three, add_three)

    # The second waits for the first, sees its three tickets, and is told how many are left.
    assert refused == [
        "Only 5 Standard tickets for Folk night are left, so your cart can hold at most 5."
    ]
    assert await pending_count(db, 1, ticket_type) == 3
