"""GET /<page_slug>/: one page's cart."""

from __future__ import annotations

from bp.cart.blueprints import bp
from bp.cart.request_identity import current_cart_identity
from bp.cart.reserved_slugs import refuse_reserved_slug
from bp.cart.views import page_context
from lib.pages import render_page

TEMPLATE = "cart/page.html"


@bp.get("/<page_slug>/")
async def page_cart(page_slug: str) -> str:
    """The products, bookings and tickets of one page, their totals and its checkout button."""
    refuse_reserved_slug(page_slug)
    context = await page_context(current_cart_identity(), page_slug)
    return await render_page(TEMPLATE, **context)
