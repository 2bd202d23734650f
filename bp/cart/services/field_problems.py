"""A refused form value kept for the page the shopper is sent back to.

A form posted without JavaScript is answered with a 303 to a GET page (seed 002: no POST
renders a page); that page shows the message next to the field, with what the shopper typed.
Kept in the cart's own Redis index under a key derived from the session id, like the notices.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from redis.asyncio import Redis

KEY_PREFIX = "field-problems:"
TTL_SECONDS = 600


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """Why a field's value was refused, and the value as typed."""

    message: str
    value: str


def problems_key(session_sid: str) -> str:
    """A key that does not reveal the session id."""
    return KEY_PREFIX + hashlib.sha256(session_sid.encode()).hexdigest()


async def remember_problem(
    redis: Redis, *, session_sid: str, field_id: str, problem: FieldProblem
) -> None:
    """Keep the problem for the next page this session renders."""
    key = problems_key(session_sid)
    payload = json.dumps({"message": problem.message, "value": problem.value})
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, field_id, payload)
        pipe.expire(key, TTL_SECONDS)
        await pipe.execute()


def read_problems(stored: Mapping[str | bytes, str | bytes]) -> dict[str, FieldProblem]:
    """The problems as `remember_problem` stored them (the hash's fields and values), by
    field id."""
    problems: dict[str, FieldProblem] = {}
    for field_id, payload in stored.items():
        data = json.loads(payload)
        name = field_id.decode() if isinstance(field_id, bytes) else str(field_id)
        problems[name] = FieldProblem(message=str(data["message"]), value=str(data["value"]))
    return problems
