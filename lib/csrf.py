"""CSRF protection for shopper POSTs: a signed double-submit token.

The token is an HMAC of a random cookie with the secret key, so it needs no server state and
works for anonymous shoppers before any session exists. Forms send it as ``csrf_token``, HTMX
as the ``X-CSRF-Token`` header (set once on <body>).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from quart import Quart, Response, g, request

from lib.errors import ServiceError

COOKIE_NAME = "cart_csrf"
HEADER_NAME = "X-CSRF-Token"
FIELD_NAME = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXEMPT_ATTRIBUTE = "_csrf_exempt"

F = TypeVar("F", bound=Callable[..., Any])


def csrf_exempt(view: F) -> F:
    """Mark a view that is protected otherwise (internal bearer token, SumUp's webhook)."""
    setattr(view, EXEMPT_ATTRIBUTE, True)
    return view


def is_exempt(view: Callable[..., Any] | None) -> bool:
    """Whether a view function is exempt from the CSRF check."""
    return bool(view is not None and getattr(view, EXEMPT_ATTRIBUTE, False))


def sign(secret_key: str, nonce: str) -> str:
    """The token for a browser's cookie: an HMAC of it with the secret key."""
    return hmac.new(secret_key.encode(), nonce.encode(), hashlib.sha256).hexdigest()


def browser_nonce() -> str | None:
    """The browser's CSRF cookie, which every shopper POST carries."""
    return request.cookies.get(COOKIE_NAME) or None


def init_csrf(app: Quart, *, secret_key: str, secure_cookie: bool) -> None:
    """Install the check, the cookie and the `csrf_token()` template helper."""

    def csrf_token() -> str:
        """The token for this browser, creating its cookie on first use."""
        nonce = request.cookies.get(COOKIE_NAME) or g.get("csrf_new_nonce")
        if not nonce:
            nonce = secrets.token_urlsafe(32)
            g.csrf_new_nonce = nonce
        return sign(secret_key, nonce)

    async def verify_csrf() -> None:
        """before_request: refuse an unsafe request whose token does not match its cookie."""
        # A request that matched no route gets its 404/405, not a CSRF complaint.
        if request.method not in UNSAFE_METHODS or request.routing_exception is not None:
            return
        if is_exempt(app.view_functions.get(request.endpoint or "")):
            return
        nonce = request.cookies.get(COOKIE_NAME)
        sent = request.headers.get(HEADER_NAME)
        if not sent:
            form = await request.form
            sent = form.get(FIELD_NAME)
        if not nonce or not sent or not hmac.compare_digest(sent, sign(secret_key, nonce)):
            raise ServiceError(
                403,
                "CSRF_FAILED",
                "This form has expired. Please reload the page and try again.",
            )

    async def set_csrf_cookie(response: Response) -> Response:
        """after_request: send the cookie a token was made for during this request."""
        nonce = g.get("csrf_new_nonce")
        if nonce:
            response.set_cookie(
                COOKIE_NAME,
                nonce,
                httponly=True,
                secure=secure_cookie,
                samesite="Lax",
                path="/",
            )
        return response

    app.before_request(verify_csrf)
    app.after_request(set_csrf_cookie)
    app.jinja_env.globals["csrf_token"] = csrf_token
