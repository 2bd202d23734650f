"""The cart's own domain as other domains see it: the summary of a cart; and a page's cart
in one statement, while the blog, market and events share the cart's database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    any_,
    bindparam,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql.expression import Executable

from lib.db import Query, execute_alone, fetch_on_driver
from lib.money import ZERO, total
from models import (
    OPEN_STATUSES,
    Calendar,
    CalendarEntry,
    CartItem,
    Order,
    OrderItem,
    Page,
    Product,
    Ticket,
    TicketType,
)
from services.contracts.cart_summary import CartSummary
from services.contracts.dtos import (
    PAGE_CONTAINER,
    CalendarEntryDTO,
    CartIdentity,
    CartLineDTO,
    PageDTO,
    ProductDTO,
    TicketDTO,
)
from services.contracts.ownership import owned_by, owned_by_bound, owner_params
from services.contracts.protocols import CalendarService, CartService, MarketService
from services.sql.blog_impl import PAGE_COLUMNS, SLUG_PATTERN, page_from_columns
from services.sql.calendar_impl import (
    PENDING_ENTRIES,
    PENDING_TICKETS,
    SqlCalendarService,
    entry_select,
    entry_to_dto,
    ticket_cost,
    ticket_select,
    ticket_to_dto,
)
from services.sql.market_impl import PRODUCT_COLUMNS, SqlMarketService, product_from_columns


def summary_statement(*, signed_in: bool) -> Select[*tuple[Any, ...]]:
    """Counts and totals of products, bookings and tickets in one statement, the owner bound
    at execution (`owner_params`).

    Each part is an aggregate over a partial index (live lines by owner, pending entries by
    owner, pending tickets by user), cross-joined into one row: the cart-mini that every coop
    page shows costs one round trip. Built once per kind of owner (`SUMMARY`): building it
    took longer than running it.
    """
    products = (
        select(
            func.coalesce(func.sum(CartItem.quantity), 0).label("count"),
            func.coalesce(func.sum(Product.price * CartItem.quantity), literal(ZERO)).label(
                "total"
            ),
        )
        .select_from(CartItem)
        .join(Product, and_(Product.id == CartItem.product_id, Product.deleted_at.is_(None)))
        .where(owned_by_bound(CartItem, signed_in=signed_in), CartItem.deleted_at.is_(None))
        .subquery("products")
    )
    entries = (
        select(
            func.count(CalendarEntry.id).label("count"),
            func.coalesce(func.sum(CalendarEntry.cost), literal(ZERO)).label("total"),
        )
        .where(owned_by_bound(CalendarEntry, signed_in=signed_in), CalendarEntry.state == "pending")
        .subquery("entries")
    )
    # Seed 004: tickets need sign-in, so an anonymous cart holds none.
    ticket_owner = owned_by_bound(Ticket, signed_in=True) if signed_in else literal(False)
    tickets = (
        select(
            func.count(Ticket.id).label("count"),
            func.coalesce(func.sum(ticket_cost()), literal(ZERO)).label("total"),
        )
        .select_from(Ticket)
        .join(CalendarEntry, CalendarEntry.id == Ticket.entry_id)
        .outerjoin(TicketType, TicketType.id == Ticket.ticket_type_id)
        .where(ticket_owner, Ticket.state == "pending")
        .subquery("tickets")
    )
    return (
        select(
            # Labelled as CartSummary's fields, which read the row by name.
            products.c.count.label("count"),
            products.c.total.label("total"),
            entries.c.count.label("calendar_count"),
            entries.c.total.label("calendar_total"),
            tickets.c.count.label("ticket_count"),
            tickets.c.total.label("ticket_total"),
        )
        .select_from(products)
        .join(entries, true())
        .join(tickets, true())
    )


# The summary's statement for a signed-in identity (True) and for an anonymous one (False).
SUMMARY = {kind: Query(summary_statement(signed_in=kind)) for kind in (True, False)}
# Its columns' labels, in their order.
SUMMARY_LABELS = tuple(column.name for column in summary_statement(signed_in=True).selected_columns)


def lines_statement(*, signed_in: bool) -> Select[*tuple[Any, ...]]:
    """The live lines of an owner (bound at execution), oldest first, each with its product's
    columns when the market still sells it (NULLs otherwise): lines and prices in one read."""
    live_product = and_(Product.id == CartItem.product_id, Product.deleted_at.is_(None))
    return (
        select(
            CartItem.id,
            CartItem.product_id,
            CartItem.quantity,
            *(column.label(f"product_{column.key}") for column in PRODUCT_COLUMNS),
        )
        .outerjoin(Product, live_product)
        .where(owned_by_bound(CartItem, signed_in=signed_in), CartItem.deleted_at.is_(None))
        .order_by(CartItem.created_at, CartItem.id)
    )


# The lines' statement for a signed-in identity (True) and for an anonymous one (False).
LINES = {kind: Query(lines_statement(signed_in=kind)) for kind in (True, False)}


async def lines_with_products(
    session: AsyncSession, *, identity: CartIdentity
) -> list[tuple[int, int, int, ProductDTO | None]]:
    """(line id, product id, quantity, live product or None) of the identity's live lines, in
    one statement: for a deployment whose market shares the cart's database."""
    rows = await execute_alone(session, LINES[identity.is_user], owner_params(identity))
    return [
        (
            row[0],
            row[1],
            row[2],
            product_from_columns(row[3:]) if row[3] is not None else None,
        )
        for row in rows
    ]


