"""Counting the SQL statements the app sends, as the driver sees them (transaction control, which
asyncpg sends apart, is not among them)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from quart import Quart
from sqlalchemy import event

from bp.runtime import runtime


@contextmanager
def counting(app: Quart) -> Iterator[list[str]]:
    """Every statement the app's engine executes inside the block."""
    statements: list[str] = []
    engine = runtime(app).databases.engine.sync_engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # A pool ping's "SELECT 1" is a connection check, not work for the page.
        if statement.strip().upper() != "SELECT 1":
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
