"""The development storefront's data: it stands in for the market and events apps.

In the coop those apps own products, slots, events and ticket types; here, in development
only, this module reads and writes their tables the way they would, so that the cart can be
tried end to end. Products go through the cart's own URL (`POST /add/<id>/`), as from the
market app; tickets through the cart's ticket rule (bp/cart/services/ticket_quantity.py), so
that buying here and changing the number in the cart allow the same.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.ticket_quantity import TicketChange, add_tickets
from lib.error_codes import ErrorCode
from lib.errors import NotFound, ServiceError
from lib.money import ZERO
from models import Calendar, CalendarEntry, CalendarSlot, TicketType, utcnow
from services.contracts.dtos import CartIdentity, PageDTO, ProductDTO
from services.contracts.ownership import owned_by
from services.registry import DomainServices

PAGE_CONTAINER = "page"
MAX_TICKETS_PER_PURCHASE = 10
SHOP_PATH = "/dev/shop"


@dataclass(frozen=True, slots=True)
class SlotView:
    id: int
    name: str
    start_at: datetime
    end_at: datetime
    cost: Decimal
    in_cart: bool


@dataclass(frozen=True, slots=True)
class TicketTypeView:
    id: int
    name: str
    cost: Decimal
    # None: unlimited.
    available: int | None
    # The signed-in shopper's tickets of this type in the cart (not sold: they leave
    # `available` as it is, but the shopper sees them counted here).
    in_cart: int = 0

    @property
    def sold_out(self) -> bool:
        return self.available == 0


@dataclass(frozen=True, slots=True)
class Bought:
    """Tickets just put in the cart, and what the shop shows of their type now."""

    change: TicketChange
    ticket_type_id: int
    # None: unlimited.
    available: int | None

    @property
    def in_cart(self) -> int:
        return self.change.after


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    name: str
    start_at: datetime
    ticket_types: list[TicketTypeView] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ShopPage:
    page: PageDTO
    products: list[ProductDTO]
    slots: list[SlotView]
    events: list[EventView]


async def load_storefront(
    session: AsyncSession, *, identity: CartIdentity | None, domains: DomainServices
) -> list[ShopPage]:
    """Every page with its products, upcoming bookable slots, and events selling tickets."""
    pages = await domains.blog.list_pages(session)
    page_ids = [page.id for page in pages]
    slots = (
        await session.execute(
            select(CalendarSlot, Calendar.container_id)
            .join(Calendar, Calendar.id == CalendarSlot.calendar_id)
            .where(
                Calendar.container_type == PAGE_CONTAINER,
                Calendar.container_id.in_(page_ids),
                CalendarSlot.start_at > utcnow(),
            )
            .order_by(CalendarSlot.start_at, CalendarSlot.id)
        )
    ).all()
    booked: set[int] = set()
    if identity is not None:
        booked = {
            slot_id
            for slot_id in await session.scalars(
                select(CalendarEntry.slot_id).where(
                    owned_by(CalendarEntry, identity),
                    CalendarEntry.state == "pending",
                    CalendarEntry.slot_id.is_not(None),
                )
            )
            if slot_id is not None
        }
    events = (
        await session.execute(
            select(CalendarEntry, Calendar.container_id, TicketType)
            .join(Calendar, Calendar.id == CalendarEntry.calendar_id)
            .join(TicketType, TicketType.entry_id == CalendarEntry.id)
            .where(
                Calendar.container_type == PAGE_CONTAINER,
                Calendar.container_id.in_(page_ids),
                CalendarEntry.state == "confirmed",
            )
            .order_by(CalendarEntry.start_at, CalendarEntry.id, TicketType.id)
        )
    ).all()
    availability = await domains.calendar.ticket_availability(
        session, ticket_type_ids=[ticket_type.id for _, _, ticket_type in events]
    )
    in_cart: Counter[int | None] = Counter()
    if identity is not None and identity.user_id is not None:
        tickets = await domains.calendar.pending_tickets(session, user_id=identity.user_id)
        in_cart = Counter(ticket.ticket_type_id for ticket in tickets)
    events_by_page: dict[int, dict[int, EventView]] = {}
    for entry, page_id, ticket_type in events:
        event = events_by_page.setdefault(page_id, {}).setdefault(
            entry.id, EventView(id=entry.id, name=entry.name, start_at=entry.start_at)
        )
        # Seed 004: the type's cost, else the event's ticket price.
        cost = ticket_type.cost if ticket_type.cost is not None else entry.ticket_price
        event.ticket_types.append(
            TicketTypeView(
                id=ticket_type.id,
                name=ticket_type.name,
                cost=cost if cost is not None else ZERO,
                available=availability.get(ticket_type.id),
                in_cart=in_cart[ticket_type.id],
            )
        )
    shop: list[ShopPage] = []
    for page in pages:
        shop.append(
            ShopPage(
                page=page,
                products=await domains.market.products_for_page(session, page.id),
                slots=[
                    SlotView(
                        id=slot.id,
                        name=slot.name,
                        start_at=slot.start_at,
                        end_at=slot.end_at,
                        cost=slot.cost,
                        in_cart=slot.id in booked,
                    )
                    for slot, page_id in slots
                    if page_id == page.id
                ],
                events=list(events_by_page.get(page.id, {}).values()),
            )
        )
    return shop


async def book_slot(session: AsyncSession, *, identity: CartIdentity, slot_id: int) -> str:
    """Put a pending booking of the slot in the cart, as the events app does; returns its name."""
    slot = await session.get(CalendarSlot, slot_id)
    if slot is None:
        raise NotFound(ErrorCode.SLOT_NOT_FOUND)
    already = await session.scalar(
        select(CalendarEntry.id).where(
            CalendarEntry.slot_id == slot_id,
            owned_by(CalendarEntry, identity),
            CalendarEntry.state == "pending",
        )
    )
    if already is not None:
        raise ServiceError(409, ErrorCode.ALREADY_IN_CART, name=slot.name)
    session.add(
        CalendarEntry(
            calendar_id=slot.calendar_id,
            slot_id=slot.id,
            name=slot.name,
            start_at=slot.start_at,
            end_at=slot.end_at,
            state="pending",
            cost=slot.cost,
            user_id=identity.user_id,
            session_id=identity.session_id,
        )
    )
    await session.commit()
    return slot.name


async def buy_tickets(
    session: AsyncSession,
    *,
    user_id: int,
    ticket_type_id: int,
    quantity: int,
    domains: DomainServices,
) -> Bought:
    """Put tickets in a signed-in user's cart by the cart's ticket rule, as the events app
    would, and read the type back as the shop shows it (what is left, what is in the cart)."""
    change = await add_tickets(
        session, user_id=user_id, ticket_type_id=ticket_type_id, quantity=quantity, domains=domains
    )
    left = await domains.calendar.ticket_availability(session, ticket_type_ids=[ticket_type_id])
    await session.commit()
    return Bought(change=change, ticket_type_id=ticket_type_id, available=left.get(ticket_type_id))


async def event_path(session: AsyncSession, *, ticket_type_id: int, domains: DomainServices) -> str:
    """The shop at the event selling this type of ticket (the shop's top for an unknown type),
    for a shopper to come back to after signing in."""
    ticket_type = await domains.calendar.ticket_type(session, ticket_type_id=ticket_type_id)
    await session.commit()
    if ticket_type is None:
        return SHOP_PATH
    return f"{SHOP_PATH}#event-{ticket_type.entry_id}"
