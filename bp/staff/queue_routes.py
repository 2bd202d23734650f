"""GET /staff/queues/: what waits for the staff, and the dead letters and dead mail to retry."""

from __future__ import annotations

from quart import Response

from bp.order.services.dead_mail import dead_mail
from bp.runtime import request_session
from bp.staff.blueprint import bp
from bp.staff.views import render_staff
from services.events import dead_letters


@bp.get("/queues/")
async def queues() -> Response:
    """The queues' counts, with the dead-lettered events and dead messages listed."""
    session = request_session()
    return await render_staff(
        "staff/queues.html",
        dead_letters=await dead_letters(session),
        dead_messages=await dead_mail(session),
    )
