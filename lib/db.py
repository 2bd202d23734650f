"""The async engines: the cart's own, and the account and federation ones (the same until split).

Opened by the runtime (services/runtime.py); a request's session comes from bp/runtime.py.

A restarted database leaves the pool holding connections it closed. No round trip is spent
finding them (no pre-ping): the driver has already seen each one close, and a connection it
knows to be closed is swapped for a fresh one when it is taken from the pool. A connection
lost without the driver noticing fails its first statement; SQLAlchemy then invalidates it
and every connection pooled before it, so only that request fails (503, lib/error_handlers).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any
from uuid import uuid4

import asyncpg
from sqlalchemy import BindParameter, Executable, event
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.exc import DisconnectionError, MultipleResultsFound, NoResultFound
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import greenlet_spawn

from config.settings import Settings
from lib.errors import database_unavailable

# The engine's own execution option: whether a statement that is a whole transaction may run
# alone in autocommit (see execute_alone).
ALONE_IN_AUTOCOMMIT = "cart_alone_in_autocommit"


def normalise_database_url(url: str) -> str:
    """Accept plain postgres:// URLs (as operators write them) and use the asyncpg driver."""
    for prefix in (
        "postgres://",
        "postgresql://",
        "postgresql+psycopg2://",
        "postgresql+psycopg://",
    ):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


@dataclass
class Databases:
    """The cart's engine, and the account and federation engines (the same one until split)."""

    engine: AsyncEngine
    account_engine: AsyncEngine
    federation_engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    federation_sessionmaker: async_sessionmaker[AsyncSession]
    # The account domain's database, read for shoppers' names and addresses.
    account_sessionmaker: async_sessionmaker[AsyncSession]

    async def dispose(self) -> None:
        for engine in {id(e): e for e in self.engines()}.values():
            await engine.dispose()

    def engines(self) -> list[AsyncEngine]:
        return [self.engine, self.account_engine, self.federation_engine]


def make_engine(url: str, *, pool_size: int, pgbouncer: bool = False) -> AsyncEngine:
    """An engine whose pool never hands out a connection the driver knows to be closed.

    It holds up to twice `pool_size` connections, as it always could (the pool plus as many
    again for bursts), but keeps every one it opens: a pool that closed its overflow at each
    return opened and closed connections all the time under steady load (343 in 40 s of the
    hot-path benchmark), each a new PostgreSQL backend to start.
    """
    # Bounded so that an unreachable database answers readiness probes quickly.
    connect_args: dict[str, Any] = {"timeout": 5, "command_timeout": 30}
    if pgbouncer:
        # Transaction pooling hands each transaction to whichever server connection is free,
        # so a statement prepared and cached on one is unknown (or its name taken) on the
        # next: no cache, and each statement SQLAlchemy still prepares (to learn its result
        # types) gets a name of its own (SQLAlchemy's asyncpg dialect, "Prepared Statement
        # Name with PGBouncer").
        connect_args.update(
            statement_cache_size=0,
            prepared_statement_cache_size=0,
            prepared_statement_name_func=_unique_statement_name,
        )
    engine = create_async_engine(
        normalise_database_url(url),
        pool_size=2 * pool_size,
        max_overflow=0,
        pool_timeout=10,
        connect_args=connect_args,
        # Behind PgBouncer a statement alone in autocommit may be prepared on one server
        # connection and executed on another (each Sync ends PgBouncer's "transaction"), so
        # there every statement runs inside a transaction.
        execution_options={ALONE_IN_AUTOCOMMIT: not pgbouncer},
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    return engine


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid4()}__"


def _refuse_closed_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Pool checkout: a connection the server closed is replaced (SQLAlchemy retries the
    checkout with a new one), which costs no round trip."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the database closed this connection")


