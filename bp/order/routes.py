"""GET /orders/<order_id>/: one order, for its owner only."""

from __future__ import annotations

from quart import render_template, request

from bp.cart.request_identity import current_cart_identity
from bp.order.blueprint import bp
from bp.order.services.calendar_files import calendar_files
from bp.order.services.get_order import get_order_view_or_raise
from bp.order.services.order_link import order_link
from bp.runtime import current_runtime, request_session
from lib.ids import POSITIVE_ID


# Ids beyond BIGINT (or not numbers at all) match no route: a 404 page, never a driver error.
@bp.get(f"/orders/<{POSITIVE_ID}:order_id>/")
async def order_page(order_id: int) -> str:
    """One order with its lines, bookings, tickets and payment; 404 unless the viewer owns it."""
    runtime = current_runtime()
    order = await get_order_view_or_raise(
        request_session(),
        order_id=order_id,
        identity=current_cart_identity(),
        domains=runtime.domains,
    )
    # "Check again" without HTMX comes back here with ?checked=1: say what the check found.
    checked = request.args.get("checked") == "1"
    link = order_link(runtime.settings, order.id, order.access_secret)
    return await render_template(
        "order/show.html",
        order=order,
        checked=checked,
        calendar_files=calendar_files(order, settings=runtime.settings, link=link),
    )
