"""Rate limits per client (quart-rate-limiter), counted in the cart's own Redis index.

Every route gets the limits of its class, from the settings: a page (GET), a shopper's write
(POST), a checkout (which calls SumUp with the merchant's key), SumUp's webhook (per client,
and per order, since each one makes us ask SumUp), or an internal route (limited only for a
caller without the internal token). The health probes and static files are exempt
(`rate_exempt`). Over a limit, quart-rate-limiter raises RateLimitExceeded, which the one
error mapping answers as 429 with Retry-After.

Three limits are counted by hand (lib/rate_counts.py), since a view's limits count per
route and only for routes that exist: a wrong bearer token counts against the client's
failed-token limit whatever the route (other schemes, such as a staging site's Basic auth,
are no guess at our token); a request that matches no route counts against the client's page
limit; and SumUp's webhook spends its order's allowance only when it really asks SumUp
(`spend_webhook_allowance`), so junk that never reaches SumUp cannot use it up.

The limits are attached per app, when it is built, to wrappers of the view functions: the
blueprints' functions themselves stay untouched, so two apps can have different limits.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from math import ceil
from typing import Any, TypeVar

from quart import Quart, current_app, request
from quart_rate_limiter import (
    QUART_RATE_LIMITER_EXEMPT_ATTRIBUTE,
    QUART_RATE_LIMITER_LIMITS_ATTRIBUTE,
    RateLimit,
    RateLimiter,
    rate_exempt,
    rate_limit,
)
from quart_rate_limiter.store import RateLimiterStoreABC
from redis.asyncio import Redis
from redis.exceptions import RedisError

from config.settings import Settings, parse_rate
from lib.client_address import client_address, networks
from lib.internal_auth import is_internal_caller, requires_internal_token, sent_a_wrong_token
from lib.rate_counts import spend

__all__ = [
    "install_rate_limits",
    "rate_class",
    "rate_exempt",
    "rate_limits_of",
    "spend_webhook_allowance",
]

PAGE, WRITE, CHECKOUT, WEBHOOK, INTERNAL = "page", "write", "checkout", "webhook", "internal"
ORDER_LINK, ORDER_LOOKUP = "order_link", "order_lookup"
# The form field a lookup is limited by, whoever sends it.
ADDRESS_FIELD = "email"
RATE_CLASS_ATTRIBUTE = "_rate_class"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEY_PREFIX = "ratelimit:"
# Where the app keeps what counts its limits by hand (app.extensions).
EXTENSION = "cart_rate_counts"

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)


def rate_class(name: str) -> Callable[[F], F]:
    """Mark a view with the class of limits it gets (CHECKOUT, WEBHOOK, INTERNAL, ...)."""

    def mark(view: F) -> F:
        setattr(view, RATE_CLASS_ATTRIBUTE, name)
        return view

    return mark


def rate_limits_of(view: Callable[..., Any]) -> list[RateLimit]:
    """The limits a view has in this app (for the route policy test)."""
    return list(getattr(view, QUART_RATE_LIMITER_LIMITS_ATTRIBUTE, []))


class CartIndexStore(RateLimiterStoreABC):
    """The limiter's arrival times in the cart's own Redis index, each expiring when spent.

    quart-rate-limiter's RedisStore opens a client of its own and keeps every key forever;
    this one uses the app's client for the cart index. A Redis that cannot be reached lets
    requests through: a limiter that cannot count must not take the service down with it.
    """

    def __init__(self, redis: Callable[[], Redis]) -> None:
        self._redis = redis

    async def before_serving(self) -> None:
        """The app's runtime opens the client."""

    async def after_serving(self) -> None:
        """The app's runtime closes the client."""

    async def get(self, key: str, default: datetime) -> datetime:
        try:
            raw = await self._redis().get(KEY_PREFIX + key)
        except RedisError as error:
            log.warning("rate limit not counted, Redis unreachable: %s", error)
            return default
        return datetime.fromtimestamp(float(raw), UTC) if raw else default

    async def set(self, key: str, tat: datetime) -> None:
        seconds = max(1, ceil((tat - datetime.now(UTC)).total_seconds()))
        try:
            await self._redis().set(KEY_PREFIX + key, repr(tat.timestamp()), ex=seconds)
        except RedisError as error:
            log.warning("rate limit not counted, Redis unreachable: %s", error)