class Query:
    """A statement of the hot paths, compiled once to the driver's SQL.

    Run alone (see execute_alone), it goes straight to asyncpg on a pooled connection: the
    driver's own cache of prepared statements finds it by its text, and none of SQLAlchemy's
    per-execution work (cache key, execution context, result metadata) is done; that work
    was most of a badge's cost. In a transaction it goes to the driver of the transaction's
    connection (see execute_in_transaction); alone behind PgBouncer, through the session as
    any other. Only plain values bind (no IN lists that expand: an array and `= ANY(...)`
    instead), converted as SQLAlchemy converts them (a JSON document serialised), and rows
    come back as the driver reads them: the hot paths read integers, text, amounts and
    times, which need no conversion.
    """

    __slots__ = ("defaults", "names", "processors", "sql", "statement")

    def __init__(self, statement: Executable) -> None:
        compiled = statement.compile(dialect=_DIALECT)  # type: ignore[attr-defined]
        if compiled.positiontup is None or "POSTCOMPILE" in compiled.string:
            raise ValueError("a Query binds plain positional values only")
        self.statement = statement
        # The statement's own literals (a state, a kind, zero) are written into its text, and
        # only the caller's values (an owner, a slug, an id) stay parameters. With every
        # literal a parameter, PostgreSQL judged a plan made without their values worse than
        # one made with them, and planned the page's and the overview's statements afresh at
        # each run: about 1 ms of its CPU for 0.2 to 0.3 ms of execution. With them written in,
        # the plan it makes once is as good as any, and it keeps it.
        kept: list[str] = []
        placeholders: dict[int, str] = {}
        computed = [
            column.name for column in (*compiled.insert_prefetch, *compiled.update_prefetch)
        ]
        if computed:
            # A value SQLAlchemy computes at each execution (a column's Python `default` or
            # `onupdate`) is not computed on the driver: such a statement sets it itself.
            raise ValueError(f"a Query cannot compute {', '.join(computed)} at each run")
        for number, name in enumerate(compiled.positiontup, start=1):
            written = _written(compiled.binds[name])
            if written is None:
                kept.append(name)
                written = f"${len(kept)}"
            placeholders[number] = written
        self.sql = _PLACEHOLDER.sub(lambda found: placeholders[int(found[1])], compiled.string)
        self.names = tuple(kept)
        # The values the statement carries itself (its named defaults), for names the caller
        # omits.
        self.defaults = {name: compiled.binds[name].effective_value for name in kept}
        # What SQLAlchemy does to a value of such a type before the driver sends it (a JSON
        # document serialised, say), by the value's position.
        self.processors = tuple(
            (position, processor)
            for position, name in enumerate(kept)
            if (processor := compiled.binds[name].type._cached_bind_processor(_DIALECT)) is not None
        )

    def arguments(self, params: Mapping[str, Any] | None) -> list[Any]:
        """The driver's positional arguments: the caller's values, else the statement's own,
        as SQLAlchemy would bind them."""
        given = params or {}
        values = [given[name] if name in given else self.defaults[name] for name in self.names]
        for position, processor in self.processors:
            values[position] = processor(values[position])
        return values


_PLACEHOLDER = re.compile(r"\$(\d+)")


def _written(bind: BindParameter[Any]) -> str | None:
    """A literal of the statement as SQL text (its cast follows it in the compiled text), or
    None to keep it a parameter: a named value (which a caller may give), a value computed at
    execution, or a value this cannot be trusted to spell."""
    if not bind.unique or bind.callable is not None or bind.value is None:
        return None
    value = bind.value
    processor = bind.type._cached_bind_processor(_DIALECT)
    if processor is not None:
        value = processor(value)
    if not isinstance(value, list | tuple):
        return _scalar(value)
    items = [_scalar(item) for item in value]
    spelled = [item for item in items if item is not None]
    return f"ARRAY[{','.join(spelled)}]" if len(spelled) == len(items) else None


def _scalar(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, Decimal) and value.is_finite()):
        return f"({value})"
    if isinstance(value, str) and not any(mark in value for mark in "\x00\\"):
        return "'" + value.replace("'", "''") + "'"
    return None


_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


