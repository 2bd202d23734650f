"""GET /: the cart overview, one group per page."""

from __future__ import annotations

from bp.cart.blueprints import bp
from bp.cart.request_identity import current_cart_identity
from bp.cart.views import overview_context
from lib.pages import render_page

TEMPLATE = "cart/overview.html"


@bp.get("/")
async def overview() -> str:
    """Every page the shopper has something in the cart for, with counts and subtotals."""
    context = await overview_context(current_cart_identity())
    return await render_page(TEMPLATE, **context)
