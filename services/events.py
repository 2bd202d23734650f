"""Domain events: written to the outbox in the caller's transaction, relayed to federation later.

The outbox row is committed with the change it reports, so a crash can lose neither. The relay
delivers each row to the federation store (`ap_activities`) at least once; the stable activity
id makes a second delivery change nothing there.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lib.jobs import run_every
from models import FederationActivity, OutboxEvent
from services.runtime import Runtime

ACTIVITY_CONTEXT = "https://www.w3.org/ns/activitystreams"
# What the federation store records as the activity's origin.
SOURCE = "cart"
MAX_ERROR_LENGTH = 2000

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
    statement = (
        insert(OutboxEvent)
        .values(
            activity_id=activity_id,
            event_type=event_type,
            activity_type=activity_type,
            object_type=object_type,
            object_id=object_id,
            payload=activity,
        )
        .on_conflict_do_nothing(index_elements=["event_type", "object_id"])
        .returning(OutboxEvent.id)
    )
    written = await session.scalar(statement)
    if written is None:
        log.info("event %s for %s already in the outbox", event_type, object_id)
    return written is not None


@dataclass(frozen=True)
class RelayResult:
    """What one relay pass did."""

    delivered: int = 0
    failed: int = 0


async def relay_outbox(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    federation_sessionmaker: async_sessionmaker[AsyncSession],
    batch_size: int = 100,
) -> RelayResult:
    """Deliver up to `batch_size` undelivered outbox rows to the federation store, once each.

    Rows are locked with SKIP LOCKED so that relays on several workers share the work. A row
    delivered but not yet marked (a crash in between) is delivered again next time, and the
    federation store ignores it by its activity id.
    """
    delivered = failed = 0
    async with sessionmaker() as session:
        rows = list(
            await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.delivered_at.is_(None))
                .order_by(OutboxEvent.id)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            try:
                await _deliver(federation_sessionmaker, row)
            except Exception as exc:  # one bad row or an unreachable store must not stop the rest
                log.warning("relay of outbox event %s failed: %s", row.id, exc)
                await session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id == row.id)
                    .values(
                        attempts=OutboxEvent.attempts + 1,
                        last_error=f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH],
                    )
                )
                failed += 1
                continue
            await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == row.id)
                .values(
                    delivered_at=datetime.now(UTC),
                    attempts=OutboxEvent.attempts + 1,
                    last_error=None,
                )
            )
            delivered += 1
        await session.commit()
    if delivered or failed:
        log.info("relay: %d delivered, %d failed", delivered, failed)
    return RelayResult(delivered=delivered, failed=failed)


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
        ),
        stop=stop,
        name="outbox relay",
    )
