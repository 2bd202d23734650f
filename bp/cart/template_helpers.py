"""Template helpers the cart blueprint installs on the whole app, and the cart-mini badge.

- `cart_mini()` renders the cart badge lazily, only where a template asks for it.
- `cart_notices()` pops the messages waiting for this browser.
- `field_problem(field_id)` is why a field's value was refused (this request's, or the one a
  form post left for this page), with the value as typed.
- `shopper_name()` names the signed-in shopper: the shared session's name, else the account
  domain's.

Those are coroutines, for the pages Quart renders in async mode. A page rendered from data
fetched first (lib/pages.py) gets the same helpers as plain methods of `Fetched`, over values
read before the render: the templates call them alike in either environment.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg
from jinja2 import Template
from markupsafe import Markup
from quart import Quart, current_app, g
from quart.blueprints import BlueprintSetupState
from sqlalchemy.exc import EmulatedDBAPIException, SQLAlchemyError

from bp.cart.blueprints import bp
from bp.cart.request_identity import browser_session, current_cart_identity
from bp.cart.services.field_problems import FieldProblem
from bp.cart.services.shopper import display_name, page_shopper_contact
from bp.cart.services.summary import get_cart_summary
from bp.cart.services.waiting import Waiting, pop_waiting
from bp.cart.waiting_mark import may_be_waiting, read_waiting
from bp.runtime import current_runtime, request_session
from lib.auth import current_user_id, current_user_name
from lib.errors import ASYNCPG_UNAVAILABLE
from lib.htmx import is_htmx
from lib.pages import add_layout_provider, page_templates
from services.contracts.cart_summary import CartSummary
from services.contracts.dtos import CartIdentity

CART_MINI_TEMPLATE = "fragments/_cart_mini.html"
# What a failed read of the account domain raises: SQLAlchemy's errors and the socket's, and,
# when its statement runs on the driver (bp/cart/services/shopper.page_shopper_contact), the
# driver's errors and the DBAPI error SQLAlchemy's pool raises, unwrapped, when a connection
# cannot be made (the database is shutting down, or does not exist), and every error that
# means the driver's connection is gone (lib/errors.py), a protocol a shutdown cut off included.
ACCOUNT_READ_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError,
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    *ASYNCPG_UNAVAILABLE,
    EmulatedDBAPIException,
)
# This request's own refused fields, set by bp/cart/field_errors.py.
PROBLEMS_KEY = "field_problems"
# What waited in Redis for this page, read once per request.
WAITING_KEY = "cart_waiting"
# lib/csrf.py's template helper.
CSRF_HELPER = "csrf_token"
# The badge's summary as the page's statement read it, with the identity it is of.
SUMMARY_KEY = "cart_summary_read"
# Badges kept rendered, by count (and place): a bounded few, whatever the carts hold.
BADGES_KEPT = 256

log = logging.getLogger(__name__)


def read_with_page(identity: CartIdentity | None, summary: CartSummary) -> None:
    """Keep the summary of `identity`'s cart that the page's own statement read, for this
    request's badge: read after the request's change, if it made one, it is the cart now."""
    setattr(g, SUMMARY_KEY, (identity, summary))


async def cart_summary_of(identity: CartIdentity | None) -> CartSummary:
    """The badge's counts of `identity`'s cart: as the page read them, else one query (none
    for a browser without a cart)."""
    known = g.get(SUMMARY_KEY)
    if known is not None and known[0] == identity:
        summary: CartSummary = known[1]
        return summary
    runtime = current_runtime()
    return await get_cart_summary(
        request_session(),
        identity=identity,
        currency=runtime.settings.currency,
        domains=runtime.domains,
    )


def badge_html(summary: CartSummary, *, oob: bool, base_url: str) -> str:
    """The cart badge: it shows nothing but its count (no request, session or helpers), and
    every coop page asks for it, so each count's markup is rendered once."""
    return badge_markup(current_app, summary.badge_count, oob=oob, base_url=base_url)


def badge_markup(app: Quart, count: int, *, oob: bool, base_url: str) -> str:
    """The badge for `count`, as `app` renders it (rendered once per count)."""
    template = page_templates(app).get_template(CART_MINI_TEMPLATE)
    return _badge_markup(template, count, oob, base_url)


@functools.lru_cache(maxsize=BADGES_KEPT)
def _badge_markup(template: Template, count: int, oob: bool, base_url: str) -> str:
    # Keyed by the template too: one reloaded in development is a new object, rendered anew.
    return template.render(count=count, oob=oob, base_url=base_url)


async def render_cart_mini(identity: CartIdentity | None, *, oob: bool, base_url: str) -> str:
    """The cart badge of `identity`'s cart."""
    return badge_html(await cart_summary_of(identity), oob=oob, base_url=base_url)


async def cart_mini(oob: bool = False) -> Markup:
    """The badge of this browser's cart, for the pages' header (or out of band after a change)."""
    html = await render_cart_mini(current_cart_identity(), oob=oob, base_url="")
    return Markup(html)  # noqa: S704  (rendered by our own autoescaping template)


