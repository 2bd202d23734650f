"""A page reads its waiting notices and refused values together, once, and removes them."""

from __future__ import annotations

from quart import Quart

from bp.cart.services.field_problems import FieldProblem, remember_problem
from bp.cart.services.notices import push_notices
from bp.cart.services.waiting import Waiting, pop_waiting
from bp.runtime import runtime

SID = "waiting-session"


async def test_notices_and_problems_are_read_once_and_removed(app: Quart) -> None:
    redis = runtime(app).redis.cart
    await push_notices(redis, session_sid=SID, messages=["Your cart was kept.", "Welcome back."])
    problem = FieldProblem(message="The quantity must be a whole number from 1 to 99.", value="0")
    await remember_problem(redis, session_sid=SID, field_id="add-7", problem=problem)

    first = await pop_waiting(redis, session_sid=SID)
    second = await pop_waiting(redis, session_sid=SID)

    assert first == Waiting(
        notices=["Your cart was kept.", "Welcome back."], problems={"add-7": problem}
    )
    assert second == Waiting()


async def test_another_session_keeps_its_own(app: Quart) -> None:
    redis = runtime(app).redis.cart
    await push_notices(redis, session_sid=SID, messages=["Yours."])

    assert await pop_waiting(redis, session_sid="someone-else") == Waiting()
    assert (await pop_waiting(redis, session_sid=SID)).notices == ["Yours."]
