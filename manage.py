#!/usr/bin/env python3
"""Operator commands: wait for the database, flush the cart's own Redis index."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import path_setup  # noqa: F401
from config.settings import load_settings

WAIT_SECONDS = 60


async def wait_for_database() -> None:
    """Retry `SELECT 1` until the database answers or the time is up."""
    from sqlalchemy import text

    from lib.db import make_engine

    settings = load_settings()
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is not set")
    engine = make_engine(settings.database_url, pool_size=1)
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        while True:
            try:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
                print("database is up", flush=True)
                return
            except Exception as exc:  # any failure means "not yet": retry until the deadline
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"database not reachable after {WAIT_SECONDS}s: {exc}"
                    ) from exc
                await asyncio.sleep(1)
    finally:
        await engine.dispose()


async def flush_cart_redis() -> None:
    """FLUSHDB on the cart's own index only; the shared sign-in index is never touched."""
    from lib.redis import open_redis

    settings = load_settings()
    clients = open_redis(settings)
    try:
        await clients.cart.flushdb()
        print(f"flushed Redis index {settings.redis_cart_db} (cart)", flush=True)
    finally:
        await clients.close()


COMMANDS = {"wait-db": wait_for_database, "flush-cart-redis": flush_cart_redis}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=sorted(COMMANDS))
    args = parser.parse_args(argv)
    asyncio.run(COMMANDS[args.command]())


if __name__ == "__main__":
    main(sys.argv[1:])
