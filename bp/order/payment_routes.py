"""POST /orders/<order_id>/pay/, /recheck/ and /cancel/: pay an open order again; ask SumUp
now; cancel it and have its items back in the cart."""

from __future__ import annotations

from quart import Response, render_template
from quart.typing import ResponseReturnValue

from bp.cart.request_identity import current_cart_identity, tell_next_page
from bp.cart.responses import start_failed_answer
from bp.cart.services.cancel_order import cancel_shoppers_order
from bp.cart.services.payment_errors import CheckoutStartFailed
from bp.order.blueprint import bp
from bp.order.services.get_order import get_order_view_or_raise
from bp.order.services.payment_actions import pay_order, recheck_order
from bp.runtime import current_runtime, request_session
from lib.htmx import go_to, is_htmx, safe_next, see_other
from lib.ids import POSITIVE_ID
from lib.rate_limits import CHECKOUT, rate_class


@bp.post(f"/orders/<{POSITIVE_ID}:order_id>/pay/")
@rate_class(CHECKOUT)
async def pay_again(order_id: int) -> ResponseReturnValue:
    """Send the owner of a pending or failed order to SumUp's payment page for it."""
    runtime = current_runtime()
    try:
        url = await pay_order(
            request_session(),
            order_id=order_id,
            identity=current_cart_identity(),
            settings=runtime.settings,
            gateway=runtime.gateway,
            domains=runtime.domains,
        )
    except CheckoutStartFailed as failure:
        return await start_failed_answer(failure)
    return go_to(url)


@bp.post(f"/orders/<{POSITIVE_ID}:order_id>/recheck/")
@rate_class(CHECKOUT)
async def recheck(order_id: int) -> ResponseReturnValue:
    """Ask SumUp about the order's payment now; back to the order with what was found."""
    identity = current_cart_identity()
    session, runtime = request_session(), current_runtime()
    message = await recheck_order(
        session,
        order_id=order_id,
        identity=identity,
        settings=runtime.settings,
        gateway=runtime.gateway,
        domains=runtime.domains,
    )
    if not is_htmx():
        return see_other(f"/orders/{order_id}/?checked=1")
    order = await get_order_view_or_raise(
        session, order_id=order_id, identity=identity, domains=runtime.domains
    )
    detail = await render_template("order/_detail.html", order=order)
    # Only a payment found is a success; anything else is news.
    tone = "success" if order.status == "paid" else "info"
    notice = await render_template("checkout/_messages_oob.html", message=message, tone=tone)
    return Response(detail + notice, mimetype="text/html")


@bp.post(f"/orders/<{POSITIVE_ID}:order_id>/cancel/")
@rate_class(CHECKOUT)
async def cancel(order_id: int) -> ResponseReturnValue:
    """Cancel the shopper's waiting order: its payment page closed, its items back in the cart."""
    runtime = current_runtime()
    cancellation = await cancel_shoppers_order(
        request_session(),
        order_id=order_id,
        identity=current_cart_identity(),
        settings=runtime.settings,
        gateway=runtime.gateway,
        domains=runtime.domains,
    )
    await tell_next_page(cancellation.message)
    # Back where the shopper pressed it (the cart, the storefront) or to the order.
    return go_to(safe_next(f"/orders/{order_id}/"))
