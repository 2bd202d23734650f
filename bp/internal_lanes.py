"""The badge and the summary every coop page asks for, answered before the framework.

Every page of every coop app shows the cart badge, and many read the cart's summary: `GET
/internal/fragments/cart-mini?user_id=N` and `GET /internal/cart/summary?user_id=N` with the
internal token, and `GET /internal/fragments/cart-mini` from the shopper's own browser (its
session cookie), are the service's most frequent requests. Quart's request machinery (its
contexts, routing, hooks and response object) cost them more than their one statement. So a
request of exactly those shapes is answered in the pipeline's ASGI layer (lib/pipeline.py):
the same session read, limits, statement, markup or JSON and headers as the views give
(bp/fragments/routes.py, bp/cart/api.py), logged and counted as every request is.

Anything else is left to the framework, which answers it as it always has: another parameter
or another order of them, a session id, a missing or wrong token, a token sent with no
parameter, a deployment whose summary is not one statement, PgBouncer's mode. An error after
the lane began (a statement's, or a limit's refusal) is answered by the framework too, from
the error itself (lib/pipeline.raise_lane_error), so that nothing is counted or met twice.
"""

from __future__ import annotations

import re

from hypercorn.typing import HTTPScope
from quart import Quart, Response

from bp.cart.request_identity import cart_identity_in
from bp.cart.template_helpers import badge_markup
from bp.fragments.routes import FRAGMENT_HEADERS
from bp.runtime import runtime
from lib.db import runs_alone
from lib.ids import is_id
from lib.internal_auth import is_bearer_token
from lib.pipeline import Header, Lane, LaneAnswer
from lib.rate_limits import RouteLimits, limit_headers
from lib.scope_headers import cookies_in, header_lines
from lib.sessions import RedisSessionInterface
from services.contracts.cart_summary import CartSummary
from services.contracts.dtos import CartIdentity
from services.sql.cart_impl import SqlCartService, one_statement_summary

BADGE_PATH = "/internal/fragments/cart-mini"
SUMMARY_PATH = "/internal/cart/summary"
# The one shape another app's call is answered in: a user id alone, in digits (no sign, no
# leading zero), with the token.
USER_ONLY = re.compile(rb"user_id=([1-9][0-9]{0,18})")
AUTHORIZATION = b"authorization"


def internal_lanes(app: Quart, *, token: str, limits: RouteLimits) -> dict[str, Lane]:
    """The badge's and the summary's lanes of `app`: for callers sending `token`, and, for
    the badge, for the shopper's own browser (whose requests `limits` counts)."""
    expected = token.strip().encode()
    badge_headers: tuple[Header, ...] = (
        (b"content-type", b"text/html; charset=utf-8"),
        *((name.lower().encode(), value.encode()) for name, value in FRAGMENT_HEADERS.items()),
    )
    badge_endpoint = app.url_map.bind("lanes").match(BADGE_PATH, method="GET")[0]
    interface = app.session_interface
    assert isinstance(interface, RedisSessionInterface)
    cookie_name = interface.get_cookie_name(app)

    def one_statement() -> SqlCartService | None:
        """The cart service, when its summary is one statement that may run alone."""
        services = runtime(app)
        cart = one_statement_summary(services.domains.cart)
        return cart if cart is not None and runs_alone(services.databases.engine) else None

    async def summary_of(cart: SqlCartService, identity: CartIdentity | None) -> CartSummary:
        """As the views read it: none for a browser without a cart, else the one statement."""
        if identity is None:
            return CartSummary(currency=cart.currency)
        return await cart.summary_alone(runtime(app).databases.engine, identity)

    async def named_summary(scope: HTTPScope) -> CartSummary | None:
        """The summary of the user another app names, when the request is that shape."""
        if not _sends_token(scope, expected):
            return None
        named = USER_ONLY.fullmatch(scope["query_string"])
        if named is None or not is_id(user_id := int(named.group(1))):
            return None
        cart = one_statement()
        if cart is None:
            return None
        return await summary_of(cart, CartIdentity(user_id=user_id))

    def badge_answer(summary: CartSummary, limited: list[tuple[str, str]]) -> LaneAnswer:
        base_url = runtime(app).settings.public_base_url.rstrip("/")
        body = badge_markup(app, summary.badge_count, oob=False, base_url=base_url).encode()
        headers = [
            badge_headers[0],
            (b"content-length", str(len(body)).encode()),
            *badge_headers[1:],
            *((name.lower().encode(), value.encode()) for name, value in limited),
        ]
        return LaneAnswer(200, tuple(headers), body)

    async def own_badge(scope: HTTPScope) -> LaneAnswer | None:
        """The browser's own badge: its session read, its request counted against the route's
        limits (a refusal is raised, for the framework to answer), then its cart's."""
        if header_lines(scope, AUTHORIZATION):
            return None
        cart = one_statement()
        if cart is None:
            return None
        shared = await interface.read_for_lane(scope, cookies_in(scope).get(cookie_name))
        if not await limits.check_browser(scope, badge_endpoint):
            return None
        summary = await summary_of(cart, cart_identity_in(shared))
        return badge_answer(summary, limit_headers(scope))

    async def badge(scope: HTTPScope) -> LaneAnswer | None:
        if not scope["query_string"]:
            return await own_badge(scope)
        summary = await named_summary(scope)
        return None if summary is None else badge_answer(summary, [])

    async def summary(scope: HTTPScope) -> LaneAnswer | None:
        found = await named_summary(scope)
        if found is None:
            return None
        # As the view's answer is made (Quart's JSON response of the model's dump).
        response = app.json.response(found.model_dump())
        assert isinstance(response, Response)
        headers = tuple(
            (name.lower().encode(), value.encode("latin-1"))
            for name, value in response.headers.items()
        )
        return LaneAnswer(200, headers, await response.get_data(as_text=False))

    return {BADGE_PATH: badge, SUMMARY_PATH: summary}


def _sends_token(scope: HTTPScope, expected: bytes) -> bool:
    """Whether the request's one Authorization header is the internal token as a bearer, read
    as lib/internal_auth.bearer_token_check reads it."""
    sent = header_lines(scope, AUTHORIZATION)
    return len(sent) == 1 and is_bearer_token(sent[0], expected)
