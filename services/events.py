"""Domain events: written to the outbox in the caller's transaction, relayed to federation later.

The outbox row is committed with the change it reports, so a crash can lose neither. The relay
delivers each row to the federation store (`ap_activities`) at least once; the stable activity
id makes a second delivery change nothing there. A row the store keeps refusing is retried
with a growing wait, then dead-lettered (`manage.py dead-letters`, `retry-dead-letters`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lib.errors import database_unavailable
from lib.jobs import run_every
from models import FederationActivity, OutboxEvent
from services.runtime import Runtime

ACTIVITY_CONTEXT = "https://www.w3.org/ns/activitystreams"
# What the federation store records as the activity's origin.
SOURCE = "cart"
MAX_ERROR_LENGTH = 2000
# Defaults of RELAY_MAX_ATTEMPTS and RELAY_BACKOFF_SECONDS; no row waits longer than an hour.
DEFAULT_MAX_ATTEMPTS = 10
DEFAULT_BACKOFF_SECONDS = 5.0
MAX_BACKOFF = timedelta(hours=1)

log = logging.getLogger(__name__)


def build_activity(
    *,
    activity_id: uuid.UUID,
    activity_type: str,
    actor: str,
    object_: dict[str, Any],
    published: datetime,
) -> dict[str, Any]:
    """An ActivityStreams activity around `object_`."""
    return {
        "@context": ACTIVITY_CONTEXT,
        "id": f"urn:uuid:{activity_id}",
        "type": activity_type,
        "actor": actor,
        "object": object_,
        "published": published.astimezone(UTC).isoformat(),
    }


# Built once (every checkout and settlement writes one): the outbox row, unless this event was
# already written for the object.
_OUTBOX = cast(Table, OutboxEvent.__table__)
_INSERT_EVENT = (
    insert(_OUTBOX)
    .values(
        {
            name: bindparam(name, type_=_OUTBOX.c[name].type)
            for name in (
                "activity_id",
                "event_type",
                "activity_type",
                "object_type",
                "object_id",
                "payload",
            )
        }
    )
    .on_conflict_do_nothing(index_elements=["event_type", "object_id"])
    .returning(_OUTBOX.c.id)
)


async def emit_event(
    session: AsyncSession,
    *,
    event_type: str,
    activity_type: str,
    object_type: str,
    object_id: str,
    payload: dict[str, Any],
    actor: str,
) -> bool:
    """Add the event to the outbox in the caller's transaction (the caller commits).

    `payload` is the activity's object; `object_type` is set as its type. Returns False when
    this event was already written for this object (UNIQUE(event_type, object_id)).
    """
    activity_id = uuid.uuid4()
    activity = build_activity(
        activity_id=activity_id,
        activity_type=activity_type,
        actor=actor,
        object_={"type": object_type, **payload},
        published=datetime.now(UTC),
    )
    written = await session.scalar(
        _INSERT_EVENT,
        {
            "activity_id": activity_id,
            "event_type": event_type,
            "activity_type": activity_type,
            "object_type": object_type,
            "object_id": object_id,
            "payload": activity,
        },
    )
    if written is None:
        log.info("event %s for %s already in the outbox", event_type, object_id)
    return written is not None


async def withdraw_event(session: AsyncSession, *, event_type: str, object_id: str) -> bool:
    """Take back an event the caller's transaction wrote and has not committed (the relay
    never saw it), to write it again as it turned out; False when there is none."""
    result: Any = await session.execute(
        delete(OutboxEvent).where(
            OutboxEvent.event_type == event_type,
            OutboxEvent.object_id == object_id,
            OutboxEvent.delivered_at.is_(None),
        )
    )
    return bool(result.rowcount)


@dataclass(frozen=True)
class RelayResult:
    """What one relay pass did (`dead_lettered`: rows among the failed ones given up on)."""

    delivered: int = 0
    failed: int = 0
    dead_lettered: int = 0


def retry_delay(failures: int, *, base_seconds: float) -> timedelta:
    """How long a row waits after its `failures`-th refusal: doubling, at most MAX_BACKOFF."""
    exponent = min(failures - 1, 30)
    return min(timedelta(seconds=base_seconds * 2**exponent), MAX_BACKOFF)


async def relay_outbox(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    federation_sessionmaker: async_sessionmaker[AsyncSession],
    batch_size: int = 100,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    backoff_seconds: float = DEFAULT_BACKOFF_SECONDS,
    stop: asyncio.Event | None = None,
) -> RelayResult:
    """Deliver up to `batch_size` due outbox rows to the federation store, once each.

    Rows are locked with SKIP LOCKED so that relays on several workers share the work. A row
    delivered but not yet marked (a crash in between) is delivered again next time, and the
    federation store ignores it by its activity id.

    A row the store refuses waits before its next attempt (`retry_delay`), so it never holds
    up the rows behind it, and is dead-lettered after `max_attempts` refusals. A store that
    cannot be reached refuses nothing: the pass ends, and no row is counted against.
    With `stop`, the pass ends after the row in hand.
    """
    delivered = failed = dead_lettered = 0
    async with sessionmaker() as session:
        rows = list(
            await session.scalars(
                select(OutboxEvent)
                .where(
                    OutboxEvent.delivered_at.is_(None),
                    OutboxEvent.dead_lettered_at.is_(None),
                    OutboxEvent.next_attempt_at <= func.now(),
                )
                .order_by(OutboxEvent.id)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            if stop is not None and stop.is_set():
                break
            try:
                await _deliver(federation_sessionmaker, row)
            except Exception as exc:  # one bad row or an unreachable store must not stop the rest
                failed += 1
                error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]
                if database_unavailable(exc):
                    log.warning("relay: the federation store is unreachable: %s", exc)
                    await _record_attempt(session, row, error=error)
                    break
                failures = row.failures + 1
                if failures >= max_attempts:
                    dead_lettered += 1
                    log.error(
                        "outbox event %s (%s for %s) dead-lettered after %d refusals: %s. "
                        "Fix the cause, then `manage.py retry-dead-letters %s`",
                        row.id,
                        row.event_type,
                        row.object_id,
                        failures,
                        error,
                        row.id,
                    )
                    await _record_attempt(
                        session, row, error=error, failures=failures, dead_lettered=True
                    )
                else:
                    log.warning("relay of outbox event %s failed: %s", row.id, exc)
                    await _record_attempt(
                        session,
                        row,
                        error=error,
                        failures=failures,
                        wait=retry_delay(failures, base_seconds=backoff_seconds),
                    )
                continue
            await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == row.id)
                .values(
                    delivered_at=datetime.now(UTC),
                    last_attempt_at=func.now(),
                    attempts=OutboxEvent.attempts + 1,
                    last_error=None,
                )
            )
            delivered += 1
        await session.commit()
    if delivered or failed:
        log.info(
            "relay: %d delivered, %d failed, %d dead-lettered", delivered, failed, dead_lettered
        )
    return RelayResult(delivered=delivered, failed=failed, dead_lettered=dead_lettered)


async def _record_attempt(
    session: AsyncSession,
    row: OutboxEvent,
    *,
    error: str,
    failures: int | None = None,
    wait: timedelta | None = None,
    dead_lettered: bool = False,
) -> None:
    """Note a failed attempt on the row (in the relay's transaction)."""
    values: dict[str, Any] = {
        "attempts": OutboxEvent.attempts + 1,
        "last_error": error,
        "last_attempt_at": func.now(),
    }
    if failures is not None:
        values["failures"] = failures
    if wait is not None:
        values["next_attempt_at"] = func.now() + wait
    if dead_lettered:
        values["dead_lettered_at"] = func.now()
    await session.execute(update(OutboxEvent).where(OutboxEvent.id == row.id).values(**values))


async def dead_letters(session: AsyncSession) -> list[OutboxEvent]:
    """The rows the relay gave up on, oldest first."""
    rows = list(
        await session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.dead_lettered_at.is_not(None))
            .order_by(OutboxEvent.id)
        )
    )
    await session.commit()
    return rows


