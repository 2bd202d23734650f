"""A development sign-in that writes the shared session exactly as the account app does."""

from __future__ import annotations

from quart import render_template, request, session
from quart.typing import ResponseReturnValue

from bp.dev.blueprint import bp
from lib.errors import BadRequest
from lib.htmx import safe_next, see_other

DEMO_USERS = {1: "Alice Baker", 2: "Ben Carter"}


@bp.get("/sign-in")
async def sign_in_page() -> str:
    """The demo users to sign in as."""
    return await render_template("dev/sign_in.html", users=DEMO_USERS, next_path=safe_next("/"))


@bp.post("/sign-in")
async def sign_in() -> ResponseReturnValue:
    """Sign in as a demo user."""
    form = await request.form
    raw = form.get("user_id", "")
    if not raw.isdigit() or int(raw) not in DEMO_USERS:
        raise BadRequest("Choose one of the demo users.", code="UNKNOWN_USER")
    user_id = int(raw)
    session["user_id"] = user_id
    session["user_name"] = DEMO_USERS[user_id]
    return see_other(safe_next("/"))


@bp.post("/sign-out")
async def sign_out() -> ResponseReturnValue:
    """Sign out, as the account app would: the user goes, the session stays."""
    session.pop("user_id", None)
    session.pop("user_name", None)
    return see_other(safe_next("/"))
