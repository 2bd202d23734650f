"""A cart split by the page each line, booking and ticket belongs to."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services import total
from bp.cart.services.calendar_cart import (
    entry_page_id,
    get_calendar_cart_entries,
    get_ticket_cart_entries,
    ticket_page_id,
)
from bp.cart.services.cart_ticket_lines import TicketGroup, group_tickets
from bp.cart.services.get_cart import get_cart_lines
from bp.cart.services.order_preview import HeldOrder, held_by_open_orders, waiting_orders
from lib.error_codes import ErrorCode
from lib.errors import NotFound
from services.contracts.cart_summary import CartSummary
from services.contracts.dtos import CalendarEntryDTO, CartIdentity, CartLineDTO, PageDTO, TicketDTO
from services.registry import DomainServices
from services.sql.blog_impl import SqlBlogService
from services.sql.calendar_impl import SqlCalendarService
from services.sql.cart_impl import page_with_cart, whole_cart
from services.sql.market_impl import SqlMarketService


@dataclass(frozen=True)
class PageCart:
    """What the shopper has in the cart for one page (None: items whose page is gone)."""

    page: PageDTO | None
    lines: list[CartLineDTO]
    entries: list[CalendarEntryDTO]
    tickets: list[TicketDTO]

    @property
    def product_count(self) -> int:
        """Product units."""
        return sum(line.quantity for line in self.lines)

    @property
    def booking_count(self) -> int:
        return len(self.entries)

    @property
    def ticket_count(self) -> int:
        return len(self.tickets)

    @property
    def ticket_groups(self) -> list[TicketGroup]:
        """The tickets, one line per event and ticket type."""
        return group_tickets(self.tickets)

    @property
    def products_total(self) -> Decimal:
        return total.lines_total(self.lines)

    @property
    def bookings_total(self) -> Decimal:
        return total.entries_total(self.entries)

    @property
    def tickets_total(self) -> Decimal:
        return total.tickets_total(self.tickets)

    @property
    def subtotal(self) -> Decimal:
        return self.products_total + self.bookings_total + self.tickets_total

    @property
    def is_empty(self) -> bool:
        return not (self.lines or self.entries or self.tickets)


class PageSlugReserved(NotFound):
    """A page whose slug is one of the cart's own routes: its cart can never be reached."""

    def __init__(self, slug: str) -> None:
        super().__init__(ErrorCode.PAGE_SLUG_RESERVED, slug=slug)


def check_slug_reachable(slug: str, *, reserved: Set[str]) -> None:
    """Raise PageSlugReserved for a slug the cart's routes shadow."""
    if slug.lower() in reserved:
        raise PageSlugReserved(slug)


async def unreachable_pages(
    session: AsyncSession, *, reserved: Set[str], domains: DomainServices
) -> list[PageDTO]:
    """The pages whose slug is one of the cart's own routes (read through the blog domain)."""
    pages = await domains.blog.list_pages(session)
    await session.commit()
    return [page for page in pages if page.slug.lower() in reserved]


async def get_page_or_raise(
    session: AsyncSession, *, slug: str, domains: DomainServices
) -> PageDTO:
    """The page with this slug; 404 when there is none."""
    page = await domains.blog.page_by_slug(session, slug)
    if page is None:
        raise NotFound(ErrorCode.PAGE_NOT_FOUND)
    return page


async def get_cart_grouped_by_page(
    session: AsyncSession, *, identity: CartIdentity, domains: DomainServices
) -> list[PageCart]:
    """One group per page with something in the cart, by title; a fixed number of queries."""
    lines = await get_cart_lines(session, identity=identity, domains=domains)
    entries = await get_calendar_cart_entries(session, identity=identity, domains=domains)
    tickets = await get_ticket_cart_entries(session, identity=identity, domains=domains)
    return await _grouped_by_page(session, lines, entries, tickets, domains=domains)


async def _grouped_by_page(
    session: AsyncSession,
    lines: list[CartLineDTO],
    entries: list[CalendarEntryDTO],
    tickets: list[TicketDTO],
    *,
    domains: DomainServices,
    pages: dict[int, PageDTO] | None = None,
) -> list[PageCart]:
    """The cart's lines, bookings and tickets in one group per page, by title (their pages
    as the cart's statement read them, else read from the blog in one query)."""
    page_ids: list[int | None] = []
    for page_id in (
        *(line.product.page_id for line in lines),
        *(entry_page_id(entry) for entry in entries),
        *(ticket_page_id(ticket) for ticket in tickets),
    ):
        if page_id not in page_ids:
            page_ids.append(page_id)
    if not page_ids:
        return []
    if pages is None:
        wanted = [pid for pid in page_ids if pid is not None]
        pages = await domains.blog.pages_by_ids(session, wanted)
    groups: dict[int | None, PageCart] = {}
    for page_id in page_ids:
        key = page_id if page_id in pages else None
        if key in groups:
            continue
        groups[key] = PageCart(
            page=pages.get(page_id) if page_id is not None else None,
            lines=[line for line in lines if _key(line.product.page_id, pages) == key],
            entries=[entry for entry in entries if _key(entry_page_id(entry), pages) == key],
            tickets=[ticket for ticket in tickets if _key(ticket_page_id(ticket), pages) == key],
        )
    return sorted(groups.values(), key=_group_order)


