"""Sales for the coop's accounts: totals by day and by line (product, booking slot, ticket
type) for a range of days and a page, and CSV exports of orders and of their lines.

A sale is a paid order, dated by when it was paid, in the coop's zone. A refund is the
amount SumUp gave back on the order; a line's share of it is in proportion to the line's
value (to the cent, so a line's shares may differ from the order's refund by a cent).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import ColumnElement, Date, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bp.staff.services.order_query import parse_day
from config.settings import Settings
from lib.error_codes import ErrorCode
from lib.errors import BadRequest, NotFound
from lib.localtime import to_local, zone
from lib.money import cents
from models import Order, OrderItem
from services.contracts.dtos import PageDTO
from services.registry import DomainServices

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
KIND_LABELS = {"product": "Product", "booking": "Booking", "ticket": "Ticket"}
# Rows fetched from the server-side cursor at a time while a CSV streams.
EXPORT_BATCH = 500
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_RANGE_DAYS = 366 * 5
ORDER_COLUMNS = (
    "order",
    "created_at",
    "paid_at",
    "status",
    "page",
    "user_id",
    "currency",
    "total",
    "refunded",
    "net",
    "sumup_transaction_code",
)
LINE_COLUMNS = (
    "order",
    "line",
    "paid_at",
    "kind",
    "title",
    "page",
    "quantity",
    "unit_price",
    "line_total",
    "currency",
)


@dataclass
class _LineSum:
    orders: set[int] = field(default_factory=set)
    quantity: int = 0
    sold: Decimal = ZERO
    refunded: Decimal = ZERO


@dataclass(frozen=True)
class SalesQuery:
    date_from: date
    date_to: date
    page_slug: str = ""


@dataclass(frozen=True, slots=True)
class SalesTotal:
    label: str
    orders: int
    quantity: int
    sold: Decimal
    refunded: Decimal

    @property
    def net(self) -> Decimal:
        return self.sold - self.refunded


@dataclass(frozen=True, slots=True)
class SalesReport:
    query: SalesQuery
    page: PageDTO | None
    currency: str
    days: list[SalesTotal]
    lines: list[SalesTotal]

    @property
    def total(self) -> SalesTotal:
        return SalesTotal(
            "All days",
            sum(day.orders for day in self.days),
            sum(day.quantity for day in self.days),
            sum((day.sold for day in self.days), ZERO),
            sum((day.refunded for day in self.days), ZERO),
        )


def parse_sales_query(args: dict[str, str], *, today: date) -> SalesQuery:
    """The range of days (default: the last 30, today included) and the page."""
    date_to = parse_day(args.get("to", ""), "to") or today
    date_from = parse_day(args.get("from", ""), "from") or date_to - timedelta(days=29)
    if date_to < date_from:
        raise BadRequest(ErrorCode.INVALID_DATE_RANGE)
    if (date_to - date_from).days > MAX_RANGE_DAYS:
        raise BadRequest(ErrorCode.DATE_RANGE_TOO_LONG)
    return SalesQuery(date_from, date_to, args.get("page_slug", "").strip()[:255])


async def _page_of(
    session: AsyncSession, query: SalesQuery, domains: DomainServices
) -> PageDTO | None:
    if not query.page_slug:
        return None
    page = await domains.blog.page_by_slug(session, query.page_slug)
    if page is None:
        raise NotFound(ErrorCode.UNKNOWN_PAGE, slug=query.page_slug)
    return page


def _sold_in(
    query: SalesQuery, settings: Settings, page: PageDTO | None
) -> list[ColumnElement[bool]]:
    local = zone(settings.time_zone)
    start = datetime.combine(query.date_from, time(), local)
    end = datetime.combine(query.date_to + timedelta(days=1), time(), local)
    conditions = [Order.status == "paid", Order.paid_at >= start, Order.paid_at < end]
    if page is not None:
        conditions.append(Order.page_id == page.id)
    return conditions


async def sales_report(
    session: AsyncSession, *, query: SalesQuery, settings: Settings, domains: DomainServices
) -> SalesReport:
    """Sold, refunded and net by day and by line for the range (and page)."""
    page = await _page_of(session, query, domains)
    conditions = _sold_in(query, settings, page)
    day = cast(func.timezone(settings.time_zone, Order.paid_at), Date).label("day")
    day_rows = await session.execute(
        select(
            day,
            func.count(),
            func.coalesce(func.sum(Order.total_amount), 0),
            func.coalesce(
                func.sum(Order.refunded_amount).filter(Order.refunded_at.is_not(None)), 0
            ),
        )
        .where(*conditions)
        .group_by(day)
        .order_by(day)
    )
    quantities = {
        the_day: quantity
        for the_day, quantity in await session.execute(
            select(day, func.sum(OrderItem.quantity))
            .join(Order, Order.id == OrderItem.order_id)
            .where(*conditions)
            .group_by(day)
        )
    }
    days = [
        SalesTotal(
            the_day.isoformat(),
            count,
            quantities.get(the_day) or 0,
            cents(sold or ZERO),
            cents(refunded or ZERO),
        )
        for the_day, count, sold, refunded in day_rows
    ]
    line_rows = await session.execute(
        select(
            OrderItem.kind,
            OrderItem.title,
            OrderItem.quantity,
            OrderItem.line_total,
            Order.id,
            Order.total_amount,
            Order.refunded_amount,
            Order.refunded_at,
        )
        .join(Order, Order.id == OrderItem.order_id)
        .where(*conditions)
    )
    by_line: dict[tuple[str, str], _LineSum] = {}
    for (
        kind,
        title,
        quantity,
        line_total,
        order_id,
        order_total,
        refunded,
        refunded_at,
    ) in line_rows:
        entry = by_line.setdefault((kind, title), _LineSum())
        entry.orders.add(order_id)
        entry.quantity += quantity
        entry.sold += line_total
        if refunded_at is not None and refunded and order_total:
            entry.refunded += (line_total * refunded / order_total).quantize(
                CENT, rounding=ROUND_HALF_EVEN
            )
    await session.commit()
    lines = [
        SalesTotal(
            f"{KIND_LABELS.get(kind, kind)}: {title}",
            len(entry.orders),
            entry.quantity,
            cents(entry.sold),
            cents(entry.refunded),
        )
        for (kind, title), entry in sorted(by_line.items())
    ]
    return SalesReport(query, page, settings.currency, days, lines)


def spreadsheet_text(value: str) -> str:
    """Text a spreadsheet shows as text: a leading formula character is escaped."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def local_iso(moment: datetime | None, settings: Settings) -> str:
    return to_local(moment, settings.time_zone).isoformat(timespec="seconds") if moment else ""


