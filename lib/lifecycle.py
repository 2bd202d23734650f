"""Long-lived clients: opened before serving, closed after; background jobs started here too."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from quart import Quart

from config.settings import Settings
from lib import db, redis

log = logging.getLogger(__name__)
HTTP_EXTENSION = "http_clients"
TASKS_EXTENSION = "background_tasks"
# Background jobs other modules add (the reconciler, the outbox relay): each gets the app.
BACKGROUND_JOBS: list[Callable[[Quart], Coroutine[Any, Any, None]]] = []


def install(app: Quart) -> None:
    """Register the open/close hooks."""

    @app.before_serving
    async def _open() -> None:
        await open_clients(app)

    @app.after_serving
    async def _close() -> None:
        await close_clients(app)


def settings_of(app: Quart) -> Settings:
    """The app's settings."""
    return app.extensions["settings"]


def http_client(app: Quart, name: str) -> httpx.AsyncClient:
    """The shared httpx client for one upstream (e.g. "sumup")."""
    return app.extensions[HTTP_EXTENSION][name]


async def open_clients(app: Quart) -> None:
    settings = settings_of(app)
    if settings.database_url is None or settings.redis_url is None:
        raise RuntimeError(
            "DATABASE_URL and REDIS_URL must be set (or start through `python3 dev.py serve`, "
            "which provides embedded ones)"
        )
    app.extensions[db.EXTENSION] = db.open_databases(settings)
    app.extensions[redis.EXTENSION] = redis.open_redis(settings)
    app.extensions[HTTP_EXTENSION] = {
        "sumup": httpx.AsyncClient(
            base_url=settings.sumup_api_base,
            timeout=httpx.Timeout(settings.sumup_timeout_seconds, connect=5.0),
        )
    }
    from services.registry import register_domain_services

    register_domain_services(settings)
    tasks = [asyncio.create_task(job(app)) for job in BACKGROUND_JOBS]
    app.extensions[TASKS_EXTENSION] = tasks


async def close_clients(app: Quart) -> None:
    for task in app.extensions.pop(TASKS_EXTENSION, []):
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("background job ended with an error")
    for client in app.extensions.pop(HTTP_EXTENSION, {}).values():
        await client.aclose()
    if redis.EXTENSION in app.extensions:
        await app.extensions.pop(redis.EXTENSION).close()
    if db.EXTENSION in app.extensions:
        await app.extensions.pop(db.EXTENSION).dispose()
