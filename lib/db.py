"""The async engines: the cart's own, and the account and federation ones (the same until split).

Opened by the runtime (services/runtime.py); a request's session comes from bp/runtime.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from config.settings import Settings


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


def make_engine(url: str, *, pool_size: int) -> AsyncEngine:
    """An engine that checks connections before use, so a restarted database costs one error."""
    return create_async_engine(
        normalise_database_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=10,
        # Bounded so that an unreachable database answers readiness probes quickly.
        connect_args={"timeout": 5, "command_timeout": 30},
    )


def open_databases(settings: Settings) -> Databases:
    """Create the engines; URLs that are the same share one engine and one pool."""
    assert settings.database_url is not None, "DATABASE_URL must be resolved before serving"
    engines: dict[str, AsyncEngine] = {}

    def engine_for(url: str | None) -> AsyncEngine:
        key = normalise_database_url(url or settings.database_url or "")
        if key not in engines:
            engines[key] = make_engine(key, pool_size=settings.database_pool_size)
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
