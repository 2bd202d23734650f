"""Template helpers the cart blueprint installs on the whole app, and the cart-mini badge.

- `cart_mini()` renders the cart badge lazily, only where a template asks for it.
- `cart_notices()` pops the messages waiting for this browser.
"""

from __future__ import annotations

from markupsafe import Markup
from quart import render_template

from bp.cart.blueprints import bp
from bp.cart.request_identity import browser_session, current_cart_identity
from bp.cart.services.notices import pop_notices
from bp.cart.services.summary import get_cart_summary
from bp.runtime import current_runtime, request_session
from services.contracts.dtos import CartIdentity

CART_MINI_TEMPLATE = "fragments/_cart_mini.html"


async def render_cart_mini(identity: CartIdentity | None, *, oob: bool, base_url: str) -> str:
    """The cart badge of `identity`'s cart (one query; none for a browser without a cart)."""
    runtime = current_runtime()
    summary = await get_cart_summary(
        request_session(),
        identity=identity,
        currency=runtime.settings.currency,
        domains=runtime.domains,
    )
    return await render_template(CART_MINI_TEMPLATE, summary=summary, oob=oob, base_url=base_url)


async def cart_mini(oob: bool = False) -> Markup:
    """The badge of this browser's cart, for the pages' header (or out of band after a change)."""
    html = await render_cart_mini(current_cart_identity(), oob=oob, base_url="")
    return Markup(html)  # noqa: S704  (rendered by our own autoescaping template)


async def cart_notices() -> list[str]:
    """Messages waiting for this browser (after sign-in), removed as they are shown."""
    shared = browser_session()
    if shared is None or not shared.sid:
        return []
    return await pop_notices(current_runtime().redis.cart, session_sid=shared.sid)


@bp.app_context_processor
def cart_template_helpers() -> dict[str, object]:
    """Lazy helpers: nothing is queried unless a template calls them."""
    return {"cart_mini": cart_mini, "cart_notices": cart_notices}
