"""POST /orders/<order_id>/pay/ and /recheck/: pay an open order again; ask SumUp now."""

from __future__ import annotations

from quart import Response, current_app, render_template
from quart.typing import ResponseReturnValue

from bp.cart.checkout_routes import go_to, start_failed_answer
from bp.cart.services.identity import current_cart_identity
from bp.cart.services.payment_attempts import pay_order, recheck_order
from bp.order import bp
from bp.order.services.get_order import BIGINT_MAX, get_order_view_or_raise
from lib import lifecycle
from lib.db import request_session
from lib.htmx import is_htmx, see_other
from services.payments.errors import CheckoutStartFailed
from services.payments.runtime import gateway_of

ORDER_ID = f"int(min=1, max={BIGINT_MAX})"


@bp.post(f"/orders/<{ORDER_ID}:order_id>/pay/")
async def pay_again(order_id: int) -> ResponseReturnValue:
    """Send the owner of a pending or failed order to SumUp's payment page for it."""
    try:
        url = await pay_order(
            request_session(),
            order_id=order_id,
            identity=current_cart_identity(create=False),
            gateway=gateway_of(current_app),
            settings=lifecycle.settings_of(current_app),
        )
    except CheckoutStartFailed as failure:
        return await start_failed_answer(failure)
    return go_to(url)


@bp.post(f"/orders/<{ORDER_ID}:order_id>/recheck/")
async def recheck(order_id: int) -> ResponseReturnValue:
    """Ask SumUp about the order's payment now; back to the order with what was found."""
    identity = current_cart_identity(create=False)
    session = request_session()
    message = await recheck_order(
        session,
        order_id=order_id,
        identity=identity,
        gateway=gateway_of(current_app),
        settings=lifecycle.settings_of(current_app),
    )
    if not is_htmx():
        return see_other(f"/orders/{order_id}/?checked=1")
    order = await get_order_view_or_raise(session, order_id=order_id, identity=identity)
    detail = await render_template("order/_detail.html", order=order)
    notice = await render_template("checkout/_messages_oob.html", message=message)
    return Response(detail + notice, mimetype="text/html")
