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

from quart import Quart, Response, current_app, g, request

from config.settings import Settings
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


def _sign(settings: Settings, nonce: str) -> str:
    assert settings.secret_key is not None
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()


def browser_nonce() -> str | None:
    """The browser's CSRF cookie, which every shopper POST carries."""
    return request.cookies.get(COOKIE_NAME) or None


def csrf_token() -> str:
    """The token for this browser, creating its cookie on first use."""
    nonce = request.cookies.get(COOKIE_NAME) or g.get("csrf_new_nonce")
    if not nonce:
        nonce = secrets.token_urlsafe(32)
        g.csrf_new_nonce = nonce
    settings: Settings = current_app.extensions["settings"]
    return _sign(settings, nonce)


async def verify_csrf() -> None:
    """before_request: refuse an unsafe request whose token does not match its cookie."""
    # A request that matched no route gets its 404/405, not a CSRF complaint.
    if request.method not in UNSAFE_METHODS or request.routing_exception is not None:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if is_exempt(view):
        return
    nonce = request.cookies.get(COOKIE_NAME)
    sent = request.headers.get(HEADER_NAME)
    if not sent:
        form = await request.form
        sent = form.get(FIELD_NAME)
    settings: Settings = current_app.extensions["settings"]
    if not nonce or not sent or not hmac.compare_digest(sent, _sign(settings, nonce)):
        raise ServiceError(
            403,
            "CSRF_FAILED",
            "This form has expired. Please reload the page and try again.",
        )


async def set_csrf_cookie(response: Response) -> Response:
    """after_request: send the cookie a token was made for during this request."""
    nonce = g.get("csrf_new_nonce")
    if nonce:
        settings: Settings = current_app.extensions["settings"]
        response.set_cookie(
            COOKIE_NAME,
            nonce,
            httponly=True,
            secure=settings.session_cookie_secure,
            samesite="Lax",
            path="/",
        )
    return response


def init_csrf(app: Quart) -> None:
    """Install the check, the cookie and the template helper."""
    app.before_request(verify_csrf)
    app.after_request(set_csrf_cookie)
    app.jinja_env.globals["csrf_token"] = csrf_token
