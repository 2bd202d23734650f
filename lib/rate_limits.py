"""Rate limits per client (quart-rate-limiter), counted in the cart's own Redis index.

Every route gets the limits of its class, from the settings: a page (GET), a shopper's write
(POST), a checkout (which calls SumUp with the merchant's key), SumUp's webhook (per client,
and per order, since each one makes us ask SumUp), or an internal route (limited only for a
caller without the internal token). The health probes and static files are exempt
(`rate_exempt`). A route's limits are checked and counted by a step of the request pipeline
(`RouteLimits`, one Redis round trip for all of them); over a limit it raises
quart-rate-limiter's RateLimitExceeded, which the one error mapping answers as 429 with
Retry-After.

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

from hypercorn.typing import HTTPScope, WebsocketScope
from quart import Quart, Request, Response, current_app, request
from quart_rate_limiter import (
    QUART_RATE_LIMITER_EXEMPT_ATTRIBUTE,
    QUART_RATE_LIMITER_LIMITS_ATTRIBUTE,
    RateLimit,
    RateLimitExceeded,
    rate_exempt,
    rate_limit,
)
from quart_rate_limiter.store import RateLimiterStoreABC
from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError

from config.settings import Settings, parse_rate
from lib.client_address import Network, client_address, networks, scope_address
from lib.internal_auth import is_internal_caller, requires_internal_token, sent_a_wrong_token
from lib.rate_counts import spend
from lib.redis_hot import HotRedis

__all__ = [
    "RateLimitSteps",
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
# The limiter's algorithm (GCRA, as quart-rate-limiter counts: each key keeps its theoretical
# arrival time, `tat`) run in Redis, for all of a route's limits at once: one round trip
# where quart-rate-limiter made four per limit (read to check, read and write to count, read
# again for the response's headers). Either every limit admits the request and each counts
# it, or none does. ARGV: now, then each key's interval between requests and the most it may
# run ahead of now. Answers 1 and each key's wait after this request, or 0, the seconds to
# wait, and each key's wait as it stands (numbers as strings: Redis truncates Lua's numbers).
GCRA_SCRIPT = """
local now = tonumber(ARGV[1])
local tats, waits = {}, {}
local refused = nil
for i = 1, #KEYS do
  local inverse, ahead = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local tat = math.max(tonumber(redis.call('GET', KEYS[i]) or now) or now, now)
  if refused == nil and tat - now > ahead then refused = tat - ahead - now end
  tats[i] = tat + inverse
  waits[i] = tat - now
end
if refused ~= nil then
  local answer = {'0', string.format('%.6f', refused)}
  for i = 1, #KEYS do answer[#answer + 1] = string.format('%.6f', waits[i]) end
  return answer