def rows_array(statement: Executable) -> ColumnElement[Any]:
    """The rows of a SELECT as one array of records, in its order: asyncpg reads each record
    as a tuple of its columns, typed as the columns are."""
    if not isinstance(statement, Select):
        raise TypeError("only a SELECT's rows make an array")
    rows = statement.with_only_columns(func.row(*statement.selected_columns))
    return func.array(rows.scalar_subquery())


# The statuses of an order still waiting for payment, carried by the statements themselves.
_OPEN_STATUSES = literal(list(OPEN_STATUSES), ARRAY(String))


def _waiting_for_payment(*, signed_in: bool) -> ColumnElement[bool]:
    """An order of the owner (bound at execution) that is still waiting for payment."""
    return and_(owned_by_bound(Order, signed_in=signed_in), Order.status == any_(_OPEN_STATUSES))


def open_orders_statement(*, signed_in: bool) -> Select[*tuple[Any, ...]]:
    """The owner's orders waiting for payment (owner bound at execution), in id order, as
    `OpenOrder`'s columns."""
    product_units = (
        select(func.coalesce(func.sum(OrderItem.quantity), 0))
        .where(OrderItem.order_id == Order.id, OrderItem.kind == "product")
        .scalar_subquery()
    )
    return (
        select(
            Order.id, Order.status, Order.page_id, Order.total_amount, Order.currency, product_units
        )
        .where(_waiting_for_payment(signed_in=signed_in))
        .order_by(Order.id)
    )


def _open_order_ids(*, signed_in: bool) -> Select[int]:
    return select(Order.id).where(_waiting_for_payment(signed_in=signed_in))


def held_entries_statement(*, signed_in: bool) -> Select[*tuple[Any, ...]]:
    """The bookings the owner's waiting orders hold (state "ordered"), soonest first."""
    return (
        entry_select()
        .where(
            CalendarEntry.order_id.in_(_open_order_ids(signed_in=signed_in)),
            CalendarEntry.state == "ordered",
        )
        .order_by(CalendarEntry.start_at, CalendarEntry.id)
    )


def held_tickets_statement(*, signed_in: bool) -> Select[*tuple[Any, ...]]:
    """The tickets the owner's waiting orders hold (state "reserved"), in id order."""
    return (
        ticket_select()
        .where(
            Ticket.order_id.in_(_open_order_ids(signed_in=signed_in)),
            Ticket.state == "reserved",
        )
        .order_by(Ticket.id)
    )


def cart_arrays(*, signed_in: bool) -> list[ColumnElement[Any]]:
    """The whole cart of an owner (bound at execution), each part an array of the rows its own
    statement reads: the lines with their products, the pending bookings, the owner's orders
    waiting for payment with the bookings and tickets they hold, and (signed in) the pending
    tickets."""
    parts: list[ColumnElement[Any]] = [
        rows_array(lines_statement(signed_in=signed_in)).label("lines"),
        rows_array(PENDING_ENTRIES[signed_in].statement).label("entries"),
        rows_array(open_orders_statement(signed_in=signed_in)).label("orders"),
        rows_array(held_entries_statement(signed_in=signed_in)).label("held_entries"),
        rows_array(held_tickets_statement(signed_in=signed_in)).label("held_tickets"),
    ]
    if signed_in:  # Seed 004: tickets need sign-in, so an anonymous cart holds none.
        parts.append(rows_array(PENDING_TICKETS.statement).label("tickets"))
    return parts


