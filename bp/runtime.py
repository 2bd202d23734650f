"""The web layer's door to the app's Runtime (services/runtime.py), and the request's DB session.

`install_runtime` keeps the runtime on the app and ties it to the serving hooks: its clients
open and its background jobs start before the first request, and at shutdown the jobs stop
(a pass in progress finishes) and the clients close. A worker told SIGTERM stops the
service gracefully (lib/graceful_stop.py). Routes and request hooks reach it with
`current_runtime()`, tests and tools with `runtime(app)`: the only two ways in.
"""

from __future__ import annotations

import gc

from jinja2 import Environment
from quart import Quart, current_app, g
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from lib.graceful_stop import stop_gracefully_on_sigterm
from services.runtime import Runtime

EXTENSION = "runtime"
SESSION_KEY = "db_session"


def install_runtime(app: Quart, runtime: Runtime) -> None:
    """Keep `runtime` on `app`; open it and start its jobs with serving, stop and close after."""
    app.extensions[EXTENSION] = runtime

    @app.before_serving
    async def start_serving() -> None:
        settings = runtime.settings
        if settings.database_url is None or settings.redis_url is None:
            raise RuntimeError(
                "DATABASE_URL and REDIS_URL must be set (or start through `python3 dev.py serve`, "
                "which provides embedded ones)"
            )
        await runtime.open()
        runtime.start_jobs()
        stop_gracefully_on_sigterm(runtime.request_stop)
        # What is made by now (modules, the app, its routes, templates and clients) lives as
        # long as the worker: frozen, the collector's full passes no longer walk it all (a
        # pause of about 10 ms every few hundred requests, in process). Once per process: a
        # worker serves one app, and a test run's later apps are left to the collector.
        if gc.get_freeze_count() == 0:
            gc.freeze()

    @app.after_serving
    async def stop_serving() -> None:
        await runtime.close()

    app.teardown_appcontext(close_request_session)


def runtime(app: Quart) -> Runtime:
    """The app's runtime."""
    installed: Runtime = app.extensions[EXTENSION]
    return installed


def current_runtime() -> Runtime:
    """The runtime of the app handling this request."""
    return runtime(current_app)


def template_settings(environment: Environment) -> Settings:
    """The settings of the app whose templates `environment` renders, for a filter that runs
    many times a page (`money`, the dates): its `settings` global (app.py), one dict lookup,
    where `current_runtime()` goes through the app context's proxies at every call."""
    settings = environment.globals.get("settings")
    if isinstance(settings, Settings):
        return settings
    return current_runtime().settings


def request_session() -> AsyncSession:
    """The request's DB session, opened on first use and closed at teardown."""
    session: AsyncSession | None = g.get(SESSION_KEY)
    if session is None:
        session = current_runtime().databases.sessionmaker()
        setattr(g, SESSION_KEY, session)
    return session


async def close_request_session(_exc: BaseException | None = None) -> None:
    """Teardown: close the session, rolling back whatever a service did not commit.

    A session with no transaction holds no connection (its reads ran alone, or it committed):
    there is nothing to give back, and it is simply dropped."""
    session: AsyncSession | None = g.pop(SESSION_KEY, None)
    if session is not None and session.in_transaction():
        await session.close()
