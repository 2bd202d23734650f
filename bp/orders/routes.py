"""GET /orders/: the shopper's orders, searched, filtered and paged."""

from __future__ import annotations

from quart import Response, request

from bp.cart.request_identity import current_cart_identity
from bp.cart.template_helpers import read_with_page
from bp.orders.blueprint import bp
from bp.orders.filters.qs import list_links, parse_order_query
from bp.orders.services.list_orders import list_orders
from bp.runtime import current_runtime, request_session
from lib.htmx import is_htmx
from lib.pages import render_fragment, render_page
from services.sql.cart_impl import one_statement_summary


def wants_list_fragment() -> bool:
    """HTMX swaps the list in place; a history restore (cache miss) needs the whole page."""
    return is_htmx() and request.headers.get("HX-History-Restore-Request") != "true"


@bp.get("/orders/")
async def order_list() -> Response:
    """The signed-in shopper's orders (or this browser's), newest first; HTMX gets the list."""
    query = parse_order_query(request.args)
    identity = current_cart_identity()
    list_only = wants_list_fragment()
    runtime = current_runtime()
    page = None
    if identity is not None:
        page = await list_orders(
            request_session(),
            identity=identity,
            query=query,
            page_size=runtime.settings.orders_page_size,
            badge=None if list_only else one_statement_summary(runtime.domains.cart),
        )
        if page.summary is not None:
            read_with_page(identity, page.summary)
    links = list_links(query, has_next=page is not None and page.has_next)
    view = {"page": page, "query": query, "identity": identity, "links": links}
    if list_only:
        body = await render_fragment("orders/_list.html", **view)
    else:
        body = await render_page("orders/index.html", **view)
    response = Response(body, mimetype="text/html")
    # The same URL answers a fragment or a page: caches must keep them apart.
    response.vary.add("HX-Request")
    return response
