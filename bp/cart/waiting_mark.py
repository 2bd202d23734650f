"""Whether anything can be waiting for this browser's next page, so that a page with nothing
waiting spends no Redis round trip on looking.

A request that leaves notices or refused values for a later page (bp/cart/services/notices.py,
field_problems.py) marks itself, and the browser with a short-lived cookie that lives as long
as what it left; the page that reads them clears the cookie. Only the cart leaves them, always
through `mark_waiting`.
"""

from __future__ import annotations

from quart import after_this_request, g, request
from quart.typing import ResponseTypes

from bp.cart.services.notices import TTL_SECONDS
from bp.runtime import current_runtime
from config.settings import HOST_PREFIX, Settings

COOKIE_NAME = "cart_waiting"
# This request left something (g), or read what waited (g).
LEFT_KEY = "cart_left_waiting"
READ_KEY = "cart_read_waiting"


def cookie_name() -> str:
    """The cookie's name as sent: `__Host-` prefixed when cookies are secure (it is host-only)."""
    return cookie_name_for(current_runtime().settings)


def cookie_name_for(settings: Settings) -> str:
    """`cookie_name` under `settings`."""
    return HOST_PREFIX + COOKIE_NAME if settings.cookies_secure else COOKIE_NAME


def mark_waiting() -> None:
    """Note that this request left something for a later page: the browser is marked, unless
    this request's own page reads it first."""
    if LEFT_KEY in g:
        return
    setattr(g, LEFT_KEY, True)

    @after_this_request
    async def send_mark(response: ResponseTypes) -> ResponseTypes:
        if READ_KEY not in g:
            response.set_cookie(
                cookie_name(),
                "1",
                max_age=TTL_SECONDS,
                path="/",
                httponly=True,
                secure=current_runtime().settings.cookies_secure,
                samesite="Lax",
            )
        return response


def may_be_waiting() -> bool:
    """Whether something can be waiting: left by this request, or the browser is marked."""
    return LEFT_KEY in g or cookie_name() in request.cookies


def read_waiting() -> None:
    """Note that this request read what waited: the browser's mark is removed."""
    setattr(g, READ_KEY, True)
    if cookie_name() not in request.cookies:
        return

    @after_this_request
    async def clear_mark(response: ResponseTypes) -> ResponseTypes:
        response.delete_cookie(
            cookie_name(),
            path="/",
            httponly=True,
            secure=current_runtime().settings.cookies_secure,
            samesite="Lax",
        )
        return response
