"""Whose cart this request is: the signed-in user, or the browser's anonymous cart session.

The only module that reads the cart's key in the shared session; services below take the
identity as an argument and never look at the request.
"""

from __future__ import annotations

import re
import secrets

from quart import session

from lib.auth import current_user_id
from services.contracts.dtos import CartIdentity

SESSION_KEY = "cart_sid"
# What the internal API accepts as a session id, and what a sid we create looks like.
SESSION_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SID_BYTES = 24


def is_valid_session_id(value: object) -> bool:
    """A non-empty, url-safe id of at most 64 characters (the column's width)."""
    return isinstance(value, str) and SESSION_ID_PATTERN.fullmatch(value) is not None


def anonymous_cart_sid() -> str | None:
    """The anonymous cart's id stored in the shared session, if a valid one is there."""
    sid = session.get(SESSION_KEY)
    return sid if is_valid_session_id(sid) else None


def current_cart_identity(*, create: bool = False) -> CartIdentity | None:
    """The signed-in user, else the anonymous cart session (made on the first cart write)."""
    user_id = current_user_id()
    if user_id is not None:
        return CartIdentity(user_id=user_id)
    sid = anonymous_cart_sid()
    if sid is not None:
        return CartIdentity(session_id=sid)
    if not create:
        return None
    sid = secrets.token_urlsafe(SID_BYTES)
    session[SESSION_KEY] = sid
    return CartIdentity(session_id=sid)


def forget_anonymous_cart() -> None:
    """Drop the anonymous cart's id once the user has adopted it."""
    session.pop(SESSION_KEY, None)
