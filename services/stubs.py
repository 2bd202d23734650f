"""No-op domain services for a deployment without that domain: nothing found, nothing changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

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


class StubBlogService:
    """No pages."""

    async def page_by_slug(self, session: AsyncSession, slug: str) -> PageDTO | None:
        return None

    async def pages_by_ids(self, session: AsyncSession, ids: Sequence[int]) -> dict[int, PageDTO]:
        return {}

    async def list_pages(self, session: AsyncSession) -> list[PageDTO]:
        return []


class StubMarketService:
    """No products."""

    async def product(self, session: AsyncSession, product_id: int) -> ProductDTO | None:
        return None

    async def products_by_ids(
        self, session: AsyncSession, ids: Sequence[int], *, include_deleted: bool = False
    ) -> dict[int, ProductDTO]:
        return {}

    async def products_for_page(self, session: AsyncSession, page_id: int) -> list[ProductDTO]:
        return []


class StubCalendarService:
    """No bookings and no tickets; claims and confirmations change nothing."""

    async def pending_entries(
        self, session: AsyncSession, *, identity: CartIdentity
    ) -> list[CalendarEntryDTO]:
        return []

    async def pending_tickets(self, session: AsyncSession, *, user_id: int) -> list[TicketDTO]:
        return []

    async def claim_entries_for_order(
        self,
        session: AsyncSession,
        *,
        order_id: int,
        identity: CartIdentity,
        entry_ids: Sequence[int],
    ) -> int:
        return 0

    async def claim_tickets_for_order(
        self, session: AsyncSession, *, order_id: int, user_id: int, ticket_ids: Sequence[int]
    ) -> int:
        return 0

    async def claim_for_order(
        self,
        session: AsyncSession,
        *,
        order_id: int,
        identity: CartIdentity,
        entry_ids: Sequence[int],
        ticket_ids: Sequence[int],
    ) -> tuple[int, int]:
        return 0, 0

    async def checkout_availability(
        self, session: AsyncSession, *, slot_ids: Sequence[int], ticket_type_ids: Sequence[int]
    ) -> tuple[dict[int, int | None], dict[int, int | None]]:
        return {}, {}

    async def confirm_entries_for_order(
        self, session: AsyncSession, *, order_id: int
    ) -> EntryConfirmation:
        return EntryConfirmation()

    async def confirm_claims_for_order(
        self, session: AsyncSession, *, order_id: int
    ) -> tuple[EntryConfirmation, TicketConfirmation]:
        return EntryConfirmation(), TicketConfirmation()

    async def cancel_entries_for_order(
        self, session: AsyncSession, *, order_id: int, entry_ids: Sequence[int]
    ) -> int:
        return 0

    async def slot_availability(
        self, session: AsyncSession, *, slot_ids: Sequence[int], lock: bool = False
    ) -> dict[int, int | None]:
        return {}

    async def confirm_tickets_for_order(
        self, session: AsyncSession, *, order_id: int
    ) -> TicketConfirmation:
        return TicketConfirmation()

    async def release_claims_for_order(self, session: AsyncSession, *, order_id: int) -> int:
        return 0

    async def entries_for_order(
        self, session: AsyncSession, *, order_id: int
    ) -> list[CalendarEntryDTO]:
        return []

    async def tickets_for_order(self, session: AsyncSession, *, order_id: int) -> list[TicketDTO]:
        return []

    async def delivered_for_order(self, session: AsyncSession, *, order_id: int) -> tuple[int, int]:
        return 0, 0

    async def remove_entry(
        self, session: AsyncSession, *, identity: CartIdentity, entry_id: int
    ) -> bool:
        return False

    async def remove_ticket(
        self, session: AsyncSession, *, identity: CartIdentity, ticket_id: int
    ) -> bool:
        return False

    async def ticket_type(
        self, session: AsyncSession, *, ticket_type_id: int
    ) -> TicketTypeDTO | None:
        return None

    async def lock_pending_tickets(
        self, session: AsyncSession, *, user_id: int, ticket_type_id: int
    ) -> int:
        return 0

    async def add_pending_tickets(
        self, session: AsyncSession, *, user_id: int, ticket_type_id: int, count: int
    ) -> int:
        return 0

    async def remove_newest_pending_tickets(
        self, session: AsyncSession, *, user_id: int, ticket_type_id: int, count: int
    ) -> int:
        return 0

    async def ticket_availability(
        self, session: AsyncSession, *, ticket_type_ids: Sequence[int], lock: bool = False
    ) -> dict[int, int | None]:
        return {}

    async def cancel_tickets_for_order(
        self, session: AsyncSession, *, order_id: int, ticket_ids: Sequence[int]
    ) -> int:
        return 0

    async def adopt(
        self, session: AsyncSession, *, session_id: str, user_id: int
    ) -> AdoptionResult:
        return AdoptionResult()

    async def stale_anonymous_sessions(
        self, session: AsyncSession, *, untouched_since: datetime, limit: int
    ) -> list[str]:
        return []

    async def active_anonymous_sessions(
        self, session: AsyncSession, *, session_ids: Sequence[str], since: datetime
    ) -> set[str]:
        return set()

    async def cancel_pending_for_sessions(
        self, session: AsyncSession, *, session_ids: Sequence[str]
    ) -> CancelledPending:
        return CancelledPending()


class StubCartService:
    """An empty cart."""

    def __init__(self, *, currency: str = "GBP") -> None:
        self.currency = currency

    async def cart_summary(self, session: AsyncSession, *, identity: CartIdentity) -> CartSummary:
        return CartSummary(currency=self.currency)


class StubAccountService:
    """No accounts: nobody's name or address is known, and nobody is staff."""

    async def shopper_contact(self, session: AsyncSession, user_id: int) -> ShopperContact | None:
        return None

    async def is_staff(self, session: AsyncSession, user_id: int) -> bool:
        return False

    async def users_by_email(
        self, session: AsyncSession, term: str, *, limit: int
    ) -> dict[int, ShopperContact]:
        return {}

    async def contacts(
        self, session: AsyncSession, user_ids: Sequence[int]
    ) -> dict[int, ShopperContact]:
        return {}
