"""Plain immutable values passed between domains; no ORM objects cross a domain boundary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from lib.money import cents


@dataclass(frozen=True, slots=True)
class CartIdentity:
    """Whose cart: a signed-in user, or an anonymous session (exactly one of them)."""

    user_id: int | None = None
    session_id: str | None = None

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.session_id is None):
            raise ValueError("a cart identity is either a user_id or a session_id")

    @property
    def is_user(self) -> bool:
        return self.user_id is not None


@dataclass(frozen=True, slots=True)
class PageDTO:
    id: int
    slug: str
    title: str


@dataclass(frozen=True, slots=True)
class ProductDTO:
    id: int
    page_id: int
    slug: str
    title: str
    price: Decimal
    image_url: str | None = None
    description: str = ""


# A calendar whose container is a page: its bookings and tickets are on that page's cart.
PAGE_CONTAINER = "page"


@dataclass(frozen=True, slots=True)
class CalendarEntryDTO:
    """A booking (or an event entry) with the page its calendar belongs to."""

    id: int
    calendar_id: int
    name: str
    start_at: datetime
    end_at: datetime | None
    cost: Decimal
    state: str
    calendar_container_type: str
    calendar_container_id: int
    order_id: int | None = None
    # The bookable slot it books (None: an event entry, or a booking made without a slot).
    slot_id: int | None = None


@dataclass(frozen=True, slots=True)
class TicketDTO:
    """A ticket, as seed 004 specifies: entry id, cost and calendar container for page grouping."""

    id: int
    entry_id: int
    entry_name: str
    entry_start_at: datetime
    ticket_type_id: int | None
    ticket_type_name: str | None
    cost: Decimal
    state: str
    code: str
    calendar_container_type: str | None
    calendar_container_id: int | None
    order_id: int | None = None


@dataclass(frozen=True, slots=True)
class TicketTypeDTO:
    """A kind of ticket for an event, as the cart names it in what it tells the shopper."""

    id: int
    name: str
    entry_id: int
    entry_name: str


@dataclass(frozen=True, slots=True)
class CartLineDTO:
    """A live product line with the product's current price from the market."""

    id: int
    product: ProductDTO
    quantity: int

    @property
    def line_total(self) -> Decimal:
        return cents(self.product.price * self.quantity)


@dataclass(frozen=True, slots=True)
class AdoptionResult:
    """How much an anonymous cart handed over to a user on sign-in."""

    items: int = 0
    entries: int = 0
    tickets: int = 0
    orders: int = 0


@dataclass(frozen=True, slots=True)
class CancelledPending:
    """Bookings and tickets taken out of carts left behind."""

    entries: int = 0
    tickets: int = 0


@dataclass(frozen=True, slots=True)
class EntryConfirmation:
    """Outcome of confirming an order's bookings on payment."""

    confirmed: int = 0
    # The order's bookings still ordered after it, by id: their slots were full.
    overbooked: list[int] = field(default_factory=list)
    # The order's bookings confirmed after it (now or before), by id: what it delivered.
    booked: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class TicketConfirmation:
    """Outcome of confirming an order's tickets on payment."""

    confirmed: int = 0
    # Tickets that would have sold beyond their type's capacity: the order needs a refund.
    oversold: list[TicketDTO] = field(default_factory=list)
    # The order's tickets paid for after it (confirmed now or before), by id: what it delivered.
    paid: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class ShopperContact:
    """How to reach a signed-in shopper, from the account domain."""

    email: str
    # The name the shopper goes by; None when the account has none.
    name: str | None = None