async def waiting() -> Waiting:
    """What waits for this browser's page (notices, refused values): read once per request,
    in one round trip, and removed as it is read; nothing is asked of Redis unless something
    can be waiting (bp/cart/waiting_mark.py)."""
    if WAITING_KEY not in g:
        shared = browser_session()
        found = Waiting()
        if shared is not None and shared.sid and may_be_waiting():
            found = await pop_waiting(current_runtime().redis.cart, session_sid=shared.sid)
            read_waiting()
        setattr(g, WAITING_KEY, found)
    read: Waiting = g.get(WAITING_KEY)
    return read


async def cart_notices() -> list[str]:
    """Messages waiting for this browser (after sign-in), removed as they are shown."""
    return (await waiting()).notices


async def field_problems() -> dict[str, FieldProblem]:
    """This request's refused fields by id, else the ones a form post left for this page.

    What a form post left waits for the full page it was sent back to: an HTMX answer (a
    fresh form, a re-rendered cart) shows only its own request's, and leaves the rest (and
    Redis) alone."""
    if PROBLEMS_KEY in g:
        own: dict[str, FieldProblem] = g.get(PROBLEMS_KEY)
        return own
    if is_htmx():
        return {}
    return (await waiting()).problems


async def field_problem(field_id: str) -> FieldProblem | None:
    """Why the field's value was refused, if it was."""
    return (await field_problems()).get(field_id)


async def shopper_name() -> str | None:
    """The signed-in shopper's name: the shared session's, else the account domain's (read
    at most once a minute per shopper, see Runtime.shopper_names); None when signed out or
    unknown."""
    name = current_user_name()
    user_id = current_user_id()
    if name is not None or user_id is None:
        return name
    runtime = current_runtime()
    names = runtime.shopper_names
    if user_id in names:
        return names[user_id]
    try:
        contact = await page_shopper_contact(
            runtime.databases, user_id=user_id, domains=runtime.domains
        )
    except ACCOUNT_READ_ERRORS:
        # The page still shows; the header says "Signed in" instead of the name.
        log.warning("could not read the shopper's name from the account domain", exc_info=True)
        return None
    found = names[user_id] = display_name(contact)
    return found


@dataclass(frozen=True, slots=True)
class Fetched:
    """The helpers' values, read before a render; its methods are the helpers, made plain."""

    summary: CartSummary
    problems: dict[str, FieldProblem] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    name: str | None = None

    def cart_mini(self, oob: bool = False) -> Markup:
        """The badge of this browser's cart."""
        html = badge_html(self.summary, oob=oob, base_url="")
        return Markup(html)  # noqa: S704  (rendered by our own autoescaping template)

    def cart_notices(self) -> list[str]:
        """The messages that waited for this page."""
        return self.notices

    def field_problems(self) -> dict[str, FieldProblem]:
        """The refused fields by id."""
        return self.problems

    def field_problem(self, field_id: str) -> FieldProblem | None:
        """Why the field's value was refused, if it was."""
        return self.problems.get(field_id)

    def shopper_name(self) -> str | None:
        """The signed-in shopper's name, when known."""
        return self.name

    def helpers(self) -> dict[str, object]:
        """The template globals they stand for, by the same names; and the CSRF token, made
        at the render's first form and then given as it is (the app's own helper looks up the
        request's session and `g` at every form of the page)."""
        make: Callable[[], str] = current_app.jinja_env.globals[CSRF_HELPER]  # type: ignore[assignment]
        return self.given(functools.cache(make))

    def given(self, csrf_token: Callable[[], str]) -> dict[str, object]:
        """`helpers`, the CSRF token made by `csrf_token` (a page answered before the
        framework, bp/page_lanes.py, has no request context to make it from)."""
        return {CSRF_HELPER: csrf_token, **{name: getattr(self, name) for name in HELPERS}}


async def fetched_for_fragment() -> dict[str, object]:
    """What a cart change's answer calls (the badge out of band, this request's refused
    fields), read first."""
    summary = await cart_summary_of(current_cart_identity())
    return Fetched(summary=summary, problems=await field_problems()).helpers()


async def fetched_for_page() -> dict[str, object]:
    """What a full page's layout and partials call (the badge, what waited for the page, the
    shopper's name), read first: the layout's provider for `lib.pages.render_page`."""
    summary = await cart_summary_of(current_cart_identity())
    found = await waiting()
    return Fetched(
        summary=summary,
        problems=await field_problems(),
        notices=found.notices,
        name=await shopper_name(),
    ).helpers()


# The same for every render: made once.
HELPERS: dict[str, object] = {
    "cart_mini": cart_mini,
    "cart_notices": cart_notices,
    "field_problem": field_problem,
    "field_problems": field_problems,
    "shopper_name": shopper_name,
}


@bp.record_once
def install_template_helpers(state: BlueprintSetupState) -> None:
    """Lazy helpers (nothing is queried unless a template calls them), as globals of the
    app's templates: set once, where a context processor would run on every render."""
    state.app.jinja_env.globals.update(HELPERS)
    add_layout_provider(state.app, fetched_for_page)