class HandCounts:
    """The limits counted by hand for one app (see the module's docstring)."""

    def __init__(self, settings: Settings, store: CartIndexStore) -> None:
        self.enabled = settings.rate_limit_enabled
        self.trusted = networks(settings.trusted_proxies)
        self.store = store
        self.guesses = parse_rate(settings.rate_limit_failed_tokens)
        self.pages = parse_rate(settings.rate_limit_pages)
        self.per_order = parse_rate(settings.rate_limit_webhook_per_order)

    async def count(self, key: str, rate: tuple[int, timedelta]) -> None:
        if self.enabled:
            await spend(self.store, key, count=rate[0], period=rate[1])

    async def before_request(self) -> None:
        """A wrong bearer token, whatever the route; a path that matches no route."""
        if sent_a_wrong_token():
            await self.count("guess:" + client_address(self.trusted), self.guesses)
        if request.routing_exception is not None:
            await self.count("unmatched:" + client_address(self.trusted), self.pages)


async def spend_webhook_allowance(order_id: int) -> None:
    """Count one question to SumUp about `order_id` against its webhook allowance."""
    counts: HandCounts = current_app.extensions[EXTENSION]
    await counts.count(f"webhook-order:{order_id}", counts.per_order)


def install_rate_limits(app: Quart, settings: Settings, *, redis: Callable[[], Redis]) -> None:
    """Give every route of `app` (registered by now) its limits, unless it is exempt."""
    trusted = networks(settings.trusted_proxies)

    async def by_client() -> str:
        return "client:" + client_address(trusted)

    async def by_address() -> str:
        # Hashed: the limiter's keys never hold an address. Case does not make a new bucket.
        typed = ((await request.form).get(ADDRESS_FIELD) or "").strip().lower()
        return "address:" + hashlib.sha256(typed.encode()).hexdigest()

    async def from_internal_caller() -> bool:
        return is_internal_caller()

    def limit(
        rate: str,
        key: Callable[[], Awaitable[str]] = by_client,
        skip: Callable[[], Awaitable[bool]] | None = None,
    ) -> RateLimit:
        count, period = parse_rate(rate)
        return RateLimit(count, period, key_function=key, skip_function=skip)

    by_class = {
        PAGE: [limit(settings.rate_limit_pages)],
        WRITE: [limit(settings.rate_limit_writes)],
        CHECKOUT: [limit(settings.rate_limit_checkout)],
        WEBHOOK: [limit(settings.rate_limit_webhook)],
        INTERNAL: [limit(settings.rate_limit_pages, skip=from_internal_caller)],
        ORDER_LINK: [limit(settings.rate_limit_order_links)],
        ORDER_LOOKUP: [
            limit(settings.rate_limit_order_lookups),
            limit(settings.rate_limit_order_lookups_per_address, by_address),
        ],
    }
    store = CartIndexStore(redis)
    counts = HandCounts(settings, store)
    app.extensions[EXTENSION] = counts
    app.before_request(counts.before_request)
    RateLimiter(app, key_function=by_client, store=store, enabled=settings.rate_limit_enabled)
    methods: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        methods.setdefault(rule.endpoint, set()).update(rule.methods or ())
    for endpoint, view in list(app.view_functions.items()):
        if getattr(view, QUART_RATE_LIMITER_EXEMPT_ATTRIBUTE, False):
            continue
        limits = by_class[_class_of(view, methods.get(endpoint, set()))]
        app.view_functions[endpoint] = _with_limits(view, limits)


def _class_of(view: Callable[..., Any], methods: set[str]) -> str:
    explicit: str | None = getattr(view, RATE_CLASS_ATTRIBUTE, None)
    if explicit is not None:
        return explicit
    if requires_internal_token(view):
        return INTERNAL
    return WRITE if methods & UNSAFE_METHODS else PAGE


def _with_limits(view: Callable[..., Any], limits: list[RateLimit]) -> Callable[..., Any]:
    """A wrapper of `view` carrying `limits`; the view itself keeps no trace of this app."""

    @wraps(view)
    async def limited(*args: Any, **kwargs: Any) -> Any:
        return await current_app.ensure_async(view)(*args, **kwargs)

    return rate_limit(limits=limits)(limited)
