"""A throwaway server that runs in the foreground as our child process (Redis, PgBouncer)."""

from __future__ import annotations

import signal
import subprocess
from abc import abstractmethod
from pathlib import Path

from tests.support.servers.base import HOST, ServerError, ThrowawayServer, port_open, tail, wait_for

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 30.0


class ForegroundServer(ThrowawayServer):
    """A server process we start and signal ourselves; its output goes to `log_path`."""

    # What a graceful stop sends; a kill is always SIGKILL.
    stop_signal = signal.SIGTERM

    def __init__(self, *, port: int | None = None) -> None:
        super().__init__(port=port)
        self._process: subprocess.Popen[bytes] | None = None

    @abstractmethod
    def _command(self) -> list[str]:
        """The command line that runs the server in the foreground on `self.port`."""

    def _environment(self) -> dict[str, str] | None:
        """The server's environment: by default, ours."""
        return None

    def _ready(self) -> bool:
        """Whether it serves clients; by default, whether its port accepts connections."""
        return port_open(self.port)

    @property
    def log_path(self) -> Path:
        return self.folder / f"{self.name.lower()}.log"

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._process.pid if self.running and self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _launch(self) -> None:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self._command(),
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
            )
        wait_for(
            self._ready,
            timeout=START_TIMEOUT_SECONDS,
            what=f"{self.name} on {HOST}:{self.port} did not start",
            log=self.log_path,
            alive=lambda: self.running,
        )

    def _halt(self, *, kill: bool) -> None:
        process = self._process
        if process is None:
            return
        process.send_signal(signal.SIGKILL if kill else self.stop_signal)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise ServerError(
                f"{self.name} on {HOST}:{self.port} did not stop within "
                f"{STOP_TIMEOUT_SECONDS:g}s of {self.stop_signal.name}; killed\n"
                f"--- {self.log_path}:\n{tail(self.log_path)}"
            ) from None
        finally:
            self._process = None
