"""GET /orders/<order_id>/<secret>/: an order opened by its link, from any device; and its
calendar files."""

from __future__ import annotations

from quart import Response, render_template
from quart.typing import ResponseReturnValue

from bp.order.blueprint import bp
from bp.order.services.calendar_files import calendar_file_or_none, calendar_files
from bp.order.services.order_link import get_order_by_link_or_raise, order_link
from bp.runtime import current_runtime, request_session
from lib.error_codes import ErrorCode
from lib.errors import NotFound
from lib.ids import POSITIVE_ID
from lib.rate_limits import ORDER_LINK, rate_class
from models import ACCESS_SECRET_LENGTH

SECRET = f"string(length={ACCESS_SECRET_LENGTH})"
# The secret is in the URL: no other site may be told it (Referer), no search engine may keep
# it, and no shared cache may hold the page.
LINK_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "private, no-store",
}


def _private(response: Response) -> Response:
    response.headers.update(LINK_HEADERS)
    return response


@bp.get(f"/orders/<{POSITIVE_ID}:order_id>/<{SECRET}:secret>/")
@rate_class(ORDER_LINK)
async def order_by_link(order_id: int, secret: str) -> ResponseReturnValue:
    """The order its link names, read-only; 404 for a wrong secret."""
    runtime = current_runtime()
    view = await get_order_by_link_or_raise(
        request_session(), order_id=order_id, secret=secret, domains=runtime.domains
    )
    link = order_link(runtime.settings, view.id, view.access_secret)
    body = await render_template(
        "order/link.html",
        order=view,
        calendar_files=calendar_files(view, settings=runtime.settings, link=link),
    )
    return _private(Response(body, mimetype="text/html"))


@bp.get(f"/orders/<{POSITIVE_ID}:order_id>/<{SECRET}:secret>/calendar/<key>.ics")
@rate_class(ORDER_LINK)
async def order_calendar_file(order_id: int, secret: str, key: str) -> ResponseReturnValue:
    """One booking's or event's calendar file of a paid order, to add to a calendar."""
    runtime = current_runtime()
    view = await get_order_by_link_or_raise(
        request_session(), order_id=order_id, secret=secret, domains=runtime.domains
    )
    link = order_link(runtime.settings, view.id, view.access_secret)
    found = calendar_file_or_none(view, settings=runtime.settings, link=link, key=key)
    if found is None:
        raise NotFound(ErrorCode.CALENDAR_FILE_NOT_FOUND)
    response = Response(found.content, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{found.filename}"'
    return _private(response)