async def retry_dead_letters(session: AsyncSession, *, ids: Sequence[int] = ()) -> int:
    """Put dead-lettered rows (those of `ids`, or all) back in the relay's queue, due now and
    with their count of refusals cleared; answers how many. Commits."""
    statement = (
        update(OutboxEvent)
        .where(OutboxEvent.dead_lettered_at.is_not(None), OutboxEvent.delivered_at.is_(None))
        .values(dead_lettered_at=None, failures=0, next_attempt_at=func.now())
        .returning(OutboxEvent.id)
    )
    if ids:
        statement = statement.where(OutboxEvent.id.in_(list(ids)))
    retried = list(await session.scalars(statement))
    await session.commit()
    if retried:
        log.warning("outbox events %s put back in the relay's queue", retried)
    return len(retried)


async def _deliver(
    federation_sessionmaker: async_sessionmaker[AsyncSession], row: OutboxEvent
) -> None:
    """Insert one activity into the federation store; a second insert is a no-op."""
    async with federation_sessionmaker() as federation:
        await federation.execute(
            insert(FederationActivity)
            .values(
                activity_id=row.activity_id,
                activity_type=row.activity_type,
                source=SOURCE,
                payload=row.payload,
            )
            .on_conflict_do_nothing(index_elements=["activity_id"])
        )
        await federation.commit()


async def relay_job(runtime: Runtime, stop: asyncio.Event) -> None:
    """Background job: relay the outbox every RELAY_INTERVAL_SECONDS until told to stop."""
    databases, settings = runtime.databases, runtime.settings
    await run_every(
        settings.relay_interval_seconds,
        lambda: relay_outbox(
            sessionmaker=databases.sessionmaker,
            federation_sessionmaker=databases.federation_sessionmaker,
            batch_size=settings.relay_batch_size,
            max_attempts=settings.relay_max_attempts,
            backoff_seconds=settings.relay_backoff_seconds,
            stop=stop,
        ),
        stop=stop,
        name="outbox relay",
    )
