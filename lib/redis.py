"""The two Redis databases: the shared sign-in store and the cart's own keys.

A pooled connection that Redis closed (a restart, a failover) fails on its next command;
each command is therefore retried, on a fresh connection, with a short exponential backoff,
so the first request after Redis is back succeeds and one while it is down fails within
about a second (then the error mapping answers 503).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from config.settings import Settings
from lib.redis_hot import HotRedis

# Retries of a command that met a broken connection, and their waits (50 ms doubling, at
# most 500 ms between two): about a second in all before the error is the caller's.
RETRIES = 3
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 0.5


def url_with_db(url: str, db: int) -> str:
    """The same server with another database index (path for redis://, query for unix://)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query))
        query["db"] = str(db)
        # Written out by hand: urlunsplit drops the "//" of a URL without a host, and redis-py
        # refuses "unix:/path" (the embedded Redis listens on a unix socket).
        return f"unix://{parts.netloc}{parts.path}?{urlencode(query)}"
    return urlunsplit(parts._replace(path=f"/{db}"))


@dataclass
class RedisClients:
    """`auth` is index 15, shared with the account app (SSO); `cart` is ours alone. Each has
    its hot commands' connection (`auth_hot`, `cart_hot`: lib/redis_hot.py), which every
    browser request's session read and limits use."""

    auth: Redis
    cart: Redis
    auth_hot: HotRedis = field(init=False)
    cart_hot: HotRedis = field(init=False)

    def __post_init__(self) -> None:
        self.auth_hot = HotRedis(self.auth)
        self.cart_hot = HotRedis(self.cart)

    async def close(self) -> None:
        await self.auth_hot.aclose()
        await self.cart_hot.aclose()
        await self.auth.aclose()
        await self.cart.aclose()


def open_redis(settings: Settings) -> RedisClients:
    """Clients for both indexes; no connection is made until first use."""
    assert settings.redis_url is not None, "REDIS_URL must be resolved before serving"

    def client(db: int) -> Redis:
        return Redis.from_url(
            url_with_db(settings.redis_url or "", db),
            decode_responses=True,
            socket_timeout=5,
            socket_connect_timeout=3,
            health_check_interval=30,
            # Given to each connection of the pool (Redis's own default retry applies only
            # to a pool it makes itself, not to one made from a URL).
            retry=Retry(
                ExponentialWithJitterBackoff(cap=BACKOFF_CAP_SECONDS, base=BACKOFF_BASE_SECONDS),
                RETRIES,
            ),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
        )

    return RedisClients(auth=client(settings.redis_auth_db), cart=client(settings.redis_cart_db))
