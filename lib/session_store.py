"""Atomic changes to single keys of a shared session: Redis `session:<id>`, a JSON object.

Other coop apps write the same record (the account app signs people in there), so a change
reads it, alters only the keys named, and writes it back in a WATCH/MULTI transaction that
fails, and is retried, when anyone wrote the record in between: a concurrent write is never
lost. The TTL is kept (`KEEPTTL`); a record made here gets the lifetime the caller gives.

Why not a Lua script: Redis's cjson re-encodes numbers with 14 significant digits, so a
round trip through it would corrupt another app's large ids or precise timestamps; Python's
json keeps them exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, WatchError

KEY_PREFIX = "session:"
# Contention with another writer on one session is rare: a sign-in, a cart's first write.
MAX_ATTEMPTS = 20
MS_PER_SECOND = 1000

Change = Callable[[dict[str, Any]], dict[str, Any] | None]


class SessionContended(RedisError):
    """The session kept changing under us: treated as the store being unavailable."""


def session_key(sid: str) -> str:
    """The Redis key of a session id."""
    return KEY_PREFIX + sid


def read_object(raw: str | bytes | None) -> dict[str, Any]:
    """A stored session as a dict; anything but a JSON object reads as empty."""
    if not raw:
        return {}
    try:
        loaded = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


async def change_session(
    redis: Redis, sid: str, change: Change, *, ttl_if_new: int
) -> dict[str, Any]:
    """Apply `change` (the stored object → the new one, or None to write nothing) atomically.

    Returns the session as it is afterwards. Raises SessionContended when another writer kept
    winning, RedisError when Redis cannot be reached.
    """
    key = session_key(sid)
    async with redis.pipeline(transaction=True) as pipe:
        for _ in range(MAX_ATTEMPTS):
            try:
                await pipe.watch(key)
                raw = await pipe.get(key)
                current = read_object(raw)
                changed = change(dict(current))
                if changed is None:
                    await pipe.unwatch()  # type: ignore[no-untyped-call]
                    return current
                pipe.multi()  # type: ignore[no-untyped-call]
                if raw is None:
                    pipe.set(key, json.dumps(changed), ex=ttl_if_new)
                else:
                    pipe.set(key, json.dumps(changed), keepttl=True)
                await pipe.execute()
                return changed
            except WatchError:
                continue
    raise SessionContended(f"session {sid[:6]}… kept changing; gave up")


async def claim_key(
    redis: Redis,
    sid: str,
    key: str,
    candidate: str,
    *,
    is_valid: Callable[[object], bool],
    ttl_if_new: int,
) -> str:
    """The value `key` holds, or `candidate` stored there when it holds no valid one.

    Two requests claiming at once get the same answer: whichever wrote first wins.
    """

    def claim(data: dict[str, Any]) -> dict[str, Any] | None:
        if is_valid(data.get(key)):
            return None
        return {**data, key: candidate}

    return str((await change_session(redis, sid, claim, ttl_if_new=ttl_if_new))[key])


async def remove_keys(
    redis: Redis, sid: str, keys: Collection[str], *, only_if: Mapping[str, Any] | None = None
) -> None:
    """Remove `keys` from the session (when it still holds `only_if`), keeping the others."""

    def remove(data: dict[str, Any]) -> dict[str, Any] | None:
        if not any(k in data for k in keys):
            return None
        if only_if is not None and any(data.get(k) != v for k, v in only_if.items()):
            return None
        return {k: v for k, v in data.items() if k not in keys}

    if await redis.exists(session_key(sid)):
        await change_session(redis, sid, remove, ttl_if_new=1)


async def move(
    redis: Redis,
    old_sid: str,
    new_sid: str,
    *,
    carry: Collection[str],
    values: Mapping[str, Any],
    ttl: int,
) -> dict[str, Any]:
    """Start session `new_sid` with `values` and what `old_sid` holds under `carry`, and end
    `old_sid`, in one transaction (a write to the old session in between makes it retry, so
    nothing carried is lost). Answers the new session."""
    old_key, new_key = session_key(old_sid), session_key(new_sid)
    async with redis.pipeline(transaction=True) as pipe:
        for _ in range(MAX_ATTEMPTS):
            try:
                await pipe.watch(old_key)
                old = read_object(await pipe.get(old_key))
                started = {**{k: old[k] for k in carry if k in old}, **values}
                pipe.multi()  # type: ignore[no-untyped-call]
                pipe.set(new_key, json.dumps(started), ex=ttl)
                pipe.delete(old_key)
                await pipe.execute()
                return started
            except WatchError:
                continue
    raise SessionContended(f"session {old_sid[:6]}… kept changing; gave up")


async def extend_if_only(redis: Redis, sid: str, keys: Collection[str], *, ttl: int) -> None:
    """Give the session `ttl` seconds when it holds nothing but `keys` and would end sooner.

    Sessions another app also uses keep the lifetime that app chose.
    """
    key = session_key(sid)
    pttl = await redis.pttl(key)
    if pttl < 0 or pttl >= ttl * MS_PER_SECOND:
        return
    async with redis.pipeline(transaction=True) as pipe:
        for _ in range(MAX_ATTEMPTS):
            try:
                await pipe.watch(key)
                data = read_object(await pipe.get(key))
                if not data or not set(data) <= set(keys):
                    await pipe.unwatch()  # type: ignore[no-untyped-call]
                    return
                pipe.multi()  # type: ignore[no-untyped-call]
                pipe.expire(key, ttl)
                await pipe.execute()
                return
            except WatchError:
                continue
    raise SessionContended(f"session {sid[:6]}… kept changing; gave up")
