"""The servers a benchmark starts: each in its own process group, each stopped whatever happens.

`Processes` remembers everything it started and stops it on `stop_all()`, on leaving its `with`
block, and at interpreter exit, so an exception or Ctrl-C leaves nothing running.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx
from hypercorn.config import Config

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.1
# The deployment's Hypercorn settings (entrypoint.sh).
DEPLOYMENT_CONFIG = ROOT / "hypercorn_config.py"
# The event loop production's workers run on; every app measured gets it, the bare ones too, so
# that a ratio compares the apps and not their loops.
WORKER_CLASS = str(Config.from_pyfile(DEPLOYMENT_CONFIG).worker_class)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def hypercorn_command(
    target: str, *, port: int, workers: int, access_log: bool, deployment: bool = False
) -> list[str]:
    """A Hypercorn invocation on one port of the loopback, with the deployment's worker class:
    for the service (`deployment`), with the deployment's settings too (entrypoint.sh's
    `--config`, whose access log is written by the service's own logger); for a bare app,
    Hypercorn's own settings and access logger."""
    command = [sys.executable, "-m", "hypercorn", target, "--bind", f"{HOST}:{port}"]
    if deployment:
        command += ["--config", f"file:{DEPLOYMENT_CONFIG}"]
    command += ["--workers", str(workers), "--worker-class", WORKER_CLASS]
    # Empty, no access log (the deployment's settings name one).
    command += ["--access-logfile", "-" if access_log else ""]
    return command


@dataclass
class Server:
    """One started server: its process (group leader), where it answers, and its log."""

    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    log: IO[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, characters: int = 3000) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-characters:]

    def worker_pids(self) -> list[int]:
        """Hypercorn's worker processes (children spawned by multiprocessing), oldest first."""
        return [pid for pid in children_of(self.pid) if b"spawn_main" in _cmdline(pid)]

    def stop(self) -> None:
        """SIGTERM to the whole group (Hypercorn shuts down gracefully), SIGKILL if it hangs."""
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait(STOP_TIMEOUT_SECONDS)
        # Workers that outlived their master (it was killed) go with the group too.
        _signal_group(self.process.pid, signal.SIGKILL)
        self.log.close()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def children_of(pid: int) -> list[int]:
    """Direct children of a process, from /proc."""
    children: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: fields follow the last ')'.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            children.append(int(entry.name))
    return sorted(children)


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


class Processes:
    """Every server a benchmark started; stops them all in reverse order."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._servers: list[Server] = []
        atexit.register(self.stop_all)

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()

    async def start(
        self,
        name: str,
        command: list[str],
        *,
        env: dict[str, str],
        port: int,
        ready_path: str,
        wait_seconds: float = START_TIMEOUT_SECONDS,
    ) -> Server:
        """Start `command` in its own process group and wait until `ready_path` answers 200."""
        server = self._spawn(name, command, env=env, port=port)
        deadline = time.monotonic() + wait_seconds
        async with httpx.AsyncClient(timeout=2.0) as probe:
            while True:
                if not server.alive():
                    raise RuntimeError(f"{name} exited at start:\n{server.log_tail()}")
                try:
                    response = await probe.get(server.base_url + ready_path)
                    if response.status_code == 200:
                        return server
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{name} did not answer in {wait_seconds:.0f} s:\n{server.log_tail()}"
                    )
                await asyncio.sleep(POLL_SECONDS)

    def _spawn(self, name: str, command: list[str], *, env: dict[str, str], port: int) -> Server:
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("ab")
        process = subprocess.Popen(  # noqa: S603  (our own interpreter and fixed arguments)
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        server = Server(name, process, f"http://{HOST}:{port}", log_path, log)
        self._servers.append(server)
        return server

    def stop(self, server: Server) -> None:
        server.stop()
        if server in self._servers:
            self._servers.remove(server)

    def stop_all(self) -> None:
        while self._servers:
            self._servers.pop().stop()
