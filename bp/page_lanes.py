"""The shopper's cart pages and orders, answered before the framework when nothing is special
about them.

`GET /` (the overview), `GET /<page_slug>/` (one page's cart) and `GET /orders/` (the
shopper's orders, the first page unfiltered) are what a shopper reads most.
Quart's request machinery (its contexts, routing, hooks, response object and the session's
save) cost them about a tenth of their time, for what is one session read, one counted limit,
one statement and a render. So a request of the commonest shape is answered in the pipeline's
ASGI layer (lib/pipeline.py), as bp/internal_lanes.py answers the badge: the same session
read, limits, statement, view (bp/cart/views.py, bp/orders/views.py), templates and headers as
the views give, logged and counted as every request is.

The commonest shape: a browser whose stored session names a cart (a signed-in shopper, or an
anonymous cart), asking with no query, no token and no HTMX, whose page has nothing waiting
(no notices, no refused values: bp/cart/waiting_mark.py), no anonymous cart to adopt, and
whose name, when signed in, is known without asking the account domain. Everything else is the
framework's, as it always was: a new visitor (whose session is minted with the page), a store
that cannot be read, a deployment whose domains do not share the cart's database or whose
statements may not run alone (PgBouncer's mode). An error after the lane began (a page that
does not exist, a statement's, a limit's refusal) is answered by the framework from the error
itself (lib/pipeline.raise_lane_error).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from hypercorn.typing import HTTPScope
from quart import Quart
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from bp.cart import overview_routes, page_routes
from bp.cart.request_identity import cart_identity_in
from bp.cart.reserved_slugs import reserved_slugs
from bp.cart.services.identity import SESSION_KEY
from bp.cart.services.page_cart import one_database
from bp.cart.views import overview_view, page_view
from bp.cart.waiting_mark import cookie_name_for
from bp.lane_answers import lane_helpers, rendered
from bp.orders import views as orders_views
from bp.orders.filters.qs import parse_order_query
from bp.runtime import runtime
from lib.auth import user_id_in, user_name_in
from lib.csrf import sign
from lib.db import runs_alone
from lib.pipeline import Lane, LaneAnswer
from lib.rate_limits import RouteLimits
from lib.scope_headers import cookies_in, header_lines
from lib.sessions import RedisSession, RedisSessionInterface
from services.sql.cart_impl import one_statement_summary

# A path of one segment and a slash: the overview's, or a page's (whose rule the URL map
# still confirms: another route of that shape wins, as it does in the framework).
ONE_SEGMENT = re.compile(r"/[^/]*/|/")
# Paths whose routing is remembered: a bounded few, whatever is asked.
ROUTES_KEPT = 1024
AUTHORIZATION = b"authorization"
HTMX = b"hx-request"
PAGE_ENDPOINT = "cart.page_cart"
OVERVIEW_ENDPOINT = "cart.overview"
ORDERS_ENDPOINT = "orders.order_list"
TEMPLATES = {
    PAGE_ENDPOINT: page_routes.TEMPLATE,
    OVERVIEW_ENDPOINT: overview_routes.TEMPLATE,
    ORDERS_ENDPOINT: orders_views.TEMPLATE,
}
# The orders list without a query: its first page, unfiltered.
FIRST_ORDERS = parse_order_query({})
# What the orders list's answers carry besides the pages' headers.
ORDERS_HEADERS = ((b"vary", orders_views.VARY.encode()),)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What the page templates read of the request (the sign-in link's way back)."""

    path: str