@dataclass(frozen=True)
class Overview:
    """The whole cart by page, every order waiting for payment, and the badge's summary when
    it was read with them (None: the badge reads its own)."""

    groups: list[PageCart]
    held: list[HeldOrder]
    summary: CartSummary | None = None


async def get_overview(
    session: AsyncSession,
    *,
    identity: CartIdentity | None,
    currency: str,
    domains: DomainServices,
) -> Overview:
    """The cart grouped by page and the orders waiting for payment: the cart, its orders, the
    pages it is on and the badge's counts in one statement when the blog, market and events
    share the cart's database; else one read per domain."""
    if identity is None:
        return Overview(groups=[], held=[])
    if not one_database(domains):
        groups = await get_cart_grouped_by_page(session, identity=identity, domains=domains)
        held = await waiting_orders(session, identity=identity, page_id=None, domains=domains)
        return Overview(groups=groups, held=held)
    whole = await whole_cart(session, identity=identity)
    groups = await _grouped_by_page(
        session,
        whole.sold_lines(),
        whole.entries,
        whole.tickets,
        domains=domains,
        pages=whole.pages,
    )
    held = held_by_open_orders(whole.orders, whole.held_entries, whole.held_tickets, page_id=None)
    return Overview(groups=groups, held=held, summary=whole.summary(currency))


async def get_page_cart(
    session: AsyncSession, *, identity: CartIdentity | None, page: PageDTO, domains: DomainServices
) -> PageCart:
    """The cart of one page (empty for a browser without a cart)."""
    if identity is None:
        return PageCart(page=page, lines=[], entries=[], tickets=[])
    return PageCart(
        page=page,
        lines=await get_cart_lines(session, identity=identity, domains=domains, page_id=page.id),
        entries=await get_calendar_cart_entries(
            session, identity=identity, domains=domains, page_id=page.id
        ),
        tickets=await get_ticket_cart_entries(
            session, identity=identity, domains=domains, page_id=page.id
        ),
    )


@dataclass(frozen=True)
class PageView:
    """A page, its cart, the open orders a checkout of it would replace, and the badge's
    summary of the whole cart when it was read with them (None: the badge reads its own)."""

    page: PageDTO
    cart: PageCart
    held: list[HeldOrder]
    summary: CartSummary | None = None


async def get_page_view_by_slug(
    session: AsyncSession,
    *,
    identity: CartIdentity | None,
    slug: str,
    currency: str,
    domains: DomainServices,
) -> PageView:
    """The page with this slug, its cart and the orders waiting for payment that a checkout
    of it would replace; 404 when there is no such page. One statement, the badge's summary
    with it, when the blog, market and events share the cart's database; else one read per
    domain."""
    if identity is None or not one_database(domains):
        page = await get_page_or_raise(session, slug=slug, domains=domains)
        cart = await get_page_cart(session, identity=identity, page=page, domains=domains)
        held = await waiting_orders(session, identity=identity, page_id=page.id, domains=domains)
        return PageView(page=page, cart=cart, held=held)
    found = await page_with_cart(session, identity=identity, slug=slug)
    if found is None:
        raise NotFound(ErrorCode.PAGE_NOT_FOUND)
    page, whole = found.page, found.cart
    # What the reads per domain keep (get_cart_lines, get_calendar_cart_entries,
    # get_ticket_cart_entries): this page's.
    cart = PageCart(
        page=page,
        lines=whole.sold_lines(page.id),
        entries=[entry for entry in whole.entries if entry_page_id(entry) == page.id],
        tickets=[ticket for ticket in whole.tickets if ticket_page_id(ticket) == page.id],
    )
    held = held_by_open_orders(
        whole.orders, whole.held_entries, whole.held_tickets, page_id=page.id
    )
    return PageView(page=page, cart=cart, held=held, summary=whole.summary(currency))


def one_database(domains: DomainServices) -> bool:
    """Whether the blog, market and events are read with SQL on the cart's own database."""
    return (
        isinstance(domains.blog, SqlBlogService)
        and isinstance(domains.market, SqlMarketService)
        and isinstance(domains.calendar, SqlCalendarService)
    )


def _key(page_id: int | None, pages: dict[int, PageDTO]) -> int | None:
    """Items of a page that no longer exists are grouped together under None."""
    return page_id if page_id is not None and page_id in pages else None


def _group_order(group: PageCart) -> tuple[int, str, int]:
    """Pages by title; the group without a page last."""
    if group.page is None:
        return (1, "", 0)
    return (0, group.page.title.lower(), group.page.id)
