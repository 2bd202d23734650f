"""A throwaway HAProxy in front of two service instances, with the operators' configuration
(deploy/haproxy/haproxy.cfg).

`option forwardfor` adds an `X-Forwarded-For` line with the client's address (after any the
client sent), health checks take an instance out while `/readyz` fails, and the runtime API
(a unix socket, level admin) drains an instance before it is stopped: HAProxy then sends it no
new request, and `wait_drained` waits until its requests in flight are answered. Each answer
carries `X-Served-By: <instance name>`, so that a test knows which instance answered.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import time
from collections.abc import Mapping
from pathlib import Path

from tests.support.servers.base import HOST, POLL_SECONDS, ServerError
from tests.support.servers.foreground import ForegroundServer

DEBIAN_BINARY = Path("/usr/sbin/haproxy")
NOT_INSTALLED = (
    "haproxy is not installed: the test command installs Debian's haproxy when it runs as "
    "root (apt-get install haproxy)"
)
# The operators' configuration, run as it is: only the addresses come from here.
CONFIG = Path(__file__).resolve().parents[3] / "deploy" / "haproxy" / "haproxy.cfg"
BACKEND = "cart"
INSTANCES = ("cart1", "cart2")
SERVED_BY = "X-Served-By"


def haproxy_binary() -> Path | None:
    """Debian's haproxy, if installed."""
    found = shutil.which("haproxy")
    if found:
        return Path(found)
    return DEBIAN_BINARY if DEBIAN_BINARY.exists() else None


class HAProxy(ForegroundServer):
    """HAProxy on 127.0.0.1:<port>, balancing round robin over `instances` (name → port)."""

    name = "HAProxy"

    def __init__(self, instances: Mapping[str, int], *, port: int | None = None) -> None:
        """`instances`: each server of the configuration (cart1, cart2) → its port."""
        super().__init__(port=port)
        binary = haproxy_binary()
        if binary is None:
            raise RuntimeError(NOT_INSTALLED)
        if set(instances) != set(INSTANCES):
            raise ValueError(f"the configuration has the instances {INSTANCES}")
        self.binary = binary
        self.instances = dict(instances)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def socket_path(self) -> Path:
        return self.folder / "admin.sock"

    def _prepare(self) -> None:
        """Nothing to write: the configuration is the repository's."""

    def _command(self) -> list[str]:
        return [str(self.binary), "-db", "-f", str(CONFIG)]

    def _environment(self) -> dict[str, str]:
        # The configuration reads the addresses from the environment, at each start.
        return {**os.environ, **self._addresses()}

    def _addresses(self) -> dict[str, str]:
        return {
            "CART_PROXY_BIND": f"{HOST}:{self.port}",
            "HAPROXY_ADMIN_SOCKET": str(self.socket_path),
            **{
                f"CART_INSTANCE_{n}": f"{HOST}:{self.instances[name]}"
                for n, name in enumerate(INSTANCES, start=1)
            },
        }

    def command(self, line: str) -> str:
        """One command of HAProxy's runtime API, e.g. `set server cart/a state drain`."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(5)
            connection.connect(str(self.socket_path))
            connection.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def servers(self) -> dict[str, dict[str, str]]:
        """`show stat` of the backend's servers: name → its row (status, scur, stot …)."""
        rows = csv.DictReader(io.StringIO(self.command("show stat").lstrip("# ")))
        return {
            row["svname"]: row
            for row in rows
            if row["pxname"] == BACKEND and row["svname"] in self.instances
        }

    def set_state(self, instance: str, state: str) -> None:
        """`ready`, `drain` or `maint` for one instance."""
        answer = self.command(f"set server {BACKEND}/{instance} state {state}").strip()
        if answer:
            raise ServerError(f"set server {instance} state {state}: {answer}")

    def wait_status(self, instance: str, status: str, timeout: float = 30.0) -> None:
        """Wait until HAProxy's status of the instance starts with `status` (UP, DOWN, DRAIN)."""
        deadline = time.monotonic() + timeout
        while not self.servers()[instance]["status"].startswith(status):
            if time.monotonic() > deadline:
                raise ServerError(
                    f"{instance} not {status} within {timeout:g}s: {self.servers()[instance]}"
                )
            time.sleep(POLL_SECONDS)

    def wait_drained(self, instance: str, timeout: float = 30.0) -> None:
        """Wait until no request HAProxy sent the instance is still unanswered."""
        deadline = time.monotonic() + timeout
        while int(self.servers()[instance]["scur"] or 0) > 0:
            if time.monotonic() > deadline:
                raise ServerError(f"{instance} still busy after {timeout:g}s")
            time.sleep(POLL_SECONDS)