end
local answer = {'1', '0'}
for i = 1, #KEYS do
  local ttl = math.max(1, math.ceil(tats[i] - now))
  redis.call('SET', KEYS[i], string.format('%.6f', tats[i]), 'EX', ttl)
  answer[#answer + 1] = string.format('%.6f', tats[i] - now)
end
return answer
"""
# Where a request's scope keeps what the limits' check found, for the response's headers.
CHECKED_KEY = "cart.rate_checked"
# A limit keyed by the client's address (lib/client_address.py) has this before it.
CLIENT_KEY = "client:"
# Where the app keeps what counts its limits by hand (app.extensions).
EXTENSION = "cart_rate_counts"

F = TypeVar("F", bound=Callable[..., Any])
GCRA_SHA = hashlib.sha1(GCRA_SCRIPT.encode()).hexdigest()  # noqa: S324  (Redis names scripts so)
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

    def __init__(
        self, redis: Callable[[], Redis], hot: Callable[[], HotRedis] | None = None
    ) -> None:
        self._redis = redis
        # Every request's count (check_all) goes through the hot commands' connection.
        self._hot = hot

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

    async def check_all(
        self, keys: list[str], limits: list[RateLimit], *, at: float | None = None
    ) -> tuple[float | None, list[float]] | None:
        """Check and count one request, arriving now (or at the timestamp `at`), against each
        of `limits` (GCRA_SCRIPT): the seconds to wait when one refuses it (None when all
        admit it), and each key's wait after it. None when Redis cannot be reached (the
        request goes through)."""
        args: list[float] = [datetime.now(UTC).timestamp() if at is None else at]
        for limit in limits:
            args += [limit.inverse, limit.period.total_seconds() - limit.inverse]
        client = self._hot() if self._hot is not None else self._redis()
        try:
            answer = await client.evalsha(
                GCRA_SHA, len(keys), *(KEY_PREFIX + key for key in keys), *args
            )
        except NoScriptError:
            answer = await client.eval(
                GCRA_SCRIPT, len(keys), *(KEY_PREFIX + key for key in keys), *args
            )
        except RedisError as error:
            log.warning("rate limit not counted, Redis unreachable: %s", error)
            return None
        admitted, retry_after, *waits = (float(value) for value in answer)
        return (None if admitted else retry_after), waits


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

    async def before_request(self, request: Request) -> None:
        """A wrong bearer token, whatever the route; a path that matches no route."""
        if sent_a_wrong_token():
            await self.count("guess:" + client_address(self.trusted), self.guesses)
        if request.routing_exception is not None:
            await self.count("unmatched:" + client_address(self.trusted), self.pages)


async def spend_webhook_allowance(order_id: int) -> None:
    """Count one question to SumUp about `order_id` against its webhook allowance."""
    counts: HandCounts = current_app.extensions[EXTENSION]
    await counts.count(f"webhook-order:{order_id}", counts.per_order)


class RouteLimits:
    """The limits of each route of one app, checked and counted in one round trip (a step of
    the request pipeline), and the response's `RateLimit-*` headers from that same answer."""

    def __init__(
        self, app: Quart, store: CartIndexStore, *, enabled: bool, trusted: tuple[Network, ...]
    ) -> None:
        self.enabled = enabled
        self.store = store
        self.app_name = app.import_name
        self.trusted = trusted
        self.by_endpoint: dict[str, list[RateLimit]] = {}
        # The routes whose limits are each keyed by the client's address, and skipped at most
        # for the internal token's callers: what `check_browser` can count.
        self.client_keyed: set[str] = set()

    def attach(self, endpoint: str, limits: list[RateLimit], *, client_keyed: bool) -> None:
        self.by_endpoint[endpoint] = limits
        if client_keyed:
            self.client_keyed.add(endpoint)

    async def check(self, request: Request) -> None:
        """Refuse the request (429 with Retry-After) when one of its route's limits is spent."""
        if not self.enabled:
            return
        endpoint = request.endpoint
        limits = self.by_endpoint.get(endpoint or "")
        if not limits:
            return
        applied = [
            limit
            for limit in limits
            if limit.skip_function is None or not await limit.skip_function()
        ]
        if not applied:
            return
        keys = []
        for limit in applied:
            assert limit.key_function is not None
            keys.append(f"{self.app_name}-{endpoint}-{limit.key}-{await limit.key_function()}")
        await self._count(request.scope, keys, applied)

    async def check_browser(self, scope: HTTPScope, endpoint: str) -> bool:
        """`check` for a request without the internal token (a browser's), given its scope and
        the endpoint it is for: counted, and refused by RateLimitExceeded, as `check` would.
        False, counting nothing, when the route's limits are not each keyed by the client's
        address (the request must go through `check`)."""
        if endpoint not in self.client_keyed:
            return False
        limits = self.by_endpoint[endpoint]
        if not self.enabled or not limits:
            return True
        client = CLIENT_KEY + scope_address(scope, self.trusted)
        keys = [f"{self.app_name}-{endpoint}-{limit.key}-{client}" for limit in limits]
        await self._count(scope, keys, limits)
        return True

    async def _count(
        self, scope: HTTPScope | WebsocketScope, keys: list[str], applied: list[RateLimit]
    ) -> None:
        checked = await self.store.check_all(keys, applied)
        if checked is None:
            return
        retry_after, waits = checked
        # The headers name the limit of the shortest period, as quart-rate-limiter's did.
        shortest = min(range(len(applied)), key=lambda i: applied[i].period.total_seconds())
        scope[CHECKED_KEY] = (applied[shortest], waits[shortest])  # type: ignore[literal-required]
        if retry_after is not None:
            raise RateLimitExceeded(ceil(retry_after))

    def add_headers(self, request: Request, response: Response) -> None:
        """`RateLimit-Limit`, `-Remaining` and `-Reset` of the route's shortest limit."""
        for name, value in limit_headers(request.scope):
            response.headers[name] = value