def _csv_line(values: Sequence[object]) -> str:
    buffer = io.StringIO()
    # Text quoted, numbers (Decimal amounts, ids) bare: a spreadsheet reads them as numbers.
    csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


async def export_orders_csv(
    session: AsyncSession, *, query: SalesQuery, settings: Settings, domains: DomainServices
) -> AsyncIterator[str]:
    """The range's paid orders as CSV lines, streamed from a server-side cursor."""
    page = await _page_of(session, query, domains)
    pages = {p.id: p.slug for p in await domains.blog.list_pages(session)}
    yield _csv_line(ORDER_COLUMNS)
    result = await session.stream(
        select(Order)
        .where(*_sold_in(query, settings, page))
        .order_by(Order.paid_at, Order.id)
        .execution_options(yield_per=EXPORT_BATCH)
    )
    async for order in result.scalars():
        refunded = cents(order.refunded_amount or ZERO) if order.refunded_at is not None else ZERO
        total = cents(order.total_amount)
        yield _csv_line(
            (
                order.id,
                local_iso(order.created_at, settings),
                local_iso(order.paid_at, settings),
                order.status,
                spreadsheet_text(pages.get(order.page_id, "") if order.page_id else ""),
                order.user_id if order.user_id is not None else "",
                order.currency,
                total,
                refunded,
                total - refunded,
                spreadsheet_text(order.sumup_transaction_code or ""),
            )
        )
    await session.commit()


async def export_lines_csv(
    session: AsyncSession, *, query: SalesQuery, settings: Settings, domains: DomainServices
) -> AsyncIterator[str]:
    """The lines of the range's paid orders as CSV lines, streamed."""
    page = await _page_of(session, query, domains)
    pages = {p.id: p.slug for p in await domains.blog.list_pages(session)}
    yield _csv_line(LINE_COLUMNS)
    result = await session.stream(
        select(OrderItem, Order.paid_at, Order.currency)
        .join(Order, Order.id == OrderItem.order_id)
        .where(*_sold_in(query, settings, page))
        .order_by(Order.paid_at, Order.id, OrderItem.id)
        .execution_options(yield_per=EXPORT_BATCH)
    )
    async for item, paid_at, currency in result:
        yield _csv_line(
            (
                item.order_id,
                item.id,
                local_iso(paid_at, settings),
                item.kind,
                spreadsheet_text(item.title),
                spreadsheet_text(pages.get(item.page_id, "") if item.page_id else ""),
                item.quantity,
                cents(item.unit_price),
                cents(item.line_total),
                currency,
            )
        )
    await session.commit()
