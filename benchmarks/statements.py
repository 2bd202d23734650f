"""Counting the SQL statements the service sends, on the server side, with pg_stat_statements.

The extension must be preloaded (`shared_preload_libraries = 'pg_stat_statements'`, which takes
a server restart); the benchmark only creates it in its own database and resets and reads that
database's counters. Transaction control and pool pings are counted apart from the work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET", "SHOW", "DISCARD")
PINGS = ("SELECT 1", "SELECT $1", ";")
# asyncpg's lookup of a type it meets for the first time on a connection (an array, a row),
# with JIT switched off around it: once per connection and type, not work of the checkout
# (tests/support/statements.py leaves them out too).
DRIVER_LOOKUPS = (
    "WITH RECURSIVE TYPEINFO_TREE",
    "SELECT CURRENT_SETTING('JIT')",
    "SELECT SET_CONFIG('JIT'",
)
# The counters of this module's own reads and resets.
OWN_MARK = "pg_stat_statements"


@dataclass(frozen=True)
class StatementCount:
    """Statements the service ran between a reset and a read."""

    work: int
    control: int
    pings: int
    driver: int = 0
    by_text: list[tuple[int, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.work + self.control + self.pings + self.driver


async def statements_available(connection: asyncpg.Connection) -> str | None:
    """None when counting works here; otherwise why not, and how to enable it."""
    preload = str(await connection.fetchval("SHOW shared_preload_libraries"))
    if "pg_stat_statements" not in preload:
        return (
            "pg_stat_statements is not preloaded on this server; enable it with "
            "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements' and a restart"
        )
    await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return None


async def reset(connection: asyncpg.Connection) -> None:
    """Forget the counters of this database only."""
    # One statement, so that nothing but the (skipped) reset itself is counted afterwards.
    await connection.execute(
        "SELECT pg_stat_statements_reset(0, "
        "(SELECT oid FROM pg_database WHERE datname = current_database()), 0)"
    )


def kind_of(query: str) -> str:
    text = " ".join(query.split()).rstrip(";").strip().upper()
    if text in PINGS or text == "":
        return "ping"
    if text.split(" ", 1)[0] in CONTROL:
        return "control"
    if text.startswith(DRIVER_LOOKUPS):
        return "driver"
    return "work"


async def read(connection: asyncpg.Connection) -> StatementCount:
    """Calls per statement in this database since the last reset, sorted by count."""
    rows = await connection.fetch(
        "SELECT query, calls FROM pg_stat_statements "
        "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "ORDER BY calls DESC, query"
    )
    totals = {"work": 0, "control": 0, "ping": 0, "driver": 0}
    by_text: list[tuple[int, str]] = []
    for row in rows:
        query, calls = str(row["query"]), int(row["calls"])
        if OWN_MARK in query:
            continue
        totals[kind_of(query)] += calls
        by_text.append((calls, " ".join(query.split())))
    return StatementCount(
        totals["work"], totals["control"], totals["ping"], totals["driver"], by_text
    )
