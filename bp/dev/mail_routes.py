"""GET /dev/mail: the mail the development run caught, newest first, and each message
(development only; the catcher is started by `python3 dev.py serve`)."""

from __future__ import annotations

from quart import Response, render_template

from bp.dev.blueprint import bp
from bp.dev.mail_service import caught_message, caught_messages
from bp.runtime import current_runtime
from lib.error_codes import ErrorCode
from lib.errors import NotFound
from lib.ids import ID

# The caught HTML part is shown in a sandboxed frame: no script, no plugin, no form, an origin
# of its own, nothing fetched but inline styles and data: images; only this site may frame it.
MAIL_HTML_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)


@bp.get("/mail")
async def mail_list() -> str:
    """The caught messages, newest first."""
    messages = await caught_messages(current_runtime().redis.cart)
    return await render_template("dev/mail.html", messages=messages)


@bp.get(f"/mail/<{ID}:message_id>")
async def mail_message(message_id: int) -> str:
    """One caught message: its headers, its HTML part framed, its text part."""
    message = await caught_message(current_runtime().redis.cart, message_id=message_id)
    if message is None:
        raise NotFound(ErrorCode.MESSAGE_NOT_FOUND)
    return await render_template("dev/mail_message.html", message=message)


@bp.get(f"/mail/<{ID}:message_id>/html")
async def mail_message_html(message_id: int) -> Response:
    """The message's HTML part alone, for the frame on its page; sandboxed by its policy."""
    message = await caught_message(current_runtime().redis.cart, message_id=message_id)
    if message is None or message.html is None:
        raise NotFound(ErrorCode.MESSAGE_NOT_FOUND)
    response = Response(message.html, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = MAIL_HTML_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
