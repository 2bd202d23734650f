"""A signed-in shopper's add-to-cart, answered before the framework.

`POST /add/<product_id>/` from HTMX is what a shop sends most while shoppers fill carts: one
session read, one CSRF check, one counted limit, one statement (the add and the badge's counts)
and a small render. Quart's request machinery around them cost about as much again. So an add
of the commonest shape is answered in the pipeline's ASGI layer (lib/pipeline.py), as the
pages are (bp/page_lanes.py): the same session read, token check, limits, quantity parsing,
statement (bp/cart/services/cart_items.add_product), template and headers as the view
(bp/cart/global_routes.add_to_cart) gives, logged and counted under its route.

The commonest shape: an HTMX request (not boosted) with a stored session of a signed-in
shopper with no anonymous cart to adopt, the session's CSRF token in `X-CSRF-Token`, a form
body, no bearer token, and at most `next` in its query. Everything else is the framework's,
given the body the lane read and the session it read: a new or anonymous shopper (whose cart
the view makes or keeps), a page's form posted without HTMX (answered 303), a wrong token (a
403 the framework says), a deployment whose add is not one statement with the badge. A refused
quantity or a product that is gone is answered by the framework from the lane's error
(lib/pipeline.raise_lane_error), with the same page the view's error would give.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from urllib.parse import parse_qsl

from hypercorn.typing import HTTPScope
from quart import Quart
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_options_header
from werkzeug.routing import RequestRedirect

from bp.cart.services.cart_items import add_product, added_message, parse_quantity
from bp.cart.services.identity import SESSION_KEY
from bp.lane_answers import lane_helpers, rendered
from bp.runtime import runtime
from lib.auth import user_id_in
from lib.csrf import HEADER_NAME, is_valid_token, sign
from lib.db import runs_alone
from lib.htmx import is_same_site_path
from lib.pipeline import LaneAnswer, PostLane
from lib.rate_limits import RouteLimits
from lib.scope_headers import cookies_in, header_lines, header_value
from lib.sessions import RedisSessionInterface
from services.contracts.dtos import CartIdentity
from services.sql.cart_impl import one_statement_summary
from services.sql.market_impl import SqlMarketService

ADD_ENDPOINT = "cart.add_to_cart"
ADDED_TEMPLATE = "cart/_added.html"
# Where a non-HTMX add goes back to, and what an HTMX add's form names as its way back, when
# the request names none (as the view's `added(default="/")`).
DEFAULT_NEXT = "/"
SHAPE = re.compile(r"/add/[^/]+/")
FORM = "application/x-www-form-urlencoded"
AUTHORIZATION = b"authorization"
CONTENT_TYPE = b"content-type"
CSRF = HEADER_NAME.lower().encode()
HTMX = b"hx-request"
BOOSTED = b"hx-boosted"
ROUTES_KEPT = 1024


def add_lane(
    app: Quart, *, limits: RouteLimits, secret_key: str
) -> Callable[[str], PostLane | None]:
    """The add's lane of `app`, for the paths it may answer (None: the framework's); its
    requests are counted against the route's `limits`."""
    interface = app.session_interface
    assert isinstance(interface, RedisSessionInterface)
    cookie_name = interface.get_cookie_name(app)
    adapter = app.url_map.bind("lanes")
    # The view's rule, as the request log and the metrics name its route.
    (rule,) = (found.rule for found in app.url_map.iter_rules(ADD_ENDPOINT))

    @functools.lru_cache(maxsize=ROUTES_KEPT)
    def product_of(path: str) -> int | None:
        """The product id of a path the URL map gives the add, as the framework routes it."""
        try:
            endpoint, args = adapter.match(path, method="POST")
        except (HTTPException, RequestRedirect):
            return None
        return int(args["product_id"]) if endpoint == ADD_ENDPOINT else None

    def usable() -> bool:
        """Whether an add is one statement with the badge's counts, alone, here."""
        services = runtime(app)
        return (
            isinstance(services.domains.market, SqlMarketService)
            and one_statement_summary(services.domains.cart) is not None
            and runs_alone(services.databases.engine)
        )

    def next_path(scope: HTTPScope) -> str | None:
        """Where the add's form says to go back to (the view's `safe_next`); None for a query
        of any other shape."""
        query = _decoded(scope["query_string"])
        if query is None:
            return None
        args = MultiDict(parse_qsl(query, keep_blank_values=True, errors="werkzeug.url_quote"))
        if set(args) - {"next"}:
            return None
        target = args.get("next") or ""
        return target if is_same_site_path(target) else DEFAULT_NEXT

    def in_shape(scope: HTTPScope) -> bool:
        content_type = header_value(scope, CONTENT_TYPE)
        return (
            header_value(scope, HTMX) == "true"
            and header_value(scope, BOOSTED) != "true"
            and not header_lines(scope, AUTHORIZATION)
            and content_type is not None
            and parse_options_header(content_type)[0] == FORM
        )

    async def add(scope: HTTPScope, body: bytes, product_id: int) -> LaneAnswer | None:
        if not in_shape(scope) or not usable():
            return None
        back = next_path(scope)
        text = _decoded(body)
        if back is None or text is None:
            return None
        sent_token = header_lines(scope, CSRF)
        shared = await interface.read_for_lane(scope, cookies_in(scope).get(cookie_name))
        # Stored: read from Redis, which was reachable.
        if not shared.stored or shared.sid is None:
            return None
        user_id = user_id_in(shared)
        if user_id is None or SESSION_KEY in shared:
            return None
        if len(sent_token) != 1 or not is_valid_token(secret_key, shared.sid, sent_token[0]):
            return None
        if not await limits.check_browser(scope, ADD_ENDPOINT):
            return None
        services = runtime(app)
        maximum = services.settings.max_line_quantity
        form = MultiDict(parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"))
        quantity = parse_quantity(form.get("quantity"), maximum=maximum, default=1)
        # A session the add's one statement runs beside, alone (lib/db.execute_alone): it
        # begins no transaction, so there is nothing to close.
        change = await add_product(
            services.databases.sessionmaker(),
            identity=CartIdentity(user_id=user_id),
            product_id=product_id,
            quantity=quantity,
            max_quantity=maximum,
            domains=services.domains,
        )
        assert change.summary is not None, "the add's statement brings the badge's counts"
        context = {
            **lane_helpers(app, change.summary, sign(secret_key, shared.sid)),
            "message": added_message(change, quantity),
            "product": change.product,
            "next_path": back,
        }
        return await rendered(app, scope, ADDED_TEMPLATE, context, route=rule)

    def lane_for(path: str) -> PostLane | None:
        if SHAPE.fullmatch(path) is None:
            return None
        product_id = product_of(path)
        if product_id is None:
            return None
        return functools.partial(add, product_id=product_id)

    return lane_for


def _decoded(raw: bytes) -> str | None:
    """`raw` as werkzeug decodes a query or a form (UTF-8); None where it could not."""
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return None
