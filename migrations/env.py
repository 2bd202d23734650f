"""Alembic environment: async engine on DATABASE_URL, both metadata branches."""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

import path_setup  # noqa: F401  (makes the project importable when alembic runs from elsewhere)
from config.settings import resolve_database_url
from lib.db import normalise_database_url
from models import CartBase, SharedBase

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = [SharedBase.metadata, CartBase.metadata]


def database_url() -> str:
    try:
        # DATABASE_URL, or the seeds' DATABASE_URL_ASYNC, as the service itself reads them.
        url = config.get_main_option("sqlalchemy.url") or resolve_database_url(
            os.environ.get("DATABASE_URL"), os.environ.get("DATABASE_URL_ASYNC")
        )
    except ValueError as error:
        raise SystemExit(str(error)) from None
    if not url:
        raise SystemExit(
            "DATABASE_URL (or DATABASE_URL_ASYNC) is not set: alembic does not know which "
            "database to migrate"
        )
    return normalise_database_url(url)


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    section = config.get_section(config.config_ini_section, {})
    section["sqlalchemy.url"] = database_url()
    connectable = async_engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await connectable.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
