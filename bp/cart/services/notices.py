"""Messages shown on the shopper's next page, kept in the cart's own Redis index.

The shared session belongs to the account app too (the cart writes only `cart_sid` there),
so a notice waits under a key derived from the session id instead.
"""

from __future__ import annotations

import hashlib
import json

from redis.asyncio import Redis

KEY_PREFIX = "notice:"
TTL_SECONDS = 600


def notice_key(session_sid: str) -> str:
    """A key that does not reveal the session id."""
    return KEY_PREFIX + hashlib.sha256(session_sid.encode()).hexdigest()


async def push_notices(redis: Redis, *, session_sid: str, messages: list[str]) -> None:
    """Keep messages for the next page this session renders."""
    if messages:
        key = notice_key(session_sid)
        await redis.rpush(key, *(json.dumps(message) for message in messages))
        await redis.expire(key, TTL_SECONDS)

