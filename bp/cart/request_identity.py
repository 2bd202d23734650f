"""Whose cart this request is: the signed-in user, or the browser's anonymous cart session.

The Quart half of cart identity (bp/cart/services/identity.py is the pure half): the only
module that reads or writes the cart's key in the shared session. Services take the identity
as an argument and never look at the request.

On the first request after a sign-in (seen through the shared session), the anonymous cart is
adopted by the user at once and the shopper is told what was kept.
"""

from __future__ import annotations

import logging

from quart import request, session
from sqlalchemy.exc import SQLAlchemyError

from bp.cart.blueprints import bp
from bp.cart.services.adopt import adopt_anonymous_cart, adoption_messages
from bp.cart.services.identity import SESSION_KEY, is_valid_session_id, new_cart_sid
from bp.cart.services.notices import push_notices
from bp.runtime import current_runtime, request_session
from lib.auth import current_user_id
from lib.csrf import browser_nonce
from lib.sessions import RedisSession
from services.contracts.dtos import CartIdentity

log = logging.getLogger(__name__)
# Other apps, probes and SumUp never adopt: they do not carry the shopper's browser session.
NO_ADOPTION_PREFIXES = ("/internal/", "/checkout/webhook/", "/static/", "/healthz", "/readyz")


def browser_session() -> RedisSession | None:
    """The shared session when it could be read, else None."""
    if isinstance(session, RedisSession) and not session.unavailable:
        return session
    return None


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
    secret_key = current_runtime().settings.secret_key
    assert secret_key is not None
    sid = new_cart_sid(secret_key=secret_key.get_secret_value(), browser_nonce=browser_nonce())
    session[SESSION_KEY] = sid
    return CartIdentity(session_id=sid)


def forget_anonymous_cart() -> None:
    """Drop the anonymous cart's id once the user has adopted it."""
    session.pop(SESSION_KEY, None)


@bp.before_app_request
async def adopt_anonymous_cart_on_sign_in() -> None:
    """A signed-in shopper who still carries an anonymous cart gets it merged into theirs."""
    if request.path.startswith(NO_ADOPTION_PREFIXES):
        return
    shared = browser_session()
    if shared is None or SESSION_KEY not in shared:
        return
    user_id = current_user_id()
    if user_id is None:
        return
    sid = anonymous_cart_sid()
    if sid is None:
        forget_anonymous_cart()
        return
    runtime, db = current_runtime(), request_session()
    try:
        adoption = await adopt_anonymous_cart(
            db,
            session_id=sid,
            user_id=user_id,
            max_quantity=runtime.settings.max_line_quantity,
            domains=runtime.domains,
        )
    except SQLAlchemyError:
        # The page still works; the next request tries again.
        log.exception("adopting the anonymous cart failed")
        await db.rollback()
        return
    forget_anonymous_cart()
    if shared.sid:
        await push_notices(
            runtime.redis.cart, session_sid=shared.sid, messages=adoption_messages(adoption)
        )
