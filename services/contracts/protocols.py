"""The domain services the cart reaches other domains through.

Every method takes the caller's AsyncSession first and never commits: the caller owns the
transaction, so that checkout and settlement change several domains atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.contracts.cart_summary import CartSummary
from services.contracts.dtos import (
    AdoptionResult,
    CalendarEntryDTO,
    CancelledPending,
    CartIdentity,
    EntryConfirmation,
    PageDTO,
    ProductDTO,
    ShopperContact,
    TicketConfirmation,
    TicketDTO,
    TicketTypeDTO,
)


class BlogService(Protocol):
    """Pages (posts) of the blog domain."""

    async def page_by_slug(self, session: AsyncSession, slug: str) -> PageDTO | None: ...

    async def pages_by_ids(
        self, session: AsyncSession, ids: Sequence[int]
    ) -> dict[int, PageDTO]: ...

    async def list_pages(self, session: AsyncSession) -> list[PageDTO]: ...


class MarketService(Protocol):
    """Products of the market domain, with their current price and page."""

    async def product(self, session: AsyncSession, product_id: int) -> ProductDTO | None: ...

    async def products_by_ids(
        self, session: AsyncSession, ids: Sequence[int], *, include_deleted: bool = False
    ) -> dict[int, ProductDTO]:
        """Products by id, in one query; withdrawn ones only with `include_deleted`."""
        ...

    async def products_for_page(self, session: AsyncSession, page_id: int) -> list[ProductDTO]: ...


class CalendarService(Protocol):
    """Bookings and tickets of the events domain, as the cart sees them."""

    async def pending_entries(
        self, session: AsyncSession, *, identity: CartIdentity
    ) -> list[CalendarEntryDTO]: ...

    async def pending_tickets(self, session: AsyncSession, *, user_id: int) -> list[TicketDTO]: ...

    async def claim_entries_for_order(
        self,
        session: AsyncSession,
        *,
        order_id: int,
        identity: CartIdentity,
        entry_ids: Sequence[int],
    ) -> int:
        """pending → ordered for exactly these entries of this identity; returns how many."""
        ...

    async def claim_tickets_for_order(
        self, session: AsyncSession, *, order_id: int, user_id: int, ticket_ids: Sequence[int]
    ) -> int:
        """pending → reserved for exactly these tickets of this user; returns how many."""
        ...

    async def claim_for_order(
        self,
        session: AsyncSession,
        *,
        order_id: int,
        identity: CartIdentity,
        entry_ids: Sequence[int],
        ticket_ids: Sequence[int],
    ) -> tuple[int, int]:
        """`claim_entries_for_order` and `claim_tickets_for_order` (tickets need a signed-in
        identity) at once; how many entries and how many tickets were claimed."""
        ...

    async def checkout_availability(
        self, session: AsyncSession, *, slot_ids: Sequence[int], ticket_type_ids: Sequence[int]
    ) -> tuple[dict[int, int | None], dict[int, int | None]]:
        """`slot_availability` and `ticket_availability` with `lock`, at once: the slots are
        locked before the ticket types (as settlement locks them), each in id order."""
        ...

    async def confirm_entries_for_order(
        self, session: AsyncSession, *, order_id: int
    ) -> EntryConfirmation:
        """ordered → confirmed under a lock on each slot; what would overbook is not.

        A booking that no longer fits its slot stays ordered (and is among `overbooked`).
        """
        ...

    async def confirm_claims_for_order(
        self, session: AsyncSession, *, order_id: int
    ) -> tuple[EntryConfirmation, TicketConfirmation]:
        """Every booking (ordered) and ticket (reserved) the order claimed confirmed, with no
        lock and whatever is left: only for a transaction whose commit checks that they fit."""
        ...

    async def cancel_entries_for_order(
        self, session: AsyncSession, *, order_id: int, entry_ids: Sequence[int]
    ) -> int:
        """Cancel these bookings of the order that were not confirmed (fully booked); how many."""
        ...

    async def slot_availability(
        self, session: AsyncSession, *, slot_ids: Sequence[int], lock: bool = False
    ) -> dict[int, int | None]:
        """Places left per slot (None: unlimited); ordered and confirmed bookings take one.

        With `lock`, the slots are locked (in id order) until the caller's transaction ends, so
        that checkouts racing for the last place are decided one after the other.
        """
        ...

    async def confirm_tickets_for_order(
        self, session: AsyncSession, *, order_id: int
    ) -> TicketConfirmation:
        """reserved → confirmed under a lock on each ticket type; what would oversell is not."""
        ...

    async def release_claims_for_order(self, session: AsyncSession, *, order_id: int) -> int:
        """ordered/reserved → pending (back in the owner's cart); returns how many."""
        ...

    async def entries_for_order(
        self, session: AsyncSession, *, order_id: int
    ) -> list[CalendarEntryDTO]: ...

    async def tickets_for_order(
        self, session: AsyncSession, *, order_id: int
    ) -> list[TicketDTO]: ...

    async def delivered_for_order(self, session: AsyncSession, *, order_id: int) -> tuple[int, int]:
        """How many of the order's bookings are confirmed and how many of its tickets paid
        (confirmed or checked in), in one read."""
        ...

    async def remove_entry(
        self, session: AsyncSession, *, identity: CartIdentity, entry_id: int
    ) -> bool:
        """Take a pending booking out of the cart; False when it is not this identity's."""
        ...

    async def remove_ticket(
        self, session: AsyncSession, *, identity: CartIdentity, ticket_id: int
    ) -> bool:
        """Take a pending ticket out of the cart; False when it is not this identity's."""
        ...

    async def ticket_type(
        self, session: AsyncSession, *, ticket_type_id: int
    ) -> TicketTypeDTO | None:
        """A ticket type with its event's name; None when there is no such type."""
        ...

    async def lock_pending_tickets(
        self, session: AsyncSession, *, user_id: int, ticket_type_id: int
    ) -> int:
        """How many tickets of the type are in the user's cart, holding that number until the
        caller's transaction ends: a second change of the same tickets waits for the first."""
        ...

    async def add_pending_tickets(
        self, session: AsyncSession, *, user_id: int, ticket_type_id: int, count: int
    ) -> int:
        """Put `count` new tickets of the type in the user's cart (pending); how many."""
        ...

    async def remove_newest_pending_tickets(
        self, session: AsyncSession, *, user_id: int, ticket_type_id: int, count: int
    ) -> int:
        """Take the user's `count` newest pending tickets of the type out of the cart; how many."""
        ...

    async def ticket_availability(
        self, session: AsyncSession, *, ticket_type_ids: Sequence[int], lock: bool = False
    ) -> dict[int, int | None]:
        """Tickets left per type (None: unlimited); pending (in-cart) tickets are not sold.

        With `lock`, the types are locked (in id order) until the caller's transaction ends, so
        that checkouts racing for the last tickets are decided one after the other.
        """
        ...

    async def cancel_tickets_for_order(
        self, session: AsyncSession, *, order_id: int, ticket_ids: Sequence[int]
    ) -> int:
        """Cancel these tickets of the order that were not confirmed (sold out); how many."""
        ...

    async def adopt(
        self, session: AsyncSession, *, session_id: str, user_id: int
    ) -> AdoptionResult:
        """Give the anonymous session's pending entries and tickets to the user (idempotent)."""
        ...

    async def stale_anonymous_sessions(
        self, session: AsyncSession, *, untouched_since: datetime, limit: int
    ) -> list[str]:
        """Anonymous carts whose pending bookings and tickets were all added before the time."""
        ...

    async def active_anonymous_sessions(
        self, session: AsyncSession, *, session_ids: Sequence[str], since: datetime
    ) -> set[str]:
        """Those of the anonymous carts with a booking or ticket added at or after the time."""
        ...

    async def cancel_pending_for_sessions(
        self, session: AsyncSession, *, session_ids: Sequence[str]
    ) -> CancelledPending:
        """Cancel the pending bookings and tickets of these anonymous carts (never a claimed
        or paid one)."""
        ...


class CartService(Protocol):
    """The cart's own domain, as other domains may call it."""

    async def cart_summary(
        self, session: AsyncSession, *, identity: CartIdentity
    ) -> CartSummary: ...


class AccountService(Protocol):
    """The account domain's users, read-only. The session must be one of the account engine
    (DATABASE_URL_ACCOUNT), which may be another database than the cart's."""

    async def shopper_contact(self, session: AsyncSession, user_id: int) -> ShopperContact | None:
        """The user's e-mail address and name; None for an unknown user."""
        ...

    async def is_staff(self, session: AsyncSession, user_id: int) -> bool:
        """Whether the user is one of the coop's staff (the staff console is theirs)."""
        ...

    async def users_by_email(
        self, session: AsyncSession, term: str, *, limit: int
    ) -> dict[int, ShopperContact]:
        """Up to `limit` users whose address contains `term` (ignoring case), by id."""
        ...

    async def contacts(
        self, session: AsyncSession, user_ids: Sequence[int]
    ) -> dict[int, ShopperContact]:
        """The address and name of each of these users the domain knows, by id."""
        ...
