"""The service as production runs it: `hypercorn app:app --workers N` in its own process group.

The ASGI target, `/healthz` and the settings' environment variables are all it relies on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from tests.support.servers.base import (
    HOST,
    LOG_TAIL_LINES,
    POLL_SECONDS,
    ServerError,
    close_at_exit,
    forget_at_exit,
    free_port,
    tail,
)

PROJECT_ROOT = Path(__file__).resolve().parents[3]
# Hypercorn's settings as entrypoint.sh gives them (timeouts, access log and its logger, loop).
PRODUCTION_SETTINGS = ["--config", f"file:{PROJECT_ROOT / 'hypercorn_config.py'}"]
START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 30.0
# From the caller's environment only what a process needs to run; every setting of the service
# comes from the `env` a test gives, so nothing of the developer's shell leaks in.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "VIRTUAL_ENV")
# Hypercorn's error log line for each worker that has run the app's startup and listens.
# prometheus-client's multiprocess folder: every worker's counts, summed by a scrape.
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
_WORKER_UP = re.compile(rb"\[(\d+)\] \[INFO\] Running on http://")


def service_environment(database_url: str, redis_url: str, **settings: str) -> dict[str, str]:
    """The service's environment for a test: APP_ENV=test, the two servers, more settings.

    `settings` are environment variable names, e.g. `BACKGROUND_JOBS_ENABLED="false"`. Rate limits
    are off unless a test asks for them (`RATE_LIMIT_ENABLED="true"`), as for the in-process app:
    a test's many requests from one address are not an attack, and the limits have their own tests.
    """
    return {
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RATE_LIMIT_ENABLED": "false",
        **settings,
    }


def migrate(database_url: str, target: str = "heads") -> None:
    """`alembic upgrade <target>` against the database, as entrypoint.sh does before serving."""
    alembic_ini = str(PROJECT_ROOT / "alembic.ini")
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", alembic_ini, "upgrade", target],
        env={**_inherited(), "DATABASE_URL": database_url},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise ServerError(f"alembic upgrade {target} failed:\n{result.stdout}{result.stderr}")


def _inherited() -> dict[str, str]:
    return {key: os.environ[key] for key in INHERITED if key in os.environ}


class ServiceProcess:
    """`python -m hypercorn app:app --workers N --bind 127.0.0.1:<port>`, started by `with`.

    Entering starts it and waits until every worker has started the app and `/healthz`
    answers 200; leaving stops it (SIGTERM, then SIGKILL to the whole process group) and adds
    the log tail to a failing test's exception. Hypercorn's output goes to `log_path`; the
    workers' metrics to `metrics_dir` (PROMETHEUS_MULTIPROC_DIR), emptied at each start as
    entrypoint.sh does.

    Hypercorn (0.18) with workers replaces none: when one worker dies, by any signal, the master
    stops the others and exits. Its workers ignore SIGINT and die of SIGTERM unless the app
    handles it (this one does, lib/graceful_stop.py: the whole service then stops
    gracefully). A test that kills a worker therefore takes the whole service down, as a
    container would be without its supervisor's restart; `start()` brings it back on the same
    port.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        workers: int = 2,
        port: int | None = None,
        app: str = "app:app",
        args: Sequence[str] = (),
        log_path: Path | None = None,
        start_timeout: float = START_TIMEOUT_SECONDS,
    ) -> None:
        """`env`: the service's settings (see service_environment); `args`: Hypercorn's options."""
        self.env = dict(env)
        self.workers = workers
        self.port = port or free_port()
        self.app = app
        self.args = list(args)
        self.start_timeout = start_timeout
        # Without a log_path, the log lives in a temporary folder made at the first start and
        # deleted by close().
        self._log_folder: Path | None = None
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        # prometheus-client's multiprocess folder, made empty at each start as entrypoint.sh
        # does, deleted by close().
        self._metrics_folder: Path | None = None

    @property
    def log_path(self) -> Path:
        """Where Hypercorn's output (its error log and the app's) goes."""
        if self._log_path is None:
            self._log_folder = Path(tempfile.mkdtemp(prefix="throwaway-service-"))
            self._log_path = self._log_folder / "hypercorn.log"
        return self._log_path

    @property
    def metrics_dir(self) -> Path:
        """Where the workers keep their metrics (PROMETHEUS_MULTIPROC_DIR), unless `env` names
        a folder of its own."""
        given = self.env.get(METRICS_DIR_ENV)
        if given:
            return Path(given)
        if self._metrics_folder is None:
            self._metrics_folder = Path(tempfile.mkdtemp(prefix="throwaway-metrics-"))
        return self._metrics_folder

    @property
    def url(self) -> str:
        """The service's base URL, http://127.0.0.1:<port> (no trailing slash)."""
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        """The Hypercorn master's process id."""
        if self._process is None:
            raise ServerError("the service is not running")
        return self._process.pid

    @property
    def running(self) -> bool:
        """Whether the Hypercorn master is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        """The master's exit status once it exited (negative: killed by that signal)."""
        return None if self._process is None else self._process.poll()

    def worker_pids(self) -> list[int]:
        """The worker processes' ids (the master's children that run the app), in pid order."""
        if not self.running:
            return []
        return sorted(_worker_children(self.pid))

    def start(self) -> None:
        """Start Hypercorn and wait until all its workers serve."""
        if self.running:
            return
        command = [
            sys.executable,
            "-m",
            "hypercorn",
            self.app,
            "--workers",
            str(self.workers),
            "--bind",
            f"{HOST}:{self.port}",
            *self.args,
        ]
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        # Counts of a previous run would otherwise be added to this one's.
        shutil.rmtree(self.metrics_dir, ignore_errors=True)
        self.metrics_dir.mkdir(parents=True, exist_ok=True)
        metrics = {METRICS_DIR_ENV: str(self.metrics_dir)}
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env={**_inherited(), "PYTHONUNBUFFERED": "1", **metrics, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group, so that a kill reaches the workers too.
                start_new_session=True,
            )
        self.wait_ready()

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until every worker logged that it serves and `/healthz` answers 200."""
        timeout = self.start_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while True:
                if not self.running:
                    raise ServerError(
                        f"the service exited with {self.returncode} at start\n"
                        f"--- {self.log_path}:\n{self.log_tail()}"
                    )
                if len(self._workers_up()) >= self.workers and self._healthy(client):
                    return
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"the service on {self.url} was not ready within {timeout:g}s "
                        f"({len(self._workers_up())} of {self.workers} workers up)\n"
                        f"--- {self.log_path}:\n{self.log_tail()}"
                    )
                time.sleep(POLL_SECONDS)

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        """SIGTERM to the master, as Docker stops a container; answers its exit status.

        Hypercorn asks each worker to finish (the app's shutdown hooks run) and exits 0. Should
        it not exit within `timeout`, the group is killed and ServerError raised.
        """
        process = self._process
        if process is None:
            raise ServerError("the service was never started")
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise ServerError(
                    f"the service did not stop within {timeout:g}s of SIGTERM; killed\n"
                    f"--- {self.log_path}:\n{self.log_tail()}"
                ) from None
        return process.returncode

    def kill(self) -> int:
        """SIGKILL to the master and its workers at once, as a lost machine; answers the status."""
        process = self._process
        if process is None:
            raise ServerError("the service was never started")
        # Once the master is gone, its id names the group only while a worker is left in it.
        if process.poll() is None or _group_alive(process.pid):
            with contextlib.suppress(ProcessLookupError):  # the group just emptied
                os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return process.returncode

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    async def astop(self) -> int:
        return await asyncio.to_thread(self.stop)

    def log_text(self) -> str:
        """Everything the service printed (all its starts)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return tail(self.log_path, lines)

    def __enter__(self) -> Self:
        close_at_exit(self)
        try:
            self.start()
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
        if exc is not None:
            exc.add_note(f"--- service log ({self.log_path}), last lines:\n{self.log_tail()}")
        self.close()

    def close(self) -> None:
        """Stop the service (killing it if it hangs) and delete its temporary log."""
        forget_at_exit(self)
        try:
            if self.running:
                # Killed if it hangs; the test's own outcome is what matters here.
                with contextlib.suppress(ServerError):
                    self.stop(timeout=10)
            elif self._process is not None:
                self.kill()  # the master is gone; workers it left behind are not
        finally:
            if self._log_folder is not None:
                shutil.rmtree(self._log_folder, ignore_errors=True)
                self._log_folder = self._log_path = None
            if self._metrics_folder is not None:
                shutil.rmtree(self._metrics_folder, ignore_errors=True)
                self._metrics_folder = None

    def _workers_up(self) -> set[int]:
        """Ids of the workers that logged "Running on" since this start."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                return {int(pid) for pid in _WORKER_UP.findall(log.read())}
        except FileNotFoundError:
            return set()

    def _healthy(self, client: httpx.Client) -> bool:
        try:
            return client.get(f"{self.url}/healthz").status_code == 200
        except httpx.TransportError:
            return False


def _worker_children(parent: int) -> set[int]:
    """Children of `parent` started by multiprocessing's spawn (not its resource tracker)."""
    found: set[int] = set()
    for pid, ppid, _ in _processes():
        if ppid == parent and b"spawn_main" in _cmdline(pid):
            found.add(pid)
    return found


def _group_alive(pgid: int) -> bool:
    """Whether any process is left in the process group (so its id cannot have been reused)."""
    return any(group == pgid for _, _, group in _processes())


def _processes() -> list[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every process, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited while we looked
        # "pid (command) state ppid pgrp …": the command may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        found.append((int(entry.name), int(fields[1]), int(fields[2])))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
