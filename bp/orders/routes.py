"""GET /orders/: the shopper's orders, searched, filtered and paged."""

from __future__ import annotations

from quart import Response, request

from bp.cart.request_identity import current_cart_identity
from bp.cart.template_helpers import read_with_page
from bp.orders.blueprint import bp
from bp.orders.filters.qs import parse_order_query
from bp.orders.views import TEMPLATE, VARY, order_list_view
from bp.runtime import current_runtime, request_session
from lib.htmx import is_htmx
from lib.pages import render_fragment, render_page


def wants_list_fragment() -> bool:
    """HTMX swaps the list in place; a history restore (cache miss) needs the whole page."""
    return is_htmx() and request.headers.get("HX-History-Restore-Request") != "true"


@bp.get("/orders/")
async def order_list() -> Response:
    """The signed-in shopper's orders (or this browser's), newest first; HTMX gets the list."""
    identity = current_cart_identity()
    list_only = wants_list_fragment()
    view, summary = await order_list_view(
        current_runtime(),
        request_session(),
        identity,
        parse_order_query(request.args),
        list_only=list_only,
    )
    if identity is not None and summary is not None:
        read_with_page(identity, summary)
    if list_only:
        body = await render_fragment("orders/_list.html", **view)
    else:
        body = await render_page(TEMPLATE, **view)
    response = Response(body, mimetype="text/html")
    response.vary.add(VARY)
    return response
