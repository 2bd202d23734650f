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

from sqlalchemy import (
    ARRAY,
    BigInteger,
    String,
    Table,
    any_,
    bindparam,
    delete,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lib.db import Query, execute_in_transaction
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
_INSERT_EVENT = Query(
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
    written = (
        await execute_in_transaction(
            session,
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
    ).scalar()
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
    """What one relay pass did (`dead_lettered`: rows among the failed ones given up on;
    `unreachable`: the pass ended because the federation store could not be reached)."""

    delivered: int = 0
    failed: int = 0
    dead_lettered: int = 0
    unreachable: bool = False


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

    Rows are locked with SKIP LOCKED so that relays on several workers share the work. The
    batch goes to the store in one statement and one transaction, and is marked delivered in
    one: a paid order writes two rows, and each row cost a transaction of the store's and a
    statement of the relay's when they went one at a time. A row delivered but not yet marked
    (a crash in between) is delivered again next time, and the federation store ignores it by
    its activity id.

    When the store refuses the batch, each row is delivered alone, so that one row it
    refuses never holds up the others: that row waits before its next attempt
    (`retry_delay`) and is dead-lettered after `max_attempts` refusals. A store that cannot be
    reached refuses nothing: the pass ends, and no row is counted against. With `stop`, the
    pass ends after the delivery in hand.
    """
    relay = _Relay(federation_sessionmaker, max_attempts, backoff_seconds)
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
        if rows and not (stop is not None and stop.is_set()):
            try:
                await _deliver_all(federation_sessionmaker, rows)
            except Exception as exc:  # the store's refusal of one row, or the store is down
                if database_unavailable(exc):
                    await relay.store_unreachable(session, rows[0], exc)
                else:
                    await relay.one_by_one(session, rows, stop)
            else:
                await session.execute(_MARK_DELIVERED, {"ids": [row.id for row in rows]})
                relay.delivered = len(rows)
        await session.commit()
    result = relay.result()
    if result.delivered or result.failed:
        log.info(
            "relay: %d delivered, %d failed, %d dead-lettered",
            result.delivered,
            result.failed,
            result.dead_lettered,
        )
    return result


# Rows the store has now: marked delivered in the relay's transaction.
_MARK_DELIVERED = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))
    .values(
        delivered_at=func.now(),
        last_attempt_at=func.now(),
        attempts=_OUTBOX.c.attempts + 1,
        last_error=None,
    )
)


@dataclass
class _Relay:
    """One pass's deliveries of rows one at a time, and its counts."""

    federation_sessionmaker: async_sessionmaker[AsyncSession]
    max_attempts: int
    backoff_seconds: float
    delivered: int = 0
    failed: int = 0
    dead_lettered: int = 0
    unreachable: bool = False

    def result(self) -> RelayResult:
        return RelayResult(
            delivered=self.delivered,
            failed=self.failed,
            dead_lettered=self.dead_lettered,
            unreachable=self.unreachable,
        )

    async def one_by_one(
        self, session: AsyncSession, rows: Sequence[OutboxEvent], stop: asyncio.Event | None
    ) -> None:
        """Deliver each row alone: one the store refuses waits, the others go."""
        for row in rows:
            if stop is not None and stop.is_set():
                break
            try:
                await _deliver(self.federation_sessionmaker, row)
            except Exception as exc:  # one bad row or an unreachable store must not stop the rest
                if database_unavailable(exc):
                    await self.store_unreachable(session, row, exc)
                    break
                await self.refused(session, row, exc)
                continue
            await session.execute(_MARK_DELIVERED, {"ids": [row.id]})
            self.delivered += 1

    async def store_unreachable(
        self, session: AsyncSession, row: OutboxEvent, exc: Exception
    ) -> None:
        """The store could not be reached: the attempt is noted, and counts against no row."""
        log.warning("relay: the federation store is unreachable: %s", exc)
        self.failed += 1
        self.unreachable = True
        await _record_attempt(session, row, error=_error_text(exc))

    async def refused(self, session: AsyncSession, row: OutboxEvent, exc: Exception) -> None:
        """The store refused the row: it waits longer each time, then is dead-lettered."""
        self.failed += 1
        error = _error_text(exc)
        failures = row.failures + 1
        if failures >= self.max_attempts:
            self.dead_lettered += 1
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
            await _record_attempt(session, row, error=error, failures=failures, dead_lettered=True)
        else:
            log.warning("relay of outbox event %s failed: %s", row.id, exc)
            await _record_attempt(
                session,
                row,
                error=error,
                failures=failures,
                wait=retry_delay(failures, base_seconds=self.backoff_seconds),
            )


def _error_text(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]


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


# The activities of a batch of rows for the federation store, as one row each from arrays
# bound as parameters (one statement, prepared once, whatever the batch holds); one the store
# already has, by activity id, is left as it is.
_ACTIVITIES = cast(Table, FederationActivity.__table__)
_INSERT_ACTIVITIES = (
    insert(_ACTIVITIES)
    .from_select(
        ["activity_id", "activity_type", "source", "payload"],
        select(
            func.unnest(bindparam("activity_ids", type_=ARRAY(_ACTIVITIES.c.activity_id.type))),
            func.unnest(bindparam("activity_types", type_=ARRAY(String))),
            literal(SOURCE),
            func.unnest(bindparam("payloads", type_=ARRAY(_ACTIVITIES.c.payload.type))),
        ),
    )
    .on_conflict_do_nothing(index_elements=["activity_id"])
)


async def _deliver(
    federation_sessionmaker: async_sessionmaker[AsyncSession], row: OutboxEvent
) -> None:
    """Insert one activity into the federation store; a second insert is a no-op."""
    await _deliver_all(federation_sessionmaker, [row])


async def _deliver_all(
    federation_sessionmaker: async_sessionmaker[AsyncSession], rows: Sequence[OutboxEvent]
) -> None:
    """Insert the rows' activities into the federation store in one transaction: all of
    them, or (the store refusing one) none. One it already has is left as it is."""
    async with federation_sessionmaker() as federation:
        await federation.execute(
            _INSERT_ACTIVITIES,
            {
                "activity_ids": [row.activity_id for row in rows],
                "activity_types": [row.activity_type for row in rows],
                "payloads": [row.payload for row in rows],
            },
        )
        await federation.commit()


async def relay_job(runtime: Runtime, stop: asyncio.Event) -> None:
    """Background job: relay the outbox every RELAY_INTERVAL_SECONDS until told to stop.

    A pass that found a whole batch due is followed at once by the next: every paid order
    writes two rows, and at a few thousand orders a minute a batch an interval per worker
    (40 rows a second on two workers, with the defaults) would leave the store further
    behind every minute. A pass that could not reach the store waits the interval, whatever
    it counted: its row waits for nothing, and would be tried again at once."""
    databases, settings = runtime.databases, runtime.settings

    async def until_caught_up() -> None:
        while not stop.is_set():
            result = await relay_outbox(
                sessionmaker=databases.sessionmaker,
                federation_sessionmaker=databases.federation_sessionmaker,
                batch_size=settings.relay_batch_size,
                max_attempts=settings.relay_max_attempts,
                backoff_seconds=settings.relay_backoff_seconds,
                stop=stop,
            )
            if result.unreachable or result.delivered + result.failed < settings.relay_batch_size:
                return

    await run_every(
        settings.relay_interval_seconds, until_caught_up, stop=stop, name="outbox relay"
    )
