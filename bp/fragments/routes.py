"""GET /internal/fragments/cart-mini and /internal/fragments/account-nav-item.

Another app names the shopper (`?user_id=` or `?session_id=`) and must send the internal
token; without parameters the fragment is the browser's own cart, from its session cookie,
and needs no token because it shows nothing but the caller's own cart.
"""

from __future__ import annotations

from quart import Response, current_app, render_template, request

from bp.cart.services.identity import current_cart_identity, identity_from_params
from bp.fragments import bp
from config.settings import Settings
from lib.db import request_session
from lib.internal_auth import require_internal_token
from services.contracts.dtos import CartIdentity, CartSummaryDTO
from services.registry import services

IDENTITY_PARAMS = ("user_id", "session_id")


async def _token_checked() -> None:
    """Nothing: the internal-token decorator does the work."""


async def fragment_identity() -> CartIdentity | None:
    """The identity the caller names (token required), or the browser's own."""
    if any(name in request.args for name in IDENTITY_PARAMS):
        await require_internal_token(_token_checked)()
        return identity_from_params(
            request.args.get("user_id"), request.args.get("session_id"), from_query=True
        )
    return current_cart_identity()


def fragment_response(html: str) -> Response:
    """A personal snippet: never cached by anyone in between."""
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Vary"] = "Cookie, Authorization"
    return response


def _settings() -> Settings:
    settings: Settings = current_app.extensions["settings"]
    return settings


@bp.get("/cart-mini")
async def cart_mini() -> Response:
    """The cart badge: one query for products, bookings and tickets together."""
    identity = await fragment_identity()
    settings = _settings()
    if identity is None:
        summary = CartSummaryDTO(currency=settings.currency)
    else:
        summary = await services.cart.cart_summary(request_session(), identity=identity)
    html = await render_template(
        "fragments/_cart_mini.html",
        summary=summary,
        oob=False,
        base_url=settings.public_base_url.rstrip("/"),
    )
    return fragment_response(html)


@bp.get("/account-nav-item")
async def account_nav_item() -> Response:
    """The account app's link to the shopper's orders."""
    await fragment_identity()
    html = await render_template(
        "fragments/_account_nav_item.html", base_url=_settings().public_base_url.rstrip("/")
    )
    return fragment_response(html)
