"""The two calls every coop page makes, answered before the framework.

Every page of every coop app shows the cart badge, and many read the cart's summary: `GET
/internal/fragments/cart-mini?user_id=N` and `GET /internal/cart/summary?user_id=N`, with the
internal token, are the service's most frequent requests. Quart's request machinery (its
contexts, routing, hooks and response object) cost them more than their one statement. So a
request of exactly that shape is answered in the pipeline's ASGI layer (lib/pipeline.py): the
same statement, the same markup or JSON and the same headers as the views give
(bp/fragments/routes.py, bp/cart/api.py), logged and counted as every request is.

Anything else is left to the framework, which answers it as it always has: another parameter
or another order of them, a session id, a missing or wrong token, a deployment whose summary
is not one statement, PgBouncer's mode. An error of the statement is answered by the
framework too, from the error itself (lib/pipeline.raise_lane_error), so that a database that
is down is met once.
"""

from __future__ import annotations

import hmac
import re

from hypercorn.typing import HTTPScope
from quart import Quart, Response

from bp.cart.template_helpers import badge_markup
from bp.fragments.routes import FRAGMENT_HEADERS
from bp.runtime import runtime
from lib.db import fetch_on_driver, runs_alone
from lib.ids import is_id
from lib.pipeline import Header, Lane, LaneAnswer
from services.contracts.cart_summary import CartSummary
from services.contracts.dtos import CartIdentity
from services.contracts.ownership import owner_params
from services.sql.cart_impl import SUMMARY, SqlCartService

BADGE_PATH = "/internal/fragments/cart-mini"
SUMMARY_PATH = "/internal/cart/summary"
# The one shape answered here: a user id alone, in digits (no sign, no leading zero).
USER_ONLY = re.compile(rb"user_id=([1-9][0-9]{0,18})")
AUTHORIZATION = b"authorization"


def internal_lanes(app: Quart, *, token: str) -> dict[str, Lane]:
    """The badge's and the summary's lanes of `app`, for callers sending `token`."""
    expected = token.strip().encode()
    badge_headers: tuple[Header, ...] = (
        (b"content-type", b"text/html; charset=utf-8"),
        *((name.lower().encode(), value.encode()) for name, value in FRAGMENT_HEADERS.items()),
    )

    async def summary_of(scope: HTTPScope) -> CartSummary | None:
        """The summary of the user the request names, when it is the shape answered here."""
        if not _sends_token(scope, expected):
            return None
        named = USER_ONLY.fullmatch(scope["query_string"])
        if named is None or not is_id(user_id := int(named.group(1))):
            return None
        services = runtime(app)
        cart, engine = services.domains.cart, services.databases.engine
        if not (isinstance(cart, SqlCartService) and cart.summary_is_one_statement):
            return None
        if not runs_alone(engine):
            return None
        params = owner_params(CartIdentity(user_id=user_id))
        (row,) = await fetch_on_driver(engine, SUMMARY[True], params)
        return cart.summary_from_row(dict(row))

    async def badge(scope: HTTPScope) -> LaneAnswer | None:
        summary = await summary_of(scope)
        if summary is None:
            return None
        base_url = runtime(app).settings.public_base_url.rstrip("/")
        html = badge_markup(app, summary.badge_count, oob=False, base_url=base_url)
        return _answer(badge_headers, html.encode())

    async def summary(scope: HTTPScope) -> LaneAnswer | None:
        found = await summary_of(scope)
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
    """Whether the request's one Authorization header is the internal token as a bearer."""
    sent = [value for name, value in scope["headers"] if name == AUTHORIZATION]
    if len(sent) != 1 or not expected:
        return False
    scheme, _, presented = sent[0].partition(b" ")
    presented = presented.strip()
    return (
        scheme.lower() == b"bearer" and bool(presented) and hmac.compare_digest(presented, expected)
    )


def _answer(headers: tuple[Header, ...], body: bytes) -> LaneAnswer:
    length = (b"content-length", str(len(body)).encode())
    return LaneAnswer(200, (headers[0], length, *headers[1:]), body)
