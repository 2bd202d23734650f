"""GET /dev/shop and its buttons: products, bookable slots and event tickets (development only)."""

from __future__ import annotations

from typing import Any

from quart import Response, render_template, request
from quart.typing import ResponseReturnValue

from bp.cart.request_identity import current_cart_identity, keep_anonymous_cart
from bp.cart.services.cart_items import parse_quantity
from bp.cart.views import writable_identity
from bp.dev.blueprint import bp
from bp.dev.storefront_service import (
    MAX_TICKETS_PER_PURCHASE,
    SHOP_PATH,
    book_slot,
    buy_tickets,
    event_path,
    load_storefront,
)
from bp.runtime import current_runtime, request_session
from lib.auth import current_user_id, sign_in_url
from lib.htmx import is_htmx, see_other, to_alerts
from lib.ids import ID


async def _done(template: str, **context: Any) -> ResponseReturnValue:
    """For HTMX the message, with the badge and the changed part of the shop out of band, as
    the market and events apps update their pages; a 303 back to the shop otherwise."""
    if not is_htmx():
        return see_other(SHOP_PATH)
    return await render_template(template, **context)


@bp.get("/shop")
async def shop() -> str:
    """The storefront standing in for the market and events apps."""
    session, domains, identity = (
        request_session(),
        current_runtime().domains,
        current_cart_identity(),
    )
    pages = await load_storefront(session, identity=identity, domains=domains)
    await session.commit()
    return await render_template(
        "dev/shop.html",
        pages=pages,
        signed_in=current_user_id() is not None,
        max_tickets=MAX_TICKETS_PER_PURCHASE,
    )


@bp.post(f"/shop/slots/<{ID}:slot_id>/book")
async def book(slot_id: int) -> ResponseReturnValue:
    """Book a slot: a pending booking in the cart."""
    name = await book_slot(request_session(), identity=await writable_identity(), slot_id=slot_id)
    await keep_anonymous_cart()
    return await _done(
        "dev/_booked.html", message=f"Booked {name}: it is in your cart.", slot_id=slot_id
    )


@bp.post(f"/shop/ticket-types/<{ID}:ticket_type_id>/buy")
async def buy(ticket_type_id: int) -> ResponseReturnValue:
    """Buy tickets: pending tickets in a signed-in shopper's cart; others are asked to sign in."""
    user_id = current_user_id()
    if user_id is None:
        return await _sign_in_required(ticket_type_id)
    form = await request.form
    quantity = parse_quantity(form.get("quantity"), maximum=MAX_TICKETS_PER_PURCHASE, default=1)
    bought = await buy_tickets(
        request_session(),
        user_id=user_id,
        ticket_type_id=ticket_type_id,
        quantity=quantity,
        domains=current_runtime().domains,
    )
    change = bought.change
    noun = "ticket" if change.added == 1 else "tickets"
    message = (
        f"Added {change.added} {change.ticket_type} {noun} for {change.event} to your "
        "cart. If the event sells out before payment, you will be refunded."
    )
    return await _done("dev/_bought.html", message=message, bought=bought)


async def _sign_in_required(ticket_type_id: int) -> ResponseReturnValue:
    """Tickets can only be in a signed-in shopper's cart: for HTMX a 401 with a link to sign
    in, for a form the sign-in page itself (a POST renders no page); either way the shopper
    comes back to the event after signing in."""
    runtime = current_runtime()
    back = await event_path(
        request_session(), ticket_type_id=ticket_type_id, domains=runtime.domains
    )
    link = sign_in_url(runtime.settings, back)
    if is_htmx():
        body = await render_template("dev/_sign_in_required.html", sign_in_link=link)
        return to_alerts(Response(body, status=401, mimetype="text/html"))
    return see_other(link)
