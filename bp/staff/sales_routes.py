"""GET /staff/sales/: sold, refunded and net by day and by line; CSV exports, streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from quart import Response, request

from bp.runtime import current_runtime, request_session
from bp.staff.blueprint import bp
from bp.staff.services.sales import (
    SalesQuery,
    export_lines_csv,
    export_orders_csv,
    parse_sales_query,
    sales_report,
)
from bp.staff.views import render_staff
from lib.error_codes import ErrorCode
from lib.errors import NotFound
from lib.localtime import to_local

CSV_TYPE = "text/csv; charset=utf-8"


def _query() -> SalesQuery:
    settings = current_runtime().settings
    today = to_local(datetime.now(UTC), settings.time_zone).date()
    return parse_sales_query(dict(request.args), today=today)


@bp.get("/sales/")
async def sales() -> Response:
    """The totals for a range of days (default: the last 30) and a page."""
    runtime = current_runtime()
    query = _query()
    report = await sales_report(
        request_session(), query=query, settings=runtime.settings, domains=runtime.domains
    )
    pages = await runtime.domains.blog.list_pages(request_session())
    return await render_staff("staff/sales.html", report=report, query=query, pages=pages)


async def _csv(name: str, export: Callable[..., AsyncIterator[str]]) -> Response:
    runtime = current_runtime()
    query = _query()
    # Refused before the first byte: once streaming, a status can no longer change.
    if (
        query.page_slug
        and await runtime.domains.blog.page_by_slug(request_session(), query.page_slug) is None
    ):
        raise NotFound(ErrorCode.UNKNOWN_PAGE, slug=query.page_slug)

    async def rows() -> AsyncIterator[bytes]:
        # A session of its own: the response streams after the request's session is closed.
        async with runtime.databases.sessionmaker() as session:
            async for line in export(
                session, query=query, settings=runtime.settings, domains=runtime.domains
            ):
                yield line.encode()

    filename = f"{name}-{query.date_from.isoformat()}-{query.date_to.isoformat()}.csv"
    response = Response(rows(), mimetype=CSV_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/sales/orders.csv")
async def orders_csv() -> Response:
    """The range's paid orders, one a row."""
    return await _csv("orders", export_orders_csv)


@bp.get("/sales/order-lines.csv")
async def order_lines_csv() -> Response:
    """The lines of the range's paid orders, one a row."""
    return await _csv("order-lines", export_lines_csv)
