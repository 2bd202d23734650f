"""Cart changes at fixed URLs: add a product, set a quantity (of a product line or of one type
of ticket), remove a line, booking or ticket."""

from __future__ import annotations

from quart import request
from quart.typing import ResponseReturnValue

from bp.cart.blueprints import bp
from bp.cart.request_identity import current_cart_identity, keep_anonymous_cart
from bp.cart.services import cart_items, ticket_quantity
from bp.cart.template_helpers import read_with_page
from bp.cart.views import added, cart_identity, changed, writable_identity
from bp.runtime import current_runtime, request_session
from lib.ids import ID


@bp.post(f"/add/<{ID}:product_id>/")
async def add_to_cart(product_id: int) -> ResponseReturnValue:
    """Add a product (form `quantity`, default 1); adding again increments its line."""
    form = await request.form
    runtime = current_runtime()
    limit = runtime.settings.max_line_quantity
    quantity = cart_items.parse_quantity(form.get("quantity"), maximum=limit, default=1)
    identity = await writable_identity()
    change = await cart_items.add_product(
        request_session(),
        identity=identity,
        product_id=product_id,
        quantity=quantity,
        max_quantity=limit,
        domains=runtime.domains,
    )
    if change.summary is not None:
        read_with_page(identity, change.summary)
    await keep_anonymous_cart()
    message = cart_items.added_message(change, quantity)
    return await added(message, default="/", product=change.product)


@bp.post(f"/items/<{ID}:item_id>/quantity/")
async def set_line_quantity(item_id: int) -> ResponseReturnValue:
    """Set a line's quantity; 0 removes the line."""
    form = await request.form
    runtime = current_runtime()
    quantity = cart_items.parse_quantity(
        form.get("quantity"), maximum=runtime.settings.max_line_quantity, allow_zero=True
    )
    change = await cart_items.set_quantity(
        request_session(),
        identity=cart_identity(),
        item_id=item_id,
        quantity=quantity,
        domains=runtime.domains,
    )
    if change.quantity == 0:
        return await changed(f"Removed {change.title} from your cart.", default="/")
    return await changed(f"{change.title}: quantity is now {change.quantity}.", default="/")


@bp.post(f"/items/<{ID}:item_id>/remove/")
async def remove_line(item_id: int) -> ResponseReturnValue:
    """Take a product line out of the cart."""
    change = await cart_items.remove_line(
        request_session(),
        identity=cart_identity(),
        item_id=item_id,
        domains=current_runtime().domains,
    )
    return await changed(f"Removed {change.title} from your cart.", default="/")


@bp.post(f"/entries/<{ID}:entry_id>/remove/")
async def remove_booking(entry_id: int) -> ResponseReturnValue:
    """Take a booking out of the cart (it is cancelled, and kept for the calendar's history)."""
    await cart_items.remove_booking(
        request_session(),
        identity=cart_identity(),
        entry_id=entry_id,
        domains=current_runtime().domains,
    )
    return await changed("Removed the booking from your cart.", default="/")


@bp.post(f"/tickets/types/<{ID}:ticket_type_id>/quantity/")
async def set_ticket_quantity(ticket_type_id: int) -> ResponseReturnValue:
    """Set how many tickets of one type are in the cart; 0 takes them all out."""
    form = await request.form
    runtime = current_runtime()
    quantity = cart_items.parse_quantity(
        form.get("quantity"), maximum=runtime.settings.max_line_quantity, allow_zero=True
    )
    change = await ticket_quantity.set_ticket_quantity(
        request_session(),
        user_id=ticket_quantity.signed_in_user(current_cart_identity()),
        ticket_type_id=ticket_type_id,
        quantity=quantity,
        domains=runtime.domains,
    )
    return await changed(change.message, default="/")


@bp.post(f"/tickets/<{ID}:ticket_id>/remove/")
async def remove_ticket(ticket_id: int) -> ResponseReturnValue:
    """Take a ticket out of the cart."""
    await cart_items.remove_ticket(
        request_session(),
        identity=cart_identity(),
        ticket_id=ticket_id,
        domains=current_runtime().domains,
    )
    return await changed("Removed the ticket from your cart.", default="/")
