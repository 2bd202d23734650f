"""Arrange data in the shared and cart tables with few words; each returns the ORM row."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Calendar,
    CalendarEntry,
    CalendarSlot,
    CartItem,
    Order,
    OrderItem,
    Page,
    Product,
    Ticket,
    TicketType,
    User,
)

T = TypeVar("T")


async def _save(session: AsyncSession, row: T) -> T:
    session.add(row)
    await session.commit()
    return row


async def page(session: AsyncSession, slug: str = "bakery", title: str | None = None) -> Page:
    return await _save(session, Page(slug=slug, title=title or slug.title()))


async def product(
    session: AsyncSession, page: Page, title: str = "Sourdough loaf", price: str = "4.50"
) -> Product:
    slug = title.lower().replace(" ", "-") + "-" + secrets.token_hex(2)
    return await _save(
        session, Product(page_id=page.id, slug=slug, title=title, price=Decimal(price))
    )


async def calendar(session: AsyncSession, page: Page, name: str = "Sessions") -> Calendar:
    return await _save(session, Calendar(container_type="page", container_id=page.id, name=name))


async def slot(
    session: AsyncSession,
    calendar: Calendar,
    cost: str = "12.00",
    days_ahead: int = 1,
    *,
    capacity: int | None = None,
    name: str = "Taster session",
    start_at: datetime | None = None,
) -> CalendarSlot:
    start = start_at or datetime.now(UTC).replace(microsecond=0) + timedelta(days=days_ahead)
    return await _save(
        session,
        CalendarSlot(
            calendar_id=calendar.id,
            name=name,
            start_at=start,
            end_at=start + timedelta(hours=2),
            cost=Decimal(cost),
            capacity=capacity,
        ),
    )


async def slot_booking(
    session: AsyncSession,
    slot: CalendarSlot,
    *,
    user_id: int | None = None,
    session_id: str | None = None,
    state: str = "pending",
    order_id: int | None = None,
) -> CalendarEntry:
    """A booking of a slot, as the events app makes it when a shopper books one."""
    return await _save(
        session,
        CalendarEntry(
            calendar_id=slot.calendar_id,
            slot_id=slot.id,
            name=slot.name,
            start_at=slot.start_at,
            end_at=slot.end_at,
            state=state,
            cost=slot.cost,
            user_id=user_id,
            session_id=session_id,
            order_id=order_id,
        ),
    )


async def booking(
    session: AsyncSession,
    calendar: Calendar,
    *,
    user_id: int | None = None,
    session_id: str | None = None,
    cost: str = "12.00",
    state: str = "pending",
    name: str = "Taster session",
) -> CalendarEntry:
    """A pending calendar entry in someone's cart."""
    return await _save(
        session,
        CalendarEntry(
            calendar_id=calendar.id,
            name=name,
            start_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=2),
            state=state,
            cost=Decimal(cost),
            user_id=user_id,
            session_id=session_id,
        ),
    )


async def event(
    session: AsyncSession, calendar: Calendar, name: str = "Folk night"
) -> CalendarEntry:
    """An event entry that sells tickets."""
    return await _save(
        session,
        CalendarEntry(
            calendar_id=calendar.id,
            name=name,
            start_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=7),
            state="confirmed",
            cost=Decimal("0.00"),
            ticket_price=Decimal("10.00"),
        ),
    )


async def ticket_type(
    session: AsyncSession,
    event: CalendarEntry,
    name: str = "Standard",
    cost: str | None = "12.00",
    capacity: int | None = 50,
) -> TicketType:
    return await _save(
        session,
        TicketType(
            entry_id=event.id,
            name=name,
            cost=None if cost is None else Decimal(cost),
            capacity=capacity,
        ),
    )


async def ticket(
    session: AsyncSession,
    ticket_type: TicketType,
    *,
    user_id: int,
    state: str = "pending",
    order_id: int | None = None,
) -> Ticket:
    return await _save(
        session,
        Ticket(
            entry_id=ticket_type.entry_id,
            ticket_type_id=ticket_type.id,
            user_id=user_id,
            state=state,
            order_id=order_id,
            code=secrets.token_hex(8).upper(),
        ),
    )


async def cart_item(
    session: AsyncSession,
    product: Product,
    *,
    user_id: int | None = None,
    session_id: str | None = None,
    quantity: int = 1,
) -> CartItem:
    return await _save(
        session,
        CartItem(user_id=user_id, session_id=session_id, product_id=product.id, quantity=quantity),
    )


async def order(
    session: AsyncSession,
    *,
    user_id: int | None = None,
    session_id: str | None = None,
    status: str = "pending",
    page_id: int | None = None,
    items: list[tuple[str, int, str]] | None = None,
    created_at: datetime | None = None,
) -> Order:
    """An order with product items given as (title, quantity, unit price)."""
    lines = items or [("Sourdough loaf", 1, "4.50")]
    total = sum((Decimal(price) * qty for _, qty, price in lines), Decimal("0.00"))
    row = Order(
        user_id=user_id,
        session_id=session_id,
        status=status,
        page_id=page_id,
        currency="GBP",
        total_amount=total,
        description="Test order",
    )
    if created_at is not None:
        row.created_at = created_at
    session.add(row)
    await session.flush()
    for number, (title, qty, price) in enumerate(lines, start=1):
        session.add(
            OrderItem(
                order_id=row.id,
                kind="product",
                ref_id=number,
                page_id=page_id,
                title=title,
                quantity=qty,
                unit_price=Decimal(price),
                line_total=Decimal(price) * qty,
            )
        )
    await session.commit()
    return row


async def user(
    session: AsyncSession,
    user_id: int,
    *,
    email: str | None = None,
    name: str | None = None,
    is_staff: bool = False,
) -> User:
    """An account of the account domain (its stand-in table), staff or not."""
    return await _save(
        session,
        User(
            id=user_id, email=email or f"user{user_id}@example.coop", name=name, is_staff=is_staff
        ),
    )
