"""The orders list's view, of no request's context: the route renders it, and so does its lane
(bp/page_lanes.py) before the framework."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bp.orders.filters.qs import OrderListQuery, list_links
from bp.orders.services.list_orders import list_orders
from services.contracts.cart_summary import CartSummary
from services.contracts.dtos import CartIdentity
from services.runtime import Runtime
from services.sql.cart_impl import one_statement_summary

# The list's template, for a whole page.
TEMPLATE = "orders/index.html"
# The same URL answers a fragment (HTMX) or a page: caches must keep them apart.
VARY = "HX-Request"


async def order_list_view(
    runtime: Runtime,
    db: AsyncSession,
    identity: CartIdentity | None,
    query: OrderListQuery,
    *,
    list_only: bool,
) -> tuple[dict[str, Any], CartSummary | None]:
    """The list's view for `query`, and the badge's summary when its statement read it (a
    whole page, whose badge is read with the orders when the cart's database allows)."""
    page = None
    if identity is not None:
        page = await list_orders(
            db,
            identity=identity,
            query=query,
            page_size=runtime.settings.orders_page_size,
            badge=None if list_only else one_statement_summary(runtime.domains.cart),
        )
    links = list_links(query, has_next=page is not None and page.has_next)
    view = {"page": page, "query": query, "identity": identity, "links": links}
    return view, page.summary if page is not None else None
