"""What every throwaway server shares: free ports, the unprivileged user, waiting, log tails."""

from __future__ import annotations

import asyncio
import atexit
import os
import pwd
import shutil
import socket
import tempfile
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

HOST = "127.0.0.1"
# PostgreSQL and PgBouncer refuse to run as root; when we are root they run as this user
# (Debian's postgresql-common creates it), or as nobody on a machine without it.
SERVICE_USERS = ("postgres", "nobody")
PORT_ATTEMPTS = 3  # a free port can be taken between our probe and the server's bind
POLL_SECONDS = 0.05
LOG_TAIL_LINES = 30


class ServerError(RuntimeError):
    """A throwaway server did not start or stop in time; the message ends with its log tail."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def port_open(port: int, host: str = HOST) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def running_as_root() -> bool:
    return os.geteuid() == 0


def service_user() -> pwd.struct_passwd:
    """The unprivileged account the database servers run as when we are root."""
    for name in SERVICE_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ServerError(f"running as root and none of the users {SERVICE_USERS} exists")


def as_service_user(command: list[str]) -> list[str]:
    """`command` as the unprivileged user when we are root (`runuser -u … --`), else as is."""
    if not running_as_root():
        return command
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", service_user().pw_name, "--", *command]


def hand_over(path: Path) -> None:
    """Give `path` to the unprivileged user (when we are root), so that its server can write."""
    if running_as_root():
        user = service_user()
        os.chown(path, user.pw_uid, user.pw_gid)


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log file, or a note that there is none yet."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(text.splitlines()[-lines:]) or f"({path} is empty)"


def wait_for(
    ready: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    log: Path,
    alive: Callable[[], bool] = lambda: True,
) -> None:
    """Poll `ready` until it holds; raise ServerError with the log tail on timeout or death."""
    deadline = time.monotonic() + timeout
    while not ready():
        if not alive():
            raise ServerError(f"{what}: the process exited\n--- {log}:\n{tail(log)}")
        if time.monotonic() > deadline:
            raise ServerError(f"{what}: not within {timeout:g}s\n--- {log}:\n{tail(log)}")
        time.sleep(POLL_SECONDS)


class Closable(Protocol):
    def close(self) -> None: ...


# Servers still running when the interpreter exits (a run interrupted inside a `with` block
# whose end never came) are killed, so that none outlives the test run.
_LIVE: weakref.WeakSet[Closable] = weakref.WeakSet()


def close_at_exit(server: Closable) -> None:
    """Close `server` when the interpreter exits, unless `forget_at_exit` ran first."""
    _LIVE.add(server)


def forget_at_exit(server: Closable) -> None:
    _LIVE.discard(server)


@atexit.register
def _close_leftovers() -> None:
    for server in list(_LIVE):
        server.close()


class ThrowawayServer(ABC):
    """A server on 127.0.0.1:<free port> with its files in a temporary folder.

    Use it with `with`: entering starts it, leaving kills it and deletes the folder, even when
    the test failed (whose exception then carries the server's log tail as a note). Between the
    two, `stop()`/`start()` keep the port and the data, so that clients reconnect to the same
    URL. Each blocking method has an `a…` twin that runs it in a thread, for async tests whose
    event loop must keep serving clients while a server is down.
    """

    name = "server"

    def __init__(self, *, port: int | None = None) -> None:
        self._wanted_port = port
        self.port = port or 0
        self._folder: Path | None = None

    # What each kind of server does.

    @property
    @abstractmethod
    def url(self) -> str:
        """Where clients connect."""

    @property
    @abstractmethod
    def log_path(self) -> Path:
        """The server's log file."""

    @abstractmethod
    def _prepare(self) -> None:
        """Create the server's files in `self.folder` (once, before the first start)."""

    @abstractmethod
    def _launch(self) -> None:
        """Start the server on `self.port` and return once it accepts clients."""

    @abstractmethod
    def _halt(self, *, kill: bool) -> None:
        """Stop the server: gracefully, or at once (`kill`) as a crash would."""

    @property
    @abstractmethod
    def running(self) -> bool:
        """Whether the server's process is alive."""

    # The common life cycle.

    @property
    def folder(self) -> Path:
        """The temporary folder holding the server's data, configuration and log."""
        if self._folder is None:
            raise ServerError(f"the {self.name} is not set up: use it with `with`")
        return self._folder

    def start(self) -> None:
        """Start again on the same port with the same data (a no-op when it is running)."""
        if not self.running:
            self._launch()

    def stop(self) -> None:
        """Stop gracefully, as an operator's restart does; the data stays."""
        if self.running:
            self._halt(kill=False)

    def kill(self) -> None:
        """Stop at once, as a crash does: clients see their connections cut."""
        if self.running:
            self._halt(kill=True)

    def restart(self, down_seconds: float = 0.0, *, kill: bool = False) -> None:
        """Stop (or kill), stay down `down_seconds`, start again on the same port."""
        if kill:
            self.kill()
        else:
            self.stop()
        time.sleep(down_seconds)
        self.start()

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

    async def akill(self) -> None:
        await asyncio.to_thread(self.kill)

    async def arestart(self, down_seconds: float = 0.0, *, kill: bool = False) -> None:
        await asyncio.to_thread(self.restart, down_seconds, kill=kill)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of the server's log."""
        return tail(self.log_path, lines)

    def close(self) -> None:
        """Kill the server and delete its folder."""
        forget_at_exit(self)
        try:
            if self._folder is not None:
                self.kill()
        finally:
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder = None

    def __enter__(self) -> Self:
        self._folder = Path(tempfile.mkdtemp(prefix=f"throwaway-{self.name.lower()}-"))
        close_at_exit(self)
        try:
            hand_over(self._folder)
            self._prepare()
            self._first_start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and self._folder is not None:
            exc.add_note(f"--- {self.name} log ({self.log_path}), last lines:\n{self.log_tail()}")
        self.close()

    def _first_start(self) -> None:
        """Start on the wanted port, or on a free one (another if it was taken meanwhile)."""
        attempts = 1 if self._wanted_port else PORT_ATTEMPTS
        for attempt in range(1, attempts + 1):
            if not self._wanted_port:
                self.port = free_port()
            try:
                self._launch()
                return
            except ServerError:
                self.kill()
                if attempt == attempts:
                    raise
