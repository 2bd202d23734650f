"""GET /staff/activity/: every staff action, newest first."""

from __future__ import annotations

from quart import Response, request

from bp.runtime import current_runtime, request_session
from bp.staff.blueprint import bp
from bp.staff.services.audit import staff_activity
from bp.staff.services.order_query import parse_page
from bp.staff.views import render_staff


@bp.get("/activity/")
async def activity() -> Response:
    """The audit: who did what, when, and how it went."""
    runtime = current_runtime()
    page = await staff_activity(request_session(), page=parse_page(request.args.get("page", "")))
    async with runtime.databases.account_sessionmaker() as account:
        people = await runtime.domains.account.contacts(
            account, [action.staff_user_id for action in page.actions]
        )
    return await render_staff("staff/activity.html", page=page, people=people)
