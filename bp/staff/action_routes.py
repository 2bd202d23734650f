"""The staff's actions, each behind a confirmation page: GET shows what will happen, POST
does it (through the service functions `manage.py` and the internal API use), records it in
the audit, and redirects to where its outcome shows."""

from __future__ import annotations

from typing import Any

from quart import Response, request
from werkzeug.wrappers import Response as WerkzeugResponse

from bp.runtime import current_runtime, request_session
from bp.staff.blueprint import bp
from bp.staff.gate import current_staff_user_id
from bp.staff.services.actions import (
    parse_refund_form,
    staff_cancel_order,
    staff_refund,
    staff_resend_confirmation,
    staff_resolve_mismatch,
    staff_retry_dead_letter,
    staff_retry_dead_mail,
)
from bp.staff.services.queues import dead_letter_or_raise, dead_message_or_raise
from bp.staff.services.timeline import staff_order
from bp.staff.views import render_staff
from lib.htmx import go_to
from lib.ids import ID
from lib.rate_limits import CHECKOUT, rate_class


async def _order_page(order_id: int) -> dict[str, Any]:
    runtime = current_runtime()
    async with runtime.databases.account_sessionmaker() as account:
        found = await staff_order(
            request_session(),
            account_session=account,
            order_id=order_id,
            settings=runtime.settings,
            domains=runtime.domains,
        )
    return {"found": found, "order": found.view}


@bp.get(f"/orders/<{ID}:order_id>/refund/")
async def confirm_refund(order_id: int) -> Response:
    """The refund's confirmation: how much (at most what is refundable) and why."""
    return await render_staff("staff/confirm_refund.html", **await _order_page(order_id))


@bp.post(f"/orders/<{ID}:order_id>/refund/")
@rate_class(CHECKOUT)
async def refund(order_id: int) -> Response | WerkzeugResponse:
    """Refund the order, all of it or a part, through SumUp."""
    runtime = current_runtime()
    form = await request.form
    refund_form = parse_refund_form(amount=form.get("amount", ""), reason=form.get("reason", ""))
    await staff_refund(
        request_session(),
        staff_user_id=current_staff_user_id(),
        order_id=order_id,
        form=refund_form,
        settings=runtime.settings,
        gateway=runtime.gateway,
        domains=runtime.domains,
    )
    return go_to(f"/staff/orders/{order_id}/?done=refund")


@bp.get(f"/orders/<{ID}:order_id>/cancel/")
async def confirm_cancel_order(order_id: int) -> Response:
    """The confirmation of cancelling an order that waits for payment."""
    return await render_staff("staff/confirm_cancel.html", **await _order_page(order_id))


@bp.post(f"/orders/<{ID}:order_id>/cancel/")
@rate_class(CHECKOUT)
async def cancel_order(order_id: int) -> Response | WerkzeugResponse:
    """Deactivate the order's SumUp checkout, then cancel the order and release its claims."""
    runtime = current_runtime()
    await staff_cancel_order(
        request_session(),
        staff_user_id=current_staff_user_id(),
        order_id=order_id,
        settings=runtime.settings,
        gateway=runtime.gateway,
        domains=runtime.domains,
    )
    return go_to(f"/staff/orders/{order_id}/?done=cancel_order")


@bp.get(f"/orders/<{ID}:order_id>/resolve-mismatch/")
async def confirm_resolve_mismatch(order_id: int) -> Response:
    """The confirmation that the unmatched payment was settled in SumUp by hand."""
    return await render_staff("staff/confirm_mismatch.html", **await _order_page(order_id))


@bp.post(f"/orders/<{ID}:order_id>/resolve-mismatch/")
async def resolve_mismatch(order_id: int) -> Response | WerkzeugResponse:
    """Record the order's unmatched payment as resolved."""
    await staff_resolve_mismatch(
        request_session(), staff_user_id=current_staff_user_id(), order_id=order_id
    )
    return go_to(f"/staff/orders/{order_id}/?done=resolve_mismatch")


@bp.get(f"/orders/<{ID}:order_id>/resend-confirmation/")
async def confirm_resend_confirmation(order_id: int) -> Response:
    """The confirmation of sending the order's confirmation mail again."""
    return await render_staff("staff/confirm_resend.html", **await _order_page(order_id))


@bp.post(f"/orders/<{ID}:order_id>/resend-confirmation/")
async def resend_confirmation(order_id: int) -> Response | WerkzeugResponse:
    """Put the order's confirmation mail back in the queue."""
    await staff_resend_confirmation(
        request_session(), staff_user_id=current_staff_user_id(), order_id=order_id
    )
    return go_to(f"/staff/orders/{order_id}/?done=resend_confirmation")


@bp.get(f"/dead-letters/<{ID}:event_id>/retry/")
async def confirm_retry_dead_letter(event_id: int) -> Response:
    """The confirmation of putting a dead-lettered event back in the relay's queue."""
    event = await dead_letter_or_raise(request_session(), event_id=event_id)
    return await render_staff("staff/confirm_dead_letter.html", event=event)


@bp.post(f"/dead-letters/<{ID}:event_id>/retry/")
async def retry_dead_letter(event_id: int) -> Response | WerkzeugResponse:
    """Put the event back in the relay's queue."""
    await staff_retry_dead_letter(
        request_session(), staff_user_id=current_staff_user_id(), event_id=event_id
    )
    return go_to("/staff/queues/?done=retry_dead_letter")


@bp.get(f"/dead-mail/<{ID}:message_id>/retry/")
async def confirm_retry_dead_mail(message_id: int) -> Response:
    """The confirmation of putting a dead message back in the mail queue."""
    message = await dead_message_or_raise(request_session(), message_id=message_id)
    return await render_staff("staff/confirm_dead_mail.html", message=message)


@bp.post(f"/dead-mail/<{ID}:message_id>/retry/")
async def retry_dead_mail(message_id: int) -> Response | WerkzeugResponse:
    """Put the message back in the mail queue."""
    await staff_retry_dead_mail(
        request_session(), staff_user_id=current_staff_user_id(), message_id=message_id
    )
    return go_to("/staff/queues/?done=retry_dead_mail")
