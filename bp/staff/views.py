"""What every staff page shares: the queue counts in its navigation, the staff member, and
the one-line outcome of the action it was redirected from."""

from __future__ import annotations

from typing import Any

from quart import Response, render_template, request

from bp.runtime import current_runtime, request_session
from bp.staff.services.queues import queue_counts

# The outcome a staff page shows after an action redirected to it (?done=<action>).
DONE_MESSAGES = {
    "cancel_order": (
        "The order is cancelled: its SumUp checkout can no longer be paid and its items are "
        "back in the shopper's cart."
    ),
    "refund": "The refund was made at SumUp and recorded on the order.",
    "resolve_mismatch": "The unmatched payment is recorded as resolved.",
    "resend_confirmation": "The confirmation is back in the mail queue.",
    "retry_dead_letter": "The event is back in the relay's queue.",
    "retry_dead_mail": "The message is back in the mail queue.",
    "set_merchant": "The page's merchant is saved; its API key is sealed and will not be shown.",
}


async def render_staff(template: str, *, status: int = 200, **context: Any) -> Response:
    """A staff page, with the queue counts for its navigation."""
    runtime = current_runtime()
    counts = await queue_counts(request_session(), settings=runtime.settings)
    done = DONE_MESSAGES.get(request.args.get("done", ""))
    body = await render_template(template, counts=counts, done=done, **context)
    response = Response(body, status=status, mimetype="text/html")
    response.vary.add("HX-Request")
    return response
