"""A development sign-in that writes the shared session exactly as the account app does.

Signing in starts a new session id, carrying the anonymous cart's `cart_sid` over, and ends
the old one (the contract in the README: an id handed out before sign-in never becomes a
signed-in session). Signing out removes only its own keys (`user_id`, `user_name`), atomically.
"""

from __future__ import annotations

from quart import render_template, request
from quart.typing import ResponseReturnValue

from bp.dev.blueprint import bp
from bp.runtime import current_runtime
from lib.error_codes import ErrorCode
from lib.errors import BadRequest, unavailable
from lib.htmx import safe_next, see_other
from lib.sessions import RedisSession, current_shared_session, remove_keys, renew

DEMO_USERS = {1: "Alice Baker", 2: "Ben Carter", 3: "Cleo Dunn"}
# The demo users the seeded account table marks as the coop's staff (the staff console).
DEMO_STAFF = frozenset({3})
ACCOUNT_KEYS = ("user_id", "user_name")
# What a new session keeps of the one before sign-in: the anonymous cart, to be adopted.
CARRIED_KEYS = ("cart_sid",)


def _shared_session() -> RedisSession:
    shared = current_shared_session()
    if shared is None:
        raise unavailable(ErrorCode.SESSION_STORE_UNAVAILABLE)
    return shared


@bp.get("/sign-in")
async def sign_in_page() -> str:
    """The demo users to sign in as."""
    return await render_template(
        "dev/sign_in.html", users=DEMO_USERS, staff=DEMO_STAFF, next_path=safe_next("/")
    )


@bp.post("/sign-in")
async def sign_in() -> ResponseReturnValue:
    """Sign in as a demo user."""
    form = await request.form
    raw = form.get("user_id", "")
    if not raw.isdigit() or int(raw) not in DEMO_USERS:
        raise BadRequest(ErrorCode.UNKNOWN_USER)
    user_id = int(raw)
    await renew(
        _shared_session(),
        {"user_id": user_id, "user_name": DEMO_USERS[user_id]},
        carry=CARRIED_KEYS,
        ttl=current_runtime().settings.session_ttl_seconds,
    )
    return see_other(safe_next("/"))


@bp.post("/sign-out")
async def sign_out() -> ResponseReturnValue:
    """Sign out, as the account app would: the user goes, the session stays."""
    await remove_keys(_shared_session(), ACCOUNT_KEYS)
    return see_other(safe_next("/"))
