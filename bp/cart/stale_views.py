"""A change to a line, booking or ticket that is no longer in the cart (another tab took it out):
the message, and the cart view as it is now, so the page stops showing what is gone.

Only HTMX changes made from a cart view (their form names it) are answered so; anything else
is answered as any other error (lib/error_handlers.py).
"""

from __future__ import annotations

from quart import Response, render_template, request
from quart.typing import ResponseReturnValue

from bp.cart.blueprints import bp
from bp.cart.request_identity import current_cart_identity
from bp.cart.views import VIEW_FIELD, overview_context, page_context
from lib.error_handlers import error_response
from lib.errors import NotFound
from lib.htmx import is_htmx

# What a change says when its line, booking or ticket is gone from the cart.
GONE_CODES = frozenset({"LINE_NOT_FOUND", "BOOKING_NOT_FOUND", "TICKET_NOT_FOUND", "NOT_IN_CART"})


@bp.errorhandler(NotFound)
async def answer_gone(error: NotFound) -> ResponseReturnValue:
    """The view re-rendered without what is gone, the badge, and the message as an error."""
    if error.code not in GONE_CODES or not is_htmx() or request.method != "POST":
        return await error_response(error.status, error.code, error.message)
    slug = ((await request.form).get(VIEW_FIELD) or "").strip()
    identity = current_cart_identity()
    if slug:
        context = await page_context(identity, slug)
        section = "cart/_page_cart.html"
    else:
        context = await overview_context(identity)
        section = "cart/_overview.html"
    body = await render_template(
        "cart/_stale.html", section=section, code=error.code, message=error.message, **context
    )
    return Response(body, status=error.status, mimetype="text/html")
