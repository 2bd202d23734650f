"""GET /staff/orders/: every shopper's orders, searched and filtered; one order's story."""

from __future__ import annotations

from quart import Response, redirect, request
from werkzeug.wrappers import Response as WerkzeugResponse

from bp.orders.routes import wants_list_fragment
from bp.runtime import current_runtime, request_session
from bp.staff.blueprint import bp
from bp.staff.services.order_query import FLAGS, parse_staff_order_query
from bp.staff.services.order_search import search_orders
from bp.staff.services.timeline import staff_order
from bp.staff.views import render_staff
from lib.ids import ID
from models import ORDER_STATUSES


@bp.get("/")
async def home() -> WerkzeugResponse:
    """The console opens on the orders."""
    return redirect("/staff/orders/", 303)


@bp.get("/orders/")
async def orders() -> Response:
    """Every shopper's orders, newest first; HTMX gets the list alone."""
    runtime = current_runtime()
    query = parse_staff_order_query(request.args)
    async with runtime.databases.account_sessionmaker() as account:
        page = await search_orders(
            request_session(),
            account_session=account,
            query=query,
            settings=runtime.settings,
            domains=runtime.domains,
            page_size=runtime.settings.orders_page_size,
        )
    pages = await runtime.domains.blog.list_pages(request_session())
    template = "staff/_order_list.html" if wants_list_fragment() else "staff/orders.html"
    return await render_staff(
        template, page=page, query=query, flags=FLAGS, statuses=ORDER_STATUSES, pages=pages
    )


@bp.get(f"/orders/<{ID}:order_id>/")
async def order(order_id: int) -> Response:
    """One order: its lines, bookings, tickets, payment attempts and timeline, and actions."""
    runtime = current_runtime()
    async with runtime.databases.account_sessionmaker() as account:
        found = await staff_order(
            request_session(),
            account_session=account,
            order_id=order_id,
            settings=runtime.settings,
            domains=runtime.domains,
        )
    return await render_staff("staff/order.html", found=found, order=found.view)
