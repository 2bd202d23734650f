""" "Find my orders": GET and POST /orders/find/, the same answer for every address."""

from __future__ import annotations

from quart import render_template, request
from quart.typing import ResponseReturnValue

from bp.order.services.order_lookup import request_order_links
from bp.orders.blueprint import bp
from bp.runtime import request_session
from lib.htmx import see_other
from lib.rate_limits import ORDER_LOOKUP, rate_class

FIND_PATH = "/orders/find/"


@bp.get(FIND_PATH)
async def find_orders() -> ResponseReturnValue:
    """The form that mails an address its order links; after a request, what happens next."""
    return await render_template("orders/find.html", sent=request.args.get("sent") == "1")


@bp.post(FIND_PATH)
@rate_class(ORDER_LOOKUP)
async def request_links() -> ResponseReturnValue:
    """Mail the address its orders' links, if it has orders; the same answer either way."""
    form = await request.form
    await request_order_links(request_session(), email=form.get("email"))
    return see_other(f"{FIND_PATH}?sent=1")
