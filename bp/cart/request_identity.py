"""Whose cart this request is: the signed-in user, or the browser's anonymous cart session.

The Quart half of cart identity (bp/cart/services/identity.py is the pure half): the only
module that reads or writes the cart's key in the shared session, and it changes only that key,
atomically (lib/sessions.py). Services take the identity as an argument and never look at the
request.

On the first request after a sign-in (seen through the shared session), the anonymous cart is
adopted by the user at once and the shopper is told what was kept.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from quart import Request, session
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from bp.cart.services.adopt import adopt_anonymous_cart, adoption_messages
from bp.cart.services.identity import SESSION_KEY, is_valid_session_id, new_cart_sid
from bp.cart.services.notices import push_notices
from bp.cart.waiting_mark import mark_waiting
from bp.runtime import current_runtime, request_session
from lib.auth import current_user_id, user_id_in
from lib.error_codes import ErrorCode
from lib.errors import ServiceError, unavailable
from lib.sessions import RedisSession, claim_key, current_shared_session, extend_if_only, remove_key
from services.contracts.dtos import CartIdentity

log = logging.getLogger(__name__)
# Other apps, probes and SumUp never adopt: they do not carry the shopper's browser session.
NO_ADOPTION_PREFIXES = ("/internal/", "/checkout/webhook/", "/static/", "/healthz", "/readyz")
# The keys the cart owns in the shared session.
CART_KEYS = (SESSION_KEY,)


def browser_session() -> RedisSession | None:
    """The shared session when it could be read, else None."""
    return current_shared_session()


def _store_unavailable() -> ServiceError:
    return unavailable(ErrorCode.SESSION_STORE_UNAVAILABLE)


def anonymous_cart_sid() -> str | None:
    """The anonymous cart's id stored in the shared session, if a valid one is there."""
    return _cart_sid_in(session)


def _cart_sid_in(shared: Mapping[str, Any]) -> str | None:
    sid = shared.get(SESSION_KEY)
    return sid if is_valid_session_id(sid) else None


def current_cart_identity() -> CartIdentity | None:
    """The signed-in user, else the anonymous cart session, else None (nothing in a cart yet)."""
    return cart_identity_in(session)


def cart_identity_in(shared: Mapping[str, Any]) -> CartIdentity | None:
    """`current_cart_identity` of the shared session `shared`."""
    user_id = user_id_in(shared)
    if user_id is not None:
        return CartIdentity(user_id=user_id)
    sid = _cart_sid_in(shared)
    return CartIdentity(session_id=sid) if sid is not None else None


async def claim_cart_identity() -> CartIdentity:
    """The identity a cart write acts for, making the anonymous cart on the first write.

    The cart's id is proposed at random and stored by an atomic get-or-create in the shared
    session: a new visitor's simultaneous first adds (one session id, handed out with the page)
    both get whichever id was stored first. A session the cart makes lives briefly until its
    cart holds something (`keep_anonymous_cart`).
    """
    identity = current_cart_identity()
    if identity is not None:
        return identity
    shared = browser_session()
    if shared is None:
        raise _store_unavailable()
    settings = current_runtime().settings
    try:
        sid = await claim_key(
            shared,
            SESSION_KEY,
            new_cart_sid(),
            is_valid=is_valid_session_id,
            ttl_if_new=settings.session_anonymous_ttl_seconds,
        )
    except RedisError as error:
        log.error("claiming an anonymous cart failed: %s", error)
        raise _store_unavailable() from error
    return CartIdentity(session_id=sid)


async def keep_anonymous_cart() -> None:
    """After a write put something in the anonymous cart, its session lives the normal time."""
    shared = browser_session()
    if shared is None or current_user_id() is not None or anonymous_cart_sid() is None:
        return
    try:
        await extend_if_only(shared, CART_KEYS, ttl=current_runtime().settings.session_ttl_seconds)
    except RedisError as error:
        # The cart is saved; the session keeps its short lifetime until the next write.
        log.warning("extending an anonymous cart's session failed: %s", error)


async def forget_anonymous_cart() -> None:
    """Drop the anonymous cart's id (once the user has adopted it, or when it is not valid)."""
    shared = browser_session()
    if shared is not None and SESSION_KEY in shared:
        await remove_key(shared, SESSION_KEY, only_if=shared.get(SESSION_KEY))


async def adopt_anonymous_cart_on_sign_in(request: Request) -> None:
    """A step of the request pipeline: a signed-in shopper who still carries an anonymous
    cart gets it merged into theirs."""
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
        await _forget_or_retry_later()
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
    await _forget_or_retry_later()
    messages = adoption_messages(adoption)
    if shared.sid and messages:
        await _leave_for_next_page(shared.sid, messages)


async def _forget_or_retry_later() -> None:
    try:
        await forget_anonymous_cart()
    except RedisError as error:
        # Adoption is idempotent: the next request finds nothing left to move and tries again.
        log.warning("removing the adopted cart's id from the session failed: %s", error)


async def tell_next_page(message: str) -> None:
    """Keep a message for the next page this browser shows (after a 303)."""
    shared = browser_session()
    if shared is not None and shared.sid:
        await _leave_for_next_page(shared.sid, [message])


async def _leave_for_next_page(sid: str, messages: list[str]) -> None:
    """Keep notices for this browser's next full page, and mark the browser, without which
    that page would not look for them (bp/cart/waiting_mark.py)."""
    await push_notices(current_runtime().redis.cart, session_sid=sid, messages=messages)
    mark_waiting()