def page_lanes(app: Quart, *, limits: RouteLimits, secret_key: str) -> Callable[[str], Lane | None]:
    """The cart pages' lane of `app`, for the paths it may answer (None: the framework's);
    its browsers' requests are counted against the routes' `limits`."""
    interface = app.session_interface
    assert isinstance(interface, RedisSessionInterface)
    cookie_name = interface.get_cookie_name(app)
    waiting_cookie = cookie_name_for(runtime(app).settings)
    adapter = app.url_map.bind("lanes")
    # The views' rules, as the request log and the metrics name their routes.
    rules = {
        rule.endpoint: rule.rule for rule in app.url_map.iter_rules() if rule.endpoint in TEMPLATES
    }
    assert rules.keys() == TEMPLATES.keys(), "the cart's pages are not routed"

    @functools.lru_cache(maxsize=ROUTES_KEPT)
    def routed(path: str) -> tuple[str, str] | None:
        """(which page, its slug) of a path the URL map gives a cart page, as the framework
        routes it; None for any other."""
        try:
            endpoint, args = adapter.match(path, method="GET")
        except (HTTPException, RequestRedirect):
            return None
        if endpoint in (OVERVIEW_ENDPOINT, ORDERS_ENDPOINT):
            return endpoint, ""
        slug = str(args.get("page_slug", ""))
        if endpoint != PAGE_ENDPOINT or slug.lower() in reserved_slugs(app):
            return None
        return endpoint, slug

    def usable() -> bool:
        """Whether a page, with its badge, is one statement that may run alone on this
        deployment."""
        services = runtime(app)
        return (
            one_database(services.domains)
            and one_statement_summary(services.domains.cart) is not None
            and runs_alone(services.databases.engine)
        )

    def in_shape(scope: HTTPScope) -> bool:
        return (
            not scope["query_string"]
            and not header_lines(scope, AUTHORIZATION)
            and not header_lines(scope, HTMX)
        )

    def known_name(shared: RedisSession, user_id: int | None) -> tuple[bool, str | None]:
        """Whether the shopper's name is known without a read, and the name (as the layout's
        `shopper_name` finds it)."""
        name = user_name_in(shared)
        if name is not None:
            return True, name
        if user_id is None:
            return True, None
        names = runtime(app).shopper_names
        return (True, names[user_id]) if user_id in names else (False, None)

    async def lane(scope: HTTPScope, endpoint: str, slug: str) -> LaneAnswer | None:
        if not in_shape(scope) or not usable():
            return None
        cookies = cookies_in(scope)
        if waiting_cookie in cookies:
            return None
        shared = await interface.read_for_lane(scope, cookies.get(cookie_name))
        # Stored: read from Redis, which was reachable.
        if not shared.stored or shared.sid is None:
            return None
        identity = cart_identity_in(shared)
        user_id = user_id_in(shared)
        if identity is None or (user_id is not None and SESSION_KEY in shared):
            return None
        named, name = known_name(shared, user_id)
        if not named:
            return None
        if not await limits.check_browser(scope, endpoint):
            return None
        services = runtime(app)
        # A session the view's one statement runs beside, alone (lib/db.execute_alone): it
        # begins no transaction, so there is nothing to close.
        db = services.databases.sessionmaker()
        if endpoint == PAGE_ENDPOINT:
            view, summary = await page_view(services, db, identity, slug)
        elif endpoint == OVERVIEW_ENDPOINT:
            view, summary = await overview_view(services, db, identity)
        else:
            view, summary = await orders_views.order_list_view(
                services, db, identity, FIRST_ORDERS, list_only=False
            )
        assert summary is not None, "a page read in one statement brings its badge's summary"
        context = {
            **lane_helpers(app, summary, sign(secret_key, shared.sid), name=name),
            "current_user_id": lambda: user_id,
            "current_user_name": lambda: name,
            "request": PageRequest(scope["path"]),
            **view,
        }
        extra = ORDERS_HEADERS if endpoint == ORDERS_ENDPOINT else ()
        return await rendered(
            app, scope, TEMPLATES[endpoint], context, route=rules[endpoint], extra=extra
        )

    def lane_for(path: str) -> Lane | None:
        if ONE_SEGMENT.fullmatch(path) is None:
            return None
        found = routed(path)
        if found is None:
            return None
        endpoint, slug = found
        return functools.partial(lane, endpoint=endpoint, slug=slug)

    return lane_for
