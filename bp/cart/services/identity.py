"""Cart identities from what callers send: the pure half (bp/cart/request_identity.py reads the
browser's session).

A shopper is a signed-in `user_id` or an anonymous cart `session_id`, exactly one of them.
Another coop app names one in a query string or a JSON body; an anonymous cart id is made here,
at random, and kept in the shared session.
"""

from __future__ import annotations

import re
import secrets

from lib.error_codes import ErrorCode
from lib.errors import BadRequest
from lib.ids import BIGINT_MAX, is_id
from services.contracts.dtos import CartIdentity

# The cart's key in the shared session (the only one it writes there).
SESSION_KEY = "cart_sid"
# What the internal API accepts as a session id, and what a sid we create looks like.
SESSION_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SID_BYTES = 24
# What an adoption request looks like, told to a caller who sent something else.
ADOPTION_EXAMPLE = ': {"user_id": N, "session_id": "S"}'


def is_valid_session_id(value: object) -> bool:
    """A non-empty, url-safe id of at most 64 characters (the column's width)."""
    return isinstance(value, str) and SESSION_ID_PATTERN.fullmatch(value) is not None


def new_cart_sid() -> str:
    """A new anonymous cart id: random, so that nothing a browser sends can choose or predict it.

    A brand-new visitor's first two adds (a double click, two tabs) arrive together with the
    same session id, handed out with the page; both propose an id and the session keeps the
    first one stored (an atomic get-or-create), so both adds land in one cart.
    """
    return secrets.token_urlsafe(SID_BYTES)


def _user_id_from(value: object, *, from_query: bool) -> int:
    """A positive BIGINT user id: digits in a query string, a JSON integer (not a bool) in JSON."""
    if from_query and isinstance(value, str) and value.isdecimal() and value.isascii():
        number = int(value) if len(value) <= len(str(BIGINT_MAX)) else 0
    elif not from_query and isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif not from_query and isinstance(value, float) and value.is_integer():
        number = int(value)  # JSON's 5.0 is the integer 5, as the document's schema says
    else:
        number = 0
    if not is_id(number):
        raise BadRequest(ErrorCode.INVALID_USER_ID)
    return number


def _session_id_from(value: object) -> str:
    if not is_valid_session_id(value):
        raise BadRequest(ErrorCode.INVALID_SESSION_ID)
    assert isinstance(value, str)
    return value


def user_id_from_json(value: object) -> int:
    """A user id sent in a JSON body: an integer (not a bool), 1 to BIGINT_MAX."""
    return _user_id_from(value, from_query=False)


def session_id_from_json(value: object) -> str:
    """An anonymous cart id sent in a JSON body."""
    return _session_id_from(value)


def identity_from_params(
    user_id: object, session_id: object, *, from_query: bool = True
) -> CartIdentity:
    """The identity another coop app names: exactly one of user_id and session_id."""
    if user_id is None and session_id is None:
        raise BadRequest(ErrorCode.MISSING_IDENTITY, both=False)
    if user_id is not None and session_id is not None:
        raise BadRequest(ErrorCode.AMBIGUOUS_IDENTITY)
    if user_id is not None:
        return CartIdentity(user_id=_user_id_from(user_id, from_query=from_query))
    return CartIdentity(session_id=_session_id_from(session_id))


def adoption_params(body: object) -> tuple[int, str]:
    """The user and the anonymous session of an adoption request (a JSON object), both required."""
    if not isinstance(body, dict):
        raise BadRequest(ErrorCode.INVALID_JSON, example=ADOPTION_EXAMPLE)
    user_id, session_id = body.get("user_id"), body.get("session_id")
    if user_id is None or session_id is None:
        raise BadRequest(ErrorCode.MISSING_IDENTITY, both=True)
    return _user_id_from(user_id, from_query=False), _session_id_from(session_id)
