"""Counting the SQL statements the app sends, as the driver sees them (transaction control, which
asyncpg sends apart, is not among them).

Statements reach asyncpg two ways: through SQLAlchemy's execution (seen by its
`before_cursor_execute` event), and the hot paths' `Query` objects straight on the driver
(lib/db.py; seen by asyncpg's query logger on each connection taken from the pool while
counting). Each statement passes one way only, so none is counted twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from asyncpg import introspection
from quart import Quart
from sqlalchemy import event
from sqlalchemy.engine.interfaces import CacheStats
from sqlalchemy.orm import Session, SessionTransaction

from bp.runtime import runtime

# What asyncpg sends for SQLAlchemy's transactions: not work for the page.
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
# The driver's own lookups of a type it meets for the first time on a connection (an array of
# ids, say), with JIT switched off around them: once per connection, not work for the page.
DRIVER_LOOKUPS = (
    introspection.INTRO_LOOKUP_TYPES,
    introspection.INTRO_LOOKUP_TYPES_13,
    introspection.TYPE_BY_NAME,
)


@contextmanager
def counting(app: Quart) -> Iterator[list[str]]:
    """Every statement the app's engine executes inside the block."""
    statements: list[str] = []
    engine = runtime(app).databases.engine.sync_engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # A pool ping's "SELECT 1" is a connection check, not work for the page.
        if statement.strip().upper() != "SELECT 1":
            statements.append(statement)

    def record_driver(query: Any) -> None:
        text = query.query
        if text.lstrip().upper().startswith(TRANSACTION_CONTROL) or text in DRIVER_LOOKUPS:
            return
        if "set_config('jit'" in text:
            return
        statements.append(text)

    with listening(engine, "before_cursor_execute", record), driver_queries(app, record_driver):
        yield statements


@contextmanager
def compiled_afresh(app: Quart) -> Iterator[list[str]]:
    """Every statement SQLAlchemy executes inside the block without finding it compiled
    already: compiled afresh (a first run), or not cacheable at all (a statement whose text
    depends on its values is compiled at every run)."""
    statements: list[str] = []
    engine = runtime(app).databases.engine.sync_engine

    def record(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, *_: Any
    ) -> None:
        if context.cache_hit is not CacheStats.CACHE_HIT:
            statements.append(f"{context.cache_hit.name}: {statement}")

    with listening(engine, "after_cursor_execute", record):
        yield statements


@contextmanager
def with_transactions(app: Quart) -> Iterator[list[str]]:
    """What `counting` sees, with each BEGIN, COMMIT and ROLLBACK where it was sent: to tell
    which statements one transaction ran."""
    with counting(app) as statements:

        def record_control(query: Any) -> None:
            if query.query.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
                statements.append(query.query.strip().rstrip(";").upper())

        with driver_queries(app, record_control):
            yield statements


@contextmanager
def transactions_begun(app: Quart) -> Iterator[list[str]]:
    """Every BEGIN the app's connections send inside the block (a read alone in autocommit
    sends none)."""
    begun: list[str] = []

    def record_driver(query: Any) -> None:
        if query.query.lstrip().upper().startswith("BEGIN"):
            begun.append(query.query)

    with driver_queries(app, record_driver):
        yield begun


@contextmanager
def session_transactions() -> Iterator[list[str]]:
    """Every transaction an ORM session of the app begins inside the block, sent or not (a
    commit of a session with nothing begun makes one, only to commit it)."""
    made: list[str] = []

    def record(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:
            made.append(f"{transaction.origin.name} in {session.bind}")

    with listening(Session, "after_transaction_create", record):
        yield made


@contextmanager
def driver_queries(app: Quart, record: Callable[[Any], None]) -> Iterator[None]:
    """`record` given each query asyncpg sends inside the block, on every connection the
    app's pool hands out meanwhile."""
    engine = runtime(app).databases.engine.sync_engine
    logged: list[Any] = []

    def watch(dbapi_connection: Any, record_: Any, proxy: Any) -> None:
        driver = dbapi_connection.driver_connection
        if driver not in logged:
            driver.add_query_logger(record)
            logged.append(driver)

    try:
        with listening(engine, "checkout", watch):
            yield
    finally:
        for driver in logged:
            driver.remove_query_logger(record)


@contextmanager
def listening(target: Any, name: str, listener: Callable[..., None]) -> Iterator[None]:
    """`listener` on SQLAlchemy's event `name` of `target` inside the block."""
    event.listen(target, name, listener)
    try:
        yield
    finally:
        event.remove(target, name, listener)
