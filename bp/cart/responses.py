"""What checkout and payment POSTs answer: for HTMX a fragment (or HX-Redirect), for any other
request a 303 to the GET page that shows the outcome (seed 002: no POST renders a page).

Shared by the cart's checkout routes and the order page's "pay again".
"""

from __future__ import annotations

from typing import Any

from quart import Response, render_template
from quart.typing import ResponseReturnValue

from bp.cart.services.checkout_outcomes import OutcomeKind, outcome_path, remember_outcome
from bp.cart.services.payment_errors import CheckoutStartFailed, SplitCheckoutRequired
from bp.runtime import current_runtime
from lib.htmx import is_htmx, see_other, to_alerts

SPLIT_PATH = "/checkout/split/"
# The outcome pages live as long as the hosted checkout they lead to, and a little more.
OUTCOME_SLACK_SECONDS = 15 * 60


async def start_failed_answer(failure: CheckoutStartFailed) -> ResponseReturnValue:
    """The order is saved but SumUp's page could not be opened: say so, offer to try again."""
    if is_htmx():
        return await _fragment(
            "checkout/_start_failed.html",
            failure.status,
            message=failure.message,
            order_id=failure.order_id,
        )
    return await outcome_answer(failure.order_id, "not-started", [failure.message])


async def split_answer(split: SplitCheckoutRequired) -> ResponseReturnValue:
    """A cart paid to several merchants: explain, and link each page's own checkout."""
    if is_htmx():
        return await _fragment(
            "checkout/_split.html", split.status, message=split.message, pages=split.pages
        )
    # The split page works it out again from the cart, so a reload shows the cart as it is.
    return see_other(SPLIT_PATH)


async def outcome_answer(
    order_id: int, kind: OutcomeKind, messages: list[str]
) -> ResponseReturnValue:
    """Leave the messages for the order's outcome page and send the browser there (HTMX with
    HX-Redirect, anything else with a 303)."""
    runtime = current_runtime()
    await remember_outcome(
        runtime.redis.cart,
        order_id=order_id,
        kind=kind,
        messages=messages,
        ttl_seconds=runtime.settings.payment_window_minutes * 60 + OUTCOME_SLACK_SECONDS,
    )
    path = outcome_path(order_id, kind)
    if is_htmx():
        return Response("", status=200, headers={"HX-Redirect": path})
    return see_other(path)


async def _fragment(template: str, status: int, **context: Any) -> Response:
    """A checkout problem for HTMX: the fragment, put in the page's error toasts."""
    body = await render_template(template, **context)
    return to_alerts(Response(body, status=status, mimetype="text/html"))