class Rows:
    """A statement's rows, read alike whichever way it ran, by position (`row[0]`)."""

    __slots__ = ("_rows",)

    def __init__(self, rows: Sequence[Sequence[Any]]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[Sequence[Any]]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def all(self) -> list[Sequence[Any]]:
        return list(self._rows)

    def first(self) -> Sequence[Any] | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Sequence[Any]:
        if not self._rows:
            raise NoResultFound("no row was found when one was required")
        if len(self._rows) > 1:
            raise MultipleResultsFound("more than one row was found when one was required")
        return self._rows[0]

    def scalar(self) -> Any:
        """The first column of the first row, or None without rows."""
        return self._rows[0][0] if self._rows else None


class rolled_back_on_error:
    """Roll back the session's transaction when the block fails or is cancelled, and let the
    error go on: what a service began under its locks never waits for the request's end."""

    __slots__ = ("session",)

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is not None:
            await self.session.rollback()


async def execute_alone(
    session: AsyncSession, query: Query, params: dict[str, Any] | None = None
) -> Rows:
    """Run a statement that is a whole transaction by itself (a read, or a single write that
    may commit at once): in the session's transaction when it has one (so that it sees what
    the request wrote and has not committed, and commits with it), else alone in autocommit,
    on the driver itself (see Query).

    Alone, it costs one round trip instead of three (no BEGIN, no COMMIT or ROLLBACK), and its
    connection goes back to the pool as soon as the rows are read rather than when the
    request ends.
    """
    if session.in_transaction():
        return await execute_in_transaction(session, query, params)
    engine = session.bind
    if not isinstance(engine, AsyncEngine) or not runs_alone(engine):
        return Rows((await session.execute(query.statement, params)).all())
    return Rows(await fetch_on_driver(engine, query, params))


async def execute_in_transaction(
    session: AsyncSession, query: Query, params: dict[str, Any] | None = None
) -> Rows:
    """Run a statement in the session's transaction (begun by it when there is none yet), on
    the driver of the transaction's connection once the transaction has begun there.

    Through the session, a statement costs SQLAlchemy's execution around the driver's (a
    greenlet, the cache key, an execution context, the result's metadata): about 120 µs of
    a worker's CPU each, and a checkout and its settlement run fifteen inside their
    transactions. On the driver, in the same transaction, it sees and is seen by every other
    statement the session runs, and commits or rolls back with them. The transaction's first
    statement still goes through the session, which sends its BEGIN; so does any statement
    while ORM objects wait to be flushed (the session flushes them first), and every
    statement of a session bound to something other than one engine. Behind PgBouncer the
    driver prepares the statement unnamed on the connection the transaction holds, which
    transaction pooling allows.
    """
    found = await _transaction_driver(session)
    if found is None:
        return Rows((await session.execute(query.statement, params)).all())
    connection, driver = found
    try:
        rows: Sequence[Sequence[Any]] = await driver.fetch(query.sql, *query.arguments(params))
    except BaseException as error:
        # As SQLAlchemy does with its own statements: a connection that can no longer be
        # trusted is invalidated, and its transaction then ends without a round trip.
        if not isinstance(error, Exception) or _connection_lost(error, driver):
            await connection.invalidate(error)
        raise
    return Rows(rows)


# Where a session keeps its transaction's connection and driver between statements (its
# `info`), so that each statement after the first costs no greenlet to find them.
_TRANSACTION_DRIVER = "lib.db.transaction_driver"


async def _transaction_driver(session: AsyncSession) -> tuple[AsyncConnection, Any] | None:
    """The session's transaction's connection and asyncpg connection, when a statement may
    run there directly: the transaction has begun on the driver and nothing waits to flush."""
    transaction = session.sync_session.get_transaction()
    if transaction is None or session.new or session.dirty or session.deleted:
        return None
    kept = session.info.get(_TRANSACTION_DRIVER)
    if kept is None or kept[0] is not transaction:
        if not isinstance(session.bind, AsyncEngine):
            return None
        connection = await session.connection()
        pooled = await connection.get_raw_connection()
        kept = (transaction, connection, pooled.driver_connection)
        session.info[_TRANSACTION_DRIVER] = kept
    _, connection, driver = kept
    if driver is None or not driver.is_in_transaction():
        return None
    return connection, driver


async def commit_begun(session: AsyncSession) -> None:
    """Commit what the session began: nothing when its statements ran alone (execute_alone)
    and nothing waits to be flushed. SQLAlchemy's commit would otherwise begin an empty
    transaction only to commit it: no round trip, but a greenlet and its state machine, about
    3 % of an add's CPU on a worker."""
    if session.in_transaction() or session.new or session.dirty or session.deleted:
        await session.commit()


def runs_alone(engine: AsyncEngine) -> bool:
    """Whether a statement may run alone in autocommit on this engine (not behind PgBouncer)."""
    return bool(engine.get_execution_options().get(ALONE_IN_AUTOCOMMIT, True))


async def fetch_on_driver(
    engine: AsyncEngine, query: Query, params: Mapping[str, Any] | None
) -> Sequence[Sequence[Any]]:
    """`query` on a pooled connection's asyncpg connection, outside any transaction.

    No transaction is begun through SQLAlchemy on that connection, so returning it to the
    pool costs no round trip. A connection that fails is invalidated, as SQLAlchemy does with
    its own: the pool opens a fresh one next time, and the error is answered 503
    (lib/error_handlers.py).
    """
    pooled = await engine.raw_connection()
    driver: Any = pooled.driver_connection
    try:
        rows: Sequence[Sequence[Any]] = await driver.fetch(query.sql, *query.arguments(params))
    except BaseException as error:
        if not isinstance(error, Exception) or _connection_lost(error, driver):
            await greenlet_spawn(pooled.invalidate, error)
        else:
            pooled.close()
        raise
    pooled.close()
    return rows


def _connection_lost(error: Exception, driver: Any) -> bool:
    """Whether the connection can no longer be trusted after `error`: closed, cut off, out of
    step with the server, or told by the server that it is going (a shutdown's "terminating
    connection", which can arrive before the driver has seen the connection close); a
    statement's own error, say a constraint, leaves it usable."""
    return (
        driver.is_closed()
        or not isinstance(error, asyncpg.PostgresError)
        or database_unavailable(error)
    )


def open_databases(settings: Settings) -> Databases:
    """Create the engines; URLs that are the same share one engine and one pool."""
    assert settings.database_url is not None, "DATABASE_URL must be resolved before serving"
    engines: dict[str, AsyncEngine] = {}

    def engine_for(url: str | None) -> AsyncEngine:
        key = normalise_database_url(url or settings.database_url or "")
        if key not in engines:
            engines[key] = make_engine(
                key, pool_size=settings.database_pool_size, pgbouncer=settings.database_pgbouncer
            )
        return engines[key]

    engine = engine_for(settings.database_url)
    federation = engine_for(settings.database_url_federation)
    account = engine_for(settings.database_url_account)
    return Databases(
        engine=engine,
        account_engine=account,
        federation_engine=federation,
        sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
        federation_sessionmaker=async_sessionmaker(federation, expire_on_commit=False),
        account_sessionmaker=async_sessionmaker(account, expire_on_commit=False),
    )
