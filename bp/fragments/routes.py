"""GET /internal/fragments/cart-mini and /internal/fragments/account-nav-item.

Another app names the shopper (`?user_id=` or `?session_id=`) and must send the internal
token; without parameters the fragment is the browser's own cart, from its session cookie,
and needs no token because it shows nothing but the caller's own cart.
"""

from __future__ import annotations

from quart import Response, render_template, request
from quart_schema import document_querystring

from bp.cart.api_models import FragmentIdentityQuery
from bp.cart.request_identity import current_cart_identity
from bp.cart.services.identity import identity_from_params
from bp.cart.template_helpers import render_cart_mini
from bp.fragments.blueprint import bp
from bp.runtime import current_runtime
from lib.internal_auth import require_internal_caller
from lib.openapi import api_errors
from lib.rate_limits import INTERNAL, rate_class
from services.contracts.dtos import CartIdentity

IDENTITY_PARAMS = ("user_id", "session_id")


def fragment_identity() -> CartIdentity | None:
    """The identity the caller names (token required), or the browser's own."""
    if any(name in request.args for name in IDENTITY_PARAMS):
        require_internal_caller()
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


def base_url() -> str:
    """Links in a fragment are absolute: it is shown on the other apps' pages."""
    return current_runtime().settings.public_base_url.rstrip("/")


@bp.get("/cart-mini")
@rate_class(INTERNAL)
@api_errors(400, 401, 429, 503, html=True)
@document_querystring(FragmentIdentityQuery)
async def cart_mini() -> Response:
    """The cart badge: one query for products, bookings and tickets together."""
    html = await render_cart_mini(fragment_identity(), oob=False, base_url=base_url())
    return fragment_response(html)


@bp.get("/account-nav-item")
@rate_class(INTERNAL)
@api_errors(400, 401, 429, 503, html=True)
@document_querystring(FragmentIdentityQuery)
async def account_nav_item() -> Response:
    """The account app's link to the shopper's orders."""
    fragment_identity()
    html = await render_template("fragments/_account_nav_item.html", base_url=base_url())
    return fragment_response(html)
