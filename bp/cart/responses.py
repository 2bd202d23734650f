"""What checkout and payment routes answer when a payment cannot start, for HTMX or a page.

Shared by the cart's checkout routes and the order page's "pay again".
"""

from __future__ import annotations

from typing import Any

from quart import Response, render_template

from bp.cart.services.payment_errors import CheckoutStartFailed, SplitCheckoutRequired
from lib.htmx import is_htmx, to_messages


async def start_failed_answer(failure: CheckoutStartFailed) -> Response:
    """The order is saved but SumUp's page could not be opened: say so, offer to try again."""
    return await _problem(
        "checkout/_start_failed.html",
        "checkout/start_failed.html",
        failure.status,
        message=failure.message,
        order_id=failure.order_id,
    )


async def split_answer(split: SplitCheckoutRequired) -> Response:
    """A cart paid to several merchants: explain, and link each page's own checkout."""
    return await _problem(
        "checkout/_split.html",
        "checkout/split.html",
        split.status,
        message=split.message,
        pages=split.pages,
    )


async def _problem(fragment: str, page: str, status: int, **context: Any) -> Response:
    """A checkout problem: for HTMX the fragment in the page's message region, else the page."""
    htmx = is_htmx()
    body = await render_template(fragment if htmx else page, **context)
    response = Response(body, status=status, mimetype="text/html")
    return to_messages(response) if htmx else response
