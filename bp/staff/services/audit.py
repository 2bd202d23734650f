"""The audit of the staff console: each action recorded with who, when, what and the outcome."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lib.errors import ServiceError
from models import StaffAction

T = TypeVar("T")
ACTIVITY_PAGE_SIZE = 50


@dataclass(frozen=True)
class Act:
    """What a staff member is about to do, in words for the audit."""

    staff_user_id: int
    action: str
    target: str
    order_id: int | None = None
    detail: str = ""


async def audited(
    session: AsyncSession,
    act: Act,
    run: Callable[[], Awaitable[T]],
    *,
    describe: Callable[[T], str],
) -> T:
    """Run the action, then record it: done (with `describe`'s words) or refused (with the
    message the staff member sees). The record is committed on its own, after the action's
    own commits, so a refusal's rollback cannot take it away."""
    try:
        result = await run()
    except ServiceError as error:
        await session.rollback()
        await record_action(session, act, outcome="refused", message=error.message)
        raise
    await record_action(session, act, outcome="done", message=describe(result))
    return result


async def record_action(session: AsyncSession, act: Act, *, outcome: str, message: str) -> None:
    """Write one audit row; commits."""
    session.add(
        StaffAction(
            staff_user_id=act.staff_user_id,
            action=act.action,
            target=act.target[:255],
            order_id=act.order_id,
            detail=act.detail,
            outcome=outcome,
            message=message,
        )
    )
    await session.commit()


async def order_actions(session: AsyncSession, *, order_id: int) -> list[StaffAction]:
    """The staff actions on one order, newest first."""
    return list(
        await session.scalars(
            select(StaffAction)
            .where(StaffAction.order_id == order_id)
            .order_by(StaffAction.created_at.desc(), StaffAction.id.desc())
        )
    )


@dataclass(frozen=True)
class ActivityPage:
    actions: list[StaffAction]
    page: int
    has_next: bool


async def staff_activity(session: AsyncSession, *, page: int) -> ActivityPage:
    """Every staff action, newest first, a page at a time."""
    rows = list(
        await session.scalars(
            select(StaffAction)
            .order_by(StaffAction.created_at.desc(), StaffAction.id.desc())
            .limit(ACTIVITY_PAGE_SIZE + 1)
            .offset((page - 1) * ACTIVITY_PAGE_SIZE)
        )
    )
    return ActivityPage(
        actions=rows[:ACTIVITY_PAGE_SIZE], page=page, has_next=len(rows) > ACTIVITY_PAGE_SIZE
    )