def cart_pages_statement(*, signed_in: bool) -> Select[*tuple[Any, ...]]:
    """The live pages an owner's cart (bound at execution) is on, by id: its sold products'
    pages, and the pages whose calendars hold its pending bookings and (signed in) tickets.
    The overview groups the cart by them (bp/cart/services/page_cart.py)."""
    on_pages = [
        select(Product.page_id)
        .join(CartItem, CartItem.product_id == Product.id)
        .where(
            owned_by_bound(CartItem, signed_in=signed_in),
            CartItem.deleted_at.is_(None),
            Product.deleted_at.is_(None),
        ),
        select(Calendar.container_id)
        .join(CalendarEntry, CalendarEntry.calendar_id == Calendar.id)
        .where(
            owned_by_bound(CalendarEntry, signed_in=signed_in),
            CalendarEntry.state == "pending",
            Calendar.container_type == PAGE_CONTAINER,
        ),
    ]
    if signed_in:  # Seed 004: tickets need sign-in.
        on_pages.append(
            select(Calendar.container_id)
            .select_from(Ticket)
            .join(CalendarEntry, CalendarEntry.id == Ticket.entry_id)
            .join(Calendar, Calendar.id == CalendarEntry.calendar_id)
            .where(
                owned_by_bound(Ticket, signed_in=True),
                Ticket.state == "pending",
                Calendar.container_type == PAGE_CONTAINER,
            )
        )
    return (
        select(*PAGE_COLUMNS)
        .where(Page.id.in_(union_all(*on_pages)), Page.deleted_at.is_(None))
        .order_by(Page.id)
    )


def page_cart_statement(*, signed_in: bool) -> Select[*tuple[Any, ...]]:
    """A live page by slug, with the whole cart of an owner: one round trip for what took
    seven."""
    return select(*PAGE_COLUMNS, *cart_arrays(signed_in=signed_in)).where(
        Page.slug == bindparam("slug"), Page.deleted_at.is_(None)
    )


# The whole cart's statement (with the pages it is on, for the overview), and the page
# cart's, for a signed-in identity (True) and for an anonymous one (False).
WHOLE_CART = {
    kind: Query(
        select(
            *cart_arrays(signed_in=kind),
            rows_array(cart_pages_statement(signed_in=kind)).label("pages"),
        )
    )
    for kind in (True, False)
}
PAGE_CART = {kind: Query(page_cart_statement(signed_in=kind)) for kind in (True, False)}


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """An order of the owner's waiting for payment, as the cart's pages show it."""

    id: int
    status: str
    page_id: int | None
    total_amount: Decimal
    currency: str
    product_units: int


@dataclass(frozen=True, slots=True)
class CartRows:
    """An owner's whole cart as one statement read it (`cart_arrays`): (line id, product id,
    quantity, live product or None) of each line, the pending bookings and tickets, and the
    orders waiting for payment with the bookings and tickets they hold."""

    lines: list[tuple[int, int, int, ProductDTO | None]]
    entries: list[CalendarEntryDTO]
    tickets: list[TicketDTO]
    orders: list[OpenOrder]
    held_entries: list[CalendarEntryDTO]
    held_tickets: list[TicketDTO]
    # The live pages the cart is on, by id, when the statement read them (the whole cart's).
    pages: dict[int, PageDTO] | None = None

    def sold_lines(self, page_id: int | None = None) -> list[CartLineDTO]:
        """The lines whose product is still sold (of one page, or all), as the cart's reads
        per domain keep them."""
        return [
            CartLineDTO(id=line_id, product=product, quantity=quantity)
            for line_id, _, quantity, product in self.lines
            if product is not None and (page_id is None or product.page_id == page_id)
        ]

    def summary(self, currency: str) -> CartSummary:
        """The badge's counts and totals: of the same rows `summary_statement` counts (lines
        whose product is sold, the pending bookings and tickets)."""
        return summary_of(
            [(line.product, line.quantity) for line in self.sold_lines()],
            self.entries,
            self.tickets,
            currency=currency,
        )


def _cart_rows(arrays: Sequence[Any], *, signed_in: bool) -> CartRows:
    """The cart from the arrays of `cart_arrays`, in their order."""
    return CartRows(
        lines=[_line(line) for line in arrays[0]],
        entries=[entry_to_dto(entry) for entry in arrays[1]],
        orders=[OpenOrder(*order) for order in arrays[2]],
        held_entries=[entry_to_dto(entry) for entry in arrays[3]],
        held_tickets=[ticket_to_dto(ticket) for ticket in arrays[4]],
        tickets=[ticket_to_dto(ticket) for ticket in arrays[5]] if signed_in else [],
    )


@dataclass(frozen=True, slots=True)
class PageWithCart:
    """A page, and its owner's whole cart as read with it (every page's: the caller keeps
    what belongs to the page)."""

    page: PageDTO
    cart: CartRows


async def whole_cart(session: AsyncSession, *, identity: CartIdentity) -> CartRows:
    """The identity's whole cart, its orders waiting for payment and the pages it is on, in
    one statement. For a deployment whose blog, market and events share the cart's database."""
    arrays = (
        await execute_alone(session, WHOLE_CART[identity.is_user], owner_params(identity))
    ).one()
    rows = _cart_rows(arrays, signed_in=identity.is_user)
    pages = {page[0]: page_from_columns(page) for page in arrays[-1]}
    return replace(rows, pages=pages)