def limit_headers(scope: HTTPScope | WebsocketScope) -> list[tuple[str, str]]:
    """The `RateLimit-*` headers of what the route's limits' check found, if it ran."""
    checked: tuple[RateLimit, float] | None = scope.get(CHECKED_KEY)  # type: ignore[assignment]
    if checked is None:
        return []
    limit, wait = checked
    remaining = int((limit.period.total_seconds() - wait) / limit.inverse)
    return [
        ("RateLimit-Limit", str(limit.count)),
        ("RateLimit-Remaining", str(max(0, remaining))),
        ("RateLimit-Reset", str(ceil(wait))),
    ]


class RateLimitSteps:
    """What the request pipeline calls: the hand counts, then the route's limits, before the
    view; the headers after."""

    def __init__(self, counts: HandCounts, limits: RouteLimits) -> None:
        self.count_by_hand = counts.before_request
        self.check_route = limits.check
        self.add_headers = limits.add_headers
        self.routes = limits


def install_rate_limits(
    app: Quart,
    settings: Settings,
    *,
    redis: Callable[[], Redis],
    hot: Callable[[], HotRedis] | None = None,
) -> RateLimitSteps:
    """Give every route of `app` (registered by now) its limits, unless it is exempt; answer
    the steps that check them."""
    trusted = networks(settings.trusted_proxies)

    async def by_client() -> str:
        return CLIENT_KEY + client_address(trusted)

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
    store = CartIndexStore(redis, hot)
    counts = HandCounts(settings, store)
    app.extensions[EXTENSION] = counts
    limits = RouteLimits(app, store, enabled=settings.rate_limit_enabled, trusted=trusted)
    methods: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        methods.setdefault(rule.endpoint, set()).update(rule.methods or ())
    for endpoint, view in list(app.view_functions.items()):
        if getattr(view, QUART_RATE_LIMITER_EXEMPT_ATTRIBUTE, False):
            continue
        route_limits = by_class[_class_of(view, methods.get(endpoint, set()))]
        app.view_functions[endpoint] = _with_limits(app, view, route_limits)
        keyed = all(
            limit.key_function is by_client and limit.skip_function in (None, from_internal_caller)
            for limit in route_limits
        )
        limits.attach(endpoint, route_limits, client_keyed=keyed)
    return RateLimitSteps(counts, limits)


def _class_of(view: Callable[..., Any], methods: set[str]) -> str:
    explicit: str | None = getattr(view, RATE_CLASS_ATTRIBUTE, None)
    if explicit is not None:
        return explicit
    if requires_internal_token(view):
        return INTERNAL
    return WRITE if methods & UNSAFE_METHODS else PAGE


def _with_limits(
    app: Quart, view: Callable[..., Any], limits: list[RateLimit]
) -> Callable[..., Any]:
    """A wrapper of `view` carrying `limits`; the view itself keeps no trace of this app."""
    # Made async once, here, rather than at every call.
    target = app.ensure_async(view)

    @wraps(view)
    async def limited(*args: Any, **kwargs: Any) -> Any:
        return await target(*args, **kwargs)

    return rate_limit(limits=limits)(limited)
