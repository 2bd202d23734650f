"""The runtime: what the service holds for its lifetime, one per app, command or worker process.

Settings, the domain services made for them, and the background jobs are fixed when the
runtime is made (no I/O). The long-lived clients (the databases' engines, the two Redis
clients, the one HTTP session for SumUp and the gateway over it, the SMTP mailer) are made by
`open()` and closed by `close()`; the app does both in its serving hooks (bp/runtime.py), an
operator command or a worker process through `open_runtime()`. Nothing here is a module global: two
runtimes in one process share nothing.

Service functions never take the runtime: a route, a job or a command picks out what they
need (a session, `settings`, `gateway`, `domains`) and passes it on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from cachetools import TTLCache

from config.settings import Settings
from lib.db import Databases, open_databases
from lib.jobs import BackgroundJobs
from lib.metrics import Metrics, bind_metrics
from lib.redis import RedisClients, open_redis
from services.mail import Mailer, smtp_mailer
from services.registry import DomainServices, register_domain_services
from services.sumup import PaymentGateway, SumUpClient, open_session

# A job told to stop gets this long to finish its pass before it is cancelled.
JOB_STOP_GRACE_SECONDS = 10.0
SUMUP_CONNECT_TIMEOUT_SECONDS = 5.0

# Shoppers' names for the pages' header, when the shared session carries none: read from the
# account domain once a minute at most per shopper and worker (a rename shows within a minute),
# for the most recent shoppers of the worker.
SHOPPER_NAME_SECONDS = 60
SHOPPER_NAMES_KEPT = 10_000

# A background job: runs passes until the event is set, then returns.
Job = Callable[["Runtime", asyncio.Event], Coroutine[Any, Any, None]]

log = logging.getLogger(__name__)


class RuntimeNotOpen(RuntimeError):
    """A client was asked for before `open()`, after `close()`, or without its setting."""


class Runtime:
    """Settings, domain services, background jobs, and (while open) the long-lived clients.

    The clients are made by `open()`, not here, so that making an app needs no servers:
    `app = create_app()` runs whenever app.py is imported (by tests and tools), often with no
    database or Redis URL.
    """

    def __init__(self, settings: Settings, *, jobs: Sequence[Job] = ()) -> None:
        self.settings = settings
        self.domains: DomainServices = register_domain_services(settings)
        self.jobs: tuple[Job, ...] = tuple(jobs)
        # The runtime's own counters and histograms (lib/metrics.py); they connect to nothing.
        self.metrics = Metrics()
        # user id -> display name (None: the account domain has none).
        self.shopper_names: TTLCache[int, str | None] = TTLCache(
            maxsize=SHOPPER_NAMES_KEPT, ttl=SHOPPER_NAME_SECONDS
        )
        self._databases: Databases | None = None
        self._redis: RedisClients | None = None
        self._sumup_http: aiohttp.ClientSession | None = None
        self._gateway: PaymentGateway | None = None
        self._mailer: Mailer | None = None
        self._background: BackgroundJobs | None = None

    @property
    def is_open(self) -> bool:
        return self._sumup_http is not None

    @property
    def databases(self) -> Databases:
        """The cart's engine and sessionmaker, and the account and federation ones."""
        if self._databases is None:
            raise RuntimeNotOpen(self._missing("DATABASE_URL"))
        return self._databases

    @property
    def redis(self) -> RedisClients:
        """The shared sign-in index (`auth`) and the cart's own (`cart`)."""
        if self._redis is None:
            raise RuntimeNotOpen(self._missing("REDIS_URL"))
        return self._redis

    @property
    def gateway(self) -> PaymentGateway:
        """SumUp, over the runtime's one HTTP session."""
        if self._gateway is None:
            raise RuntimeNotOpen("the runtime is not open")
        return self._gateway

    @property
    def mailer(self) -> Mailer | None:
        """The SMTP server's client; None when mail is off (no SMTP_HOST) or not open."""
        return self._mailer

    def _missing(self, setting: str) -> str:
        return f"{setting} is not set" if self.is_open else "the runtime is not open"

    async def open(self) -> None:
        """Make the clients: an engine per database URL, Redis if configured, one for SumUp.

        No connection is made here; each client connects on first use.
        """
        if self.is_open:
            raise RuntimeError("the runtime is already open")
        settings = self.settings
        self._databases = open_databases(settings) if settings.database_url else None
        self._redis = open_redis(settings) if settings.redis_url else None
        self._sumup_http = open_session(
            answer_seconds=settings.sumup_timeout_seconds,
            connect_seconds=SUMUP_CONNECT_TIMEOUT_SECONDS,
        )
        self._gateway = SumUpClient(
            self._sumup_http, base_url=settings.sumup_api_base, metrics=self.metrics
        )
        self._mailer = smtp_mailer(settings)

    async def close(self) -> None:
        """Stop the jobs, then close every client (each at most once)."""
        await self.stop_jobs()
        http, redis, databases = self._sumup_http, self._redis, self._databases
        self._sumup_http = self._gateway = self._redis = self._databases = None
        self._mailer = None
        if http is not None:
            await http.close()
        if redis is not None:
            await redis.close()
        if databases is not None:
            await databases.dispose()

    def start_jobs(self) -> None:
        """Start each background job as a task (the runtime must be open)."""
        if self._background is not None:
            raise RuntimeError("the background jobs are already running")
        self._background = BackgroundJobs()
        for job in self.jobs:
            name = getattr(job, "__name__", repr(job))
            self._background.start(name, self._counted(job(self, self._background.stop)))

    async def _counted(self, job: Coroutine[Any, Any, None]) -> None:
        """Run `job` with this runtime's metrics bound to its task (its settlements count)."""
        bind_metrics(self.metrics)
        await job

    @property
    def running_jobs(self) -> list[str]:
        """The names of the background jobs running now."""
        return self._background.running if self._background is not None else []

    def request_stop(self) -> None:
        """Tell the background jobs to stop after the pass in hand, without waiting for them
        (a signal handler's first step; `stop_jobs` waits)."""
        if self._background is not None:
            self._background.stop.set()

    async def stop_jobs(self, *, grace_seconds: float = JOB_STOP_GRACE_SECONDS) -> None:
        """Tell the jobs to stop; a pass in progress finishes, a job still running after
        `grace_seconds` is cancelled."""
        background, self._background = self._background, None
        if background is not None:
            await background.stop_all(grace_seconds=grace_seconds)


@asynccontextmanager
async def open_runtime(settings: Settings, *, jobs: Sequence[Job] = ()) -> AsyncIterator[Runtime]:
    """An open runtime for an operator command or a worker process, closed on exit."""
    runtime = Runtime(settings, jobs=jobs)
    await runtime.open()
    try:
        yield runtime
    finally:
        await runtime.close()