async def page_with_cart(
    session: AsyncSession, *, identity: CartIdentity, slug: str
) -> PageWithCart | None:
    """The live page with this slug and the identity's cart, in one statement; None when there
    is no such page. For a deployment whose blog, market and events share the cart's database."""
    if not SLUG_PATTERN.fullmatch(slug):
        return None  # as the blog's page_by_slug: PostgreSQL would refuse a NUL, not find nothing
    params = {**owner_params(identity), "slug": slug}
    row = (await execute_alone(session, PAGE_CART[identity.is_user], params)).first()
    if row is None:
        return None
    return PageWithCart(
        page=page_from_columns(row),
        cart=_cart_rows(row[3:], signed_in=identity.is_user),
    )


def _line(row: Any) -> tuple[int, int, int, ProductDTO | None]:
    """(line id, product id, quantity, live product or None) from a row of `lines_statement`."""
    return (row[0], row[1], row[2], product_from_columns(row[3:]) if row[3] is not None else None)


class SqlCartService:
    """Cart summaries, in one statement while market and events share the cart's database."""

    def __init__(
        self,
        *,
        market: MarketService | None = None,
        calendar: CalendarService | None = None,
        currency: str = "GBP",
    ) -> None:
        self.market: MarketService = market if market is not None else SqlMarketService()
        self.calendar: CalendarService = calendar if calendar is not None else SqlCalendarService()
        self.currency = currency

    @property
    def summary_is_one_statement(self) -> bool:
        """Whether the summary is `summary_statement` (market and events in the cart's
        database), which another statement of the cart's database can then carry."""
        return isinstance(self.market, SqlMarketService) and isinstance(
            self.calendar, SqlCalendarService
        )

    def summary_from_columns(self, values: Sequence[Any]) -> CartSummary:
        """The summary from the values of `summary_statement`'s columns, in their order
        (SUMMARY_LABELS), alone or where another statement carries them."""
        row = dict(zip(SUMMARY_LABELS, values, strict=True))
        return CartSummary.model_validate({**row, "currency": self.currency})

    async def cart_summary(self, session: AsyncSession, *, identity: CartIdentity) -> CartSummary:
        """Product units, bookings and tickets in the cart, with their totals from DB prices."""
        if self.summary_is_one_statement:
            statement = SUMMARY[identity.is_user]
            row = (await execute_alone(session, statement, owner_params(identity))).one()
            return self.summary_from_columns(row)
        return await self._composed_summary(session, identity=identity)

    async def summary_alone(self, engine: AsyncEngine, identity: CartIdentity) -> CartSummary:
        """`cart_summary` run alone on the driver, without a session (the service's lanes,
        bp/internal_lanes.py): for a service whose summary is one statement, on an engine where
        a statement may run alone (lib/db.runs_alone)."""
        (row,) = await fetch_on_driver(engine, SUMMARY[identity.is_user], owner_params(identity))
        return self.summary_from_columns(row)

    async def _composed_summary(
        self, session: AsyncSession, *, identity: CartIdentity
    ) -> CartSummary:
        """The same summary through the domain protocols, for a deployment with stubbed domains."""
        lines = (
            await session.execute(
                select(CartItem.product_id, CartItem.quantity).where(
                    owned_by(CartItem, identity), CartItem.deleted_at.is_(None)
                )
            )
        ).all()
        products = await self.market.products_by_ids(session, [line[0] for line in lines])
        live = [(products[pid], qty) for pid, qty in lines if pid in products]
        entries = await self.calendar.pending_entries(session, identity=identity)
        tickets = (
            await self.calendar.pending_tickets(session, user_id=identity.user_id)
            if identity.user_id is not None
            else []
        )
        return summary_of(live, entries, tickets, currency=self.currency)


def summary_of(
    products: Sequence[tuple[ProductDTO, int]],
    entries: Sequence[CalendarEntryDTO],
    tickets: Sequence[TicketDTO],
    *,
    currency: str,
) -> CartSummary:
    """A cart's summary from its sold products (with quantities), bookings and tickets."""
    return CartSummary(
        count=sum(qty for _, qty in products),
        total=total(product.price * qty for product, qty in products),
        calendar_count=len(entries),
        calendar_total=total(entry.cost for entry in entries),
        ticket_count=len(tickets),
        ticket_total=total(ticket.cost for ticket in tickets),
        currency=currency,
    )


def one_statement_summary(cart: CartService) -> SqlCartService | None:
    """The cart service, when its summary is one statement (`summary_statement`) that another
    statement of the cart's database can carry; else None."""
    if isinstance(cart, SqlCartService) and cart.summary_is_one_statement:
        return cart
    return None
