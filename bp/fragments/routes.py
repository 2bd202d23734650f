"""GET /internal/fragments/cart-mini, /internal/fragments/waiting-order and
/internal/fragments/account-nav-item.

Another app names the shopper (`?user_id=` or `?session_id=`) and must send the internal
token; without parameters the fragment is the browser's own cart, from its session cookie,
and needs no token because it shows nothing but the caller's own cart.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from quart import Response, render_template, request
from quart_schema import document_querystring

from bp.cart.api_models import FragmentIdentityQuery
from bp.cart.request_identity import current_cart_identity
from bp.cart.services.identity import identity_from_params
from bp.cart.services.order_preview import waiting_orders
from bp.cart.template_helpers import render_cart_mini
from bp.fragments.blueprint import bp
from bp.runtime import current_runtime, request_session
from lib.htmx import is_same_site_path
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


# A personal snippet: never cached by anyone in between.
FRAGMENT_HEADERS = {"Cache-Control": "private, no-store", "Vary": "Cookie, Authorization"}


def fragment_response(html: str) -> Response:
    """A fragment's answer, with FRAGMENT_HEADERS."""
    response = Response(html, mimetype="text/html")
    response.headers.update(FRAGMENT_HEADERS)
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


def embedding_page() -> str:
    """The page that embeds the fragment, as HTMX names it, to come back to after cancelling
    an order there; the cart when it is another site's or not named."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    path = current.path + (f"?{current.query}" if current.query else "")
    return path if current.netloc == request.host and is_same_site_path(path) else "/"


@bp.get("/waiting-order")
@rate_class(INTERNAL)
@api_errors(400, 401, 429, 503, html=True)
@document_querystring(FragmentIdentityQuery)
async def waiting_order() -> Response:
    """The shopper's orders waiting for payment, which hold items out of the cart: empty when
    there are none. The browser's own (no parameters) can pay or cancel them in place; for a
    shopper another app names, whose browser's session is not this request's, each links to
    its order's page, where they are paid or cancelled."""
    identity = fragment_identity()
    named = any(name in request.args for name in IDENTITY_PARAMS)
    session = request_session()
    waiting = await waiting_orders(
        session, identity=identity, page_id=None, domains=current_runtime().domains
    )
    await session.commit()
    html = await render_template(
        "cart/_waiting_orders.html",
        waiting=waiting,
        base_url=base_url(),
        links_only=named,
        here=embedding_page(),
    )
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
