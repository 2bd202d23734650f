"""What waits for a browser's next page: its notices and its refused form values, read and
removed together in one round trip to Redis.

Both are kept for the page the shopper lands on next (bp/cart/services/notices.py,
field_problems.py), and every page shows its notices, so one MULTI reads both lists and
deletes them: a page view costs one Redis round trip for them instead of two.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from redis.asyncio import Redis

from bp.cart.services.field_problems import FieldProblem, problems_key, read_problems
from bp.cart.services.notices import notice_key


@dataclass(frozen=True)
class Waiting:
    """The notices (in order) and the refused values by field id."""

    notices: list[str] = field(default_factory=list)
    problems: dict[str, FieldProblem] = field(default_factory=dict)


async def pop_waiting(redis: Redis, *, session_sid: str) -> Waiting:
    """The session's waiting notices and field problems, removed as they are read."""
    notices_at, problems_at = notice_key(session_sid), problems_key(session_sid)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.lrange(notices_at, 0, -1)
        pipe.hgetall(problems_at)
        pipe.delete(notices_at, problems_at)
        raw_notices, raw_problems, _ = await pipe.execute()
    return Waiting(
        notices=[json.loads(item) for item in raw_notices or []],
        problems=read_problems(raw_problems or {}),
    )
