"""Whose cart this request is: the signed-in user, or the browser's anonymous cart session.

The only module that reads the cart's key in the shared session; services below take the
identity as an argument and never look at the request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from quart import current_app, session

from config.settings import Settings
from lib.auth import current_user_id
from lib.csrf import browser_nonce
from lib.errors import BadRequest
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
    sid = _new_cart_sid()
    session[SESSION_KEY] = sid
    return CartIdentity(session_id=sid)


def _new_cart_sid() -> str:
    """A new anonymous cart id, the same for every request of one browser.

    A brand-new visitor's first two adds (a double click, two tabs) arrive together with no
    session yet; each creates a session and only the last cookie survives. Deriving the id from
    the browser's CSRF cookie, which every POST carries, puts both adds in the same cart.
    """
    nonce = browser_nonce()
    if nonce is None:
        return secrets.token_urlsafe(SID_BYTES)
    settings: Settings = current_app.extensions["settings"]
    assert settings.secret_key is not None
    key = settings.secret_key.get_secret_value().encode()
    digest = hmac.new(key, b"cart-sid:" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:SID_BYTES]).decode().rstrip("=")


def forget_anonymous_cart() -> None:
    """Drop the anonymous cart's id once the user has adopted it."""
    session.pop(SESSION_KEY, None)


MAX_BIGINT = 2**63 - 1


def _user_id_from(value: object, *, from_query: bool) -> int:
    """A positive BIGINT user id: digits in a query string, a JSON integer (not a bool) in JSON."""
    if from_query and isinstance(value, str) and value.isdecimal() and value.isascii():
        number = int(value) if len(value) <= len(str(MAX_BIGINT)) else 0
    elif not from_query and isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        number = 0
    if not 0 < number <= MAX_BIGINT:
        raise BadRequest("user_id must be a positive integer.", code="INVALID_USER_ID")
    return number


def _session_id_from(value: object) -> str:
    if not is_valid_session_id(value):
        raise BadRequest(
            "session_id must be 1 to 64 letters, digits, '-' or '_'.", code="INVALID_SESSION_ID"
        )
    assert isinstance(value, str)
    return value


def identity_from_params(
    user_id: object, session_id: object, *, from_query: bool = True
) -> CartIdentity:
    """The identity another coop app names: exactly one of user_id and session_id."""
    if user_id is None and session_id is None:
        raise BadRequest("Give a user_id or a session_id.", code="MISSING_IDENTITY")
    if user_id is not None and session_id is not None:
        raise BadRequest("Give a user_id or a session_id, not both.", code="AMBIGUOUS_IDENTITY")
    if user_id is not None:
        return CartIdentity(user_id=_user_id_from(user_id, from_query=from_query))
    return CartIdentity(session_id=_session_id_from(session_id))


def adoption_params(user_id: object, session_id: object) -> tuple[int, str]:
    """The user and the anonymous session of an adoption request (JSON), both required."""
    if user_id is None or session_id is None:
        raise BadRequest("Give both user_id and session_id.", code="MISSING_IDENTITY")
    return _user_id_from(user_id, from_query=False), _session_id_from(session_id)
