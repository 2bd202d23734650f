"""The two Redis databases: the shared sign-in store and the cart's own keys."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from redis.asyncio import Redis

from config.settings import Settings


def url_with_db(url: str, db: int) -> str:
    """The same server with another database index (path for redis://, query for unix://)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query))
        query["db"] = str(db)
        return urlunsplit(parts._replace(query=urlencode(query)))
    return urlunsplit(parts._replace(path=f"/{db}"))


@dataclass
class RedisClients:
    """`auth` is index 15, shared with the account app (SSO); `cart` is ours alone."""

    auth: Redis
    cart: Redis

    async def close(self) -> None:
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
        )

    return RedisClients(auth=client(settings.redis_auth_db), cart=client(settings.redis_cart_db))
