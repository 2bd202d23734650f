"""Start the service as a real process and wait for it, as an operator or a newcomer would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, process: subprocess.Popen[bytes], timeout: float = 90) -> int:
    """Poll `url` until it answers; fail early, with the output, if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            code, output = stop(process)
            raise AssertionError(f"process exited with {code}:\n{output[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode()


class Started(subprocess.Popen[bytes]):
    """A process whose output goes to a file, read back when it stops.

    Not a pipe: nobody reads a pipe while the process runs, and once its buffer (64 KiB) is
    full every write of the process blocks, so a chatty server stops answering mid-test."""

    def __init__(self, command: list[str], env: dict[str, str], output: IO[bytes]) -> None:
        super().__init__(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.output = output

    def read_output(self) -> str:
        if self.output.closed:
            return ""
        self.output.seek(0)
        text = self.output.read().decode(errors="replace")
        self.output.close()
        return text


def start(command: list[str], env: dict[str, str]) -> Started:
    """Start in its own process group, output captured for the failure message."""
    return Started(command, env, tempfile.TemporaryFile())


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> tuple[int, str]:
    """SIGTERM, as Docker and Ctrl-C do; wait for the exit; return its code and output."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
    if isinstance(process, Started):
        return process.returncode, process.read_output()
    return process.returncode, (output or b"").decode(errors="replace")
