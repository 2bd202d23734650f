"""What payment work needs outside a request: settings, databases and the SumUp gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.settings import Settings
from lib import lifecycle
from lib.db import databases, open_databases
from services.sumup import PaymentGateway, SumUpClient


def gateway_of(app: Quart) -> PaymentGateway:
    """The SumUp gateway over the app's shared httpx client."""
    return SumUpClient(lifecycle.http_client(app, "sumup"))


def sumup_http_client(settings: Settings) -> httpx.AsyncClient:
    """An httpx client for SumUp as the app opens it (for commands and worker processes)."""
    return httpx.AsyncClient(
        base_url=settings.sumup_api_base,
        timeout=httpx.Timeout(settings.sumup_timeout_seconds, connect=5.0),
    )


@dataclass(frozen=True)
class PaymentsRuntime:
    """Everything a background pass or an operator command works with."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    federation_sessionmaker: async_sessionmaker[AsyncSession]
    gateway: PaymentGateway

    @classmethod
    def of_app(cls, app: Quart) -> PaymentsRuntime:
        """The serving app's databases and gateway."""
        dbs = databases(app)
        return cls(
            settings=lifecycle.settings_of(app),
            engine=dbs.engine,
            sessionmaker=dbs.sessionmaker,
            federation_sessionmaker=dbs.federation_sessionmaker,
            gateway=gateway_of(app),
        )


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[PaymentsRuntime]:
    """Databases and a SumUp client of their own, closed on exit (commands, worker processes)."""
    from services.registry import register_domain_services

    if settings.database_url is None:
        raise RuntimeError("DATABASE_URL is not set")
    register_domain_services(settings)
    dbs = open_databases(settings)
    http = sumup_http_client(settings)
    try:
        yield PaymentsRuntime(
            settings=settings,
            engine=dbs.engine,
            sessionmaker=dbs.sessionmaker,
            federation_sessionmaker=dbs.federation_sessionmaker,
            gateway=SumUpClient(http),
        )
    finally:
        await http.aclose()
        await dbs.dispose()
