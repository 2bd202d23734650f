"""Request hooks and template helpers the cart blueprint installs on the whole app.

- On the first request after a sign-in (seen through the shared session), the anonymous cart
  is adopted by the user at once and the shopper is told what was kept.
- `cart_mini()` renders the cart badge lazily, only where a template asks for it.
- `cart_notices()` pops the messages waiting for this browser.
"""

from __future__ import annotations

import logging

from markupsafe import Markup
from quart import current_app, render_template, request, session
from sqlalchemy.exc import SQLAlchemyError

from bp.cart import bp
from bp.cart.services.adopt import adopt_anonymous_cart, adoption_messages
from bp.cart.services.identity import (
    SESSION_KEY,
    anonymous_cart_sid,
    current_cart_identity,
    forget_anonymous_cart,
)
from bp.cart.services.notices import pop_notices, push_notices
from config.settings import Settings
from lib.auth import current_user_id
from lib.db import request_session
from lib.redis import redis_clients
from lib.sessions import RedisSession
from services.contracts.dtos import CartSummaryDTO
from services.registry import services

log = logging.getLogger(__name__)
# Other apps, probes and SumUp never adopt: they do not carry the shopper's browser session.
NO_ADOPTION_PREFIXES = ("/internal/", "/checkout/webhook/", "/static/", "/healthz", "/readyz")
FRAGMENT_TEMPLATE = "fragments/_cart_mini.html"


def _settings() -> Settings:
    settings: Settings = current_app.extensions["settings"]
    return settings


def _browser_session() -> RedisSession | None:
    """The shared session when it could be read, else None."""
    if isinstance(session, RedisSession) and not session.unavailable:
        return session
    return None


@bp.before_app_request
async def adopt_anonymous_cart_on_sign_in() -> None:
    """A signed-in shopper who still carries an anonymous cart gets it merged into theirs."""
    if request.path.startswith(NO_ADOPTION_PREFIXES):
        return
    shared = _browser_session()
    if shared is None or SESSION_KEY not in shared:
        return
    user_id = current_user_id()
    if user_id is None:
        return
    sid = anonymous_cart_sid()
    if sid is None:
        forget_anonymous_cart()
        return
    settings = _settings()
    db = request_session()
    try:
        adoption = await adopt_anonymous_cart(
            db, session_id=sid, user_id=user_id, max_quantity=settings.max_line_quantity
        )
    except SQLAlchemyError:
        # The page still works; the next request tries again.
        log.exception("adopting the anonymous cart failed")
        await db.rollback()
        return
    forget_anonymous_cart()
    if shared.sid:
        await push_notices(
            redis_clients(current_app).cart,
            session_sid=shared.sid,
            messages=adoption_messages(adoption),
        )


async def cart_mini(oob: bool = False) -> Markup:
    """The cart badge of this browser's cart (one query; none for a browser without a cart)."""
    identity = current_cart_identity()
    if identity is None:
        summary = CartSummaryDTO(currency=_settings().currency)
    else:
        summary = await services.cart.cart_summary(request_session(), identity=identity)
    html = await render_template(FRAGMENT_TEMPLATE, summary=summary, oob=oob, base_url="")
    return Markup(html)  # noqa: S704  (rendered by our own autoescaping template)


async def cart_notices() -> list[str]:
    """Messages waiting for this browser (after sign-in), removed as they are shown."""
    shared = _browser_session()
    if shared is None or not shared.sid:
        return []
    return await pop_notices(redis_clients(current_app).cart, session_sid=shared.sid)


@bp.app_context_processor
def cart_template_helpers() -> dict[str, object]:
    """Lazy helpers: nothing is queried unless a template calls them."""
    return {"cart_mini": cart_mini, "cart_notices": cart_notices}
