"""Migrations: up and down on an empty database, both branches, matching the models."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from lib.db import normalise_database_url
from models import CartBase, SharedBase
from tests.conftest import database_url_for, recreate_database

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = "cart_migrations_test"
CART_TABLES = {
    "cart_items",
    "orders",
    "order_checkouts",
    "order_items",
    "page_configs",
    "event_outbox",
    "sent_messages",
    "payment_attempts",
    "staff_actions",
}
SHARED_TABLES = {
    "pages",
    "products",
    "calendars",
    "calendar_slots",
    "calendar_entries",
    "ticket_types",
    "tickets",
    "ap_activities",
    "users",
}


def alembic(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url_for(SCRATCH)}
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )


async def table_names() -> set[str]:
    connection = await asyncpg.connect(database_url_for(SCRATCH))
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row["tablename"] for row in rows} - {"alembic_version"}
    finally:
        await connection.close()


@pytest.fixture
def scratch_database() -> Iterator[None]:
    asyncio.run(recreate_database(SCRATCH))
    yield


def test_upgrade_heads_then_downgrade_base(scratch_database: None) -> None:
    alembic("upgrade", "heads")
    assert asyncio.run(table_names()) == CART_TABLES | SHARED_TABLES
    alembic("downgrade", "base")
    assert asyncio.run(table_names()) == set()
    alembic("upgrade", "heads")
    assert asyncio.run(table_names()) == CART_TABLES | SHARED_TABLES


def test_the_cart_branch_alone_creates_only_the_cart_tables(scratch_database: None) -> None:
    # A coop deployment whose other apps already own the shared tables migrates only its branch.
    alembic("upgrade", "cart@head")
    assert asyncio.run(table_names()) == CART_TABLES
    alembic("downgrade", "cart@base")
    assert asyncio.run(table_names()) == set()


def test_one_head_per_branch() -> None:
    heads = alembic("heads").stdout
    assert heads.count("(head)") == 2
    assert "(cart)" in heads and "(shared)" in heads


def model_differences(connection: Connection) -> list[object]:
    differences: list[object] = []
    for metadata in (SharedBase.metadata, CartBase.metadata):
        # Each branch is compared on its own tables; the other branch's are not differences.
        tables = set(metadata.tables) | {"alembic_version"}
        context = MigrationContext.configure(
            connection,
            opts={
                "include_name": lambda name, kind, parent, tables=tables: (
                    kind != "table" or name in tables
                )
            },
        )
        differences.extend(d for d in compare_metadata(context, metadata) if d[0] != "remove_table")
    return differences


async def differences_from_models() -> list[object]:
    engine = create_async_engine(normalise_database_url(database_url_for(SCRATCH)))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(model_differences)
    finally:
        await engine.dispose()


def test_migrations_match_the_models(scratch_database: None) -> None:
    alembic("upgrade", "heads")
    assert asyncio.run(differences_from_models()) == []
