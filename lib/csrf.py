"""CSRF protection for shopper POSTs: a token bound to the browser's session.

A token is an HMAC, with the secret key, over the session id: only a page rendered for this
session can carry one, and a cookie planted by another app on the shared domain cannot make one
valid (the session id it would need is the victim's, which it does not know). Forms send it as
``csrf_token``, HTMX as the ``X-CSRF-Token`` header (set once on <body>).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from quart import Quart, Request, g, session

from lib.error_codes import ErrorCode
from lib.errors import ServiceError
from lib.sessions import RedisSession, session_id

HEADER_NAME = "X-CSRF-Token"
FIELD_NAME = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXEMPT_ATTRIBUTE = "_csrf_exempt"
# Keeps these signatures apart from anything else signed with the same key.
CONTEXT = b"coop-cart-csrf:"
# This request's session id and its token, once made.
CSRF_SIGNED = "csrf_signed"

F = TypeVar("F", bound=Callable[..., Any])


def csrf_exempt(view: F) -> F:
    """Mark a view that is protected otherwise (internal bearer token, SumUp's webhook)."""
    setattr(view, EXEMPT_ATTRIBUTE, True)
    return view


def is_exempt(view: Callable[..., Any] | None) -> bool:
    """Whether a view function is exempt from the CSRF check."""
    return bool(view is not None and getattr(view, EXEMPT_ATTRIBUTE, False))


def sign(secret_key: str, sid: str) -> str:
    """The token for the session `sid`: an HMAC of it with the secret key (64 hex digits)."""
    return hmac.new(secret_key.encode(), CONTEXT + sid.encode(), hashlib.sha256).hexdigest()


def is_valid_token(secret_key: str, sid: str, sent: str) -> bool:
    """Whether `sent` was made for `sid`; compared in constant time, as bytes, so that a
    token in any alphabet is simply wrong."""
    presented = sent.encode("utf-8", "surrogateescape")
    return hmac.compare_digest(presented, sign(secret_key, sid).encode())


def init_csrf(app: Quart, *, secret_key: str) -> Callable[[Request], Awaitable[None]]:
    """Install the `csrf_token()` template helper; answer the check, a step of the request
    pipeline (lib/pipeline.py)."""

    def csrf_token() -> str:
        """A token for this browser's session (a new visitor's is minted with the page); made
        once per request, however many forms the page has."""
        if not isinstance(session, RedisSession):
            raise RuntimeError("CSRF tokens need the shared Redis session")
        sid = session_id(session)
        made: tuple[str, str] | None = g.get(CSRF_SIGNED)
        if made is None or made[0] != sid:
            made = (sid, sign(secret_key, sid))
            setattr(g, CSRF_SIGNED, made)
        return made[1]

    async def verify_csrf(request: Request) -> None:
        """Refuse an unsafe request whose token was not made for its session."""
        # A request that matched no route gets its 404/405, not a CSRF complaint.
        if request.method not in UNSAFE_METHODS or request.routing_exception is not None:
            return
        if is_exempt(app.view_functions.get(request.endpoint or "")):
            return
        sid = session.sid if isinstance(session, RedisSession) else None
        sent = request.headers.get(HEADER_NAME)
        if not sent:
            form = await request.form
            sent = form.get(FIELD_NAME)
        if not sid or not sent or not is_valid_token(secret_key, sid, sent):
            raise ServiceError(403, ErrorCode.CSRF_FAILED)

    app.jinja_env.globals["csrf_token"] = csrf_token
    return verify_csrf
