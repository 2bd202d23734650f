"""Page slugs the cart's own routes shadow: a page called `orders` or `checkout` can never show
its cart at /<slug>/, because that path is one of the cart's own pages.

The names come from the app's URL map (the first fixed segment of every route), so a new route
reserves its name without anyone keeping a list. At serving start the pages are read through
the blog domain and each one that can never be reached is named in the log; a request that
reaches the page-cart view (or a page checkout) with such a slug gets a 404 that says why.
"""

from __future__ import annotations

import logging

from quart import Quart, current_app

from bp.cart.blueprints import bp
from bp.cart.services.page_cart import check_slug_reachable, unreachable_pages
from bp.runtime import runtime

EXTENSION = "cart_reserved_slugs"

log = logging.getLogger(__name__)


def route_prefixes(app: Quart) -> frozenset[str]:
    """The first fixed path segment of each route (`orders`, `checkout`, `static`, …)."""
    prefixes = set()
    for rule in app.url_map.iter_rules():
        first = rule.rule.lstrip("/").split("/", 1)[0]
        if first and "<" not in first:
            prefixes.add(first.lower())
    return frozenset(prefixes)


def reserved_slugs(app: Quart | None = None) -> frozenset[str]:
    """The app's reserved slugs, worked out once from its URL map."""
    target = app if app is not None else current_app
    found: frozenset[str] | None = target.extensions.get(EXTENSION)
    if found is None:
        found = route_prefixes(target)
        target.extensions[EXTENSION] = found
    return found


def refuse_reserved_slug(slug: str) -> None:
    """404, saying why, for a page whose slug is one of the cart's own routes."""
    check_slug_reachable(slug, reserved=reserved_slugs())


@bp.before_app_serving
async def warn_of_unreachable_pages() -> None:
    """Name, once at start, each page whose cart can never be reached."""
    app = current_app
    serving = runtime(app)
    reserved = reserved_slugs(app)
    try:
        async with serving.databases.sessionmaker() as session:
            pages = await unreachable_pages(session, reserved=reserved, domains=serving.domains)
    except Exception:  # the check must never stop the service from starting
        log.warning("could not check the pages' slugs against the cart's routes", exc_info=True)
        return
    for page in pages:
        log.warning(
            "page %r (“%s”, id %s) can never show its cart: /%s/ is one of the cart's own "
            "routes; give the page another slug",
            page.slug,
            page.title,
            page.id,
            page.slug,
        )
