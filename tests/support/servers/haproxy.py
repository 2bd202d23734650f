"""A throwaway HAProxy in front of several service instances, as operators run it.

`option forwardfor` adds an `X-Forwarded-For` line with the client's address (after any the
client sent), health checks take an instance out while `/readyz` fails, and the runtime API
(a unix socket, level admin) drains an instance before it is stopped: HAProxy then sends it no
new request, and `wait_drained` waits until its requests in flight are answered. Each answer
carries `X-Served-By: <instance name>`, so that a test knows which instance answered.
"""

from __future__ import annotations

import csv
import io
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
BACKEND = "cart"
SERVED_BY = "X-Served-By"
# How often HAProxy asks each instance's /readyz, how long an answer may take (without it,
# the interval: a busy instance would be taken out for a slow answer), and how many answers
# change its mind.
CHECK_INTERVAL = "500ms"
CHECK_TIMEOUT = "3s"
FALL, RISE = 3, 2


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
        super().__init__(port=port)
        binary = haproxy_binary()
        if binary is None:
            raise RuntimeError(NOT_INSTALLED)
        self.binary = binary
        self.instances = dict(instances)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.folder / "haproxy.cfg"

    @property
    def socket_path(self) -> Path:
        return self.folder / "admin.sock"

    def _prepare(self) -> None:
        """Nothing before the port is known: the configuration is written at each start."""

    def _command(self) -> list[str]:
        servers = "".join(
            f"    server {name} {HOST}:{port} check\n" for name, port in self.instances.items()
        )
        self.config_path.write_text(
            "global\n"
            f"    stats socket {self.socket_path} mode 600 level admin\n"
            "defaults\n"
            "    mode http\n"
            "    timeout connect 2s\n"
            "    timeout client 60s\n"
            "    timeout server 60s\n"
            f"    timeout check {CHECK_TIMEOUT}\n"
            # The client's address in a header line of HAProxy's own.
            "    option forwardfor\n"
            # A connection refused (an instance gone before its health check noticed) is tried
            # on another instance; nothing was sent, so nothing can happen twice.
            "    retries 3\n"
            "    retry-on conn-failure\n"
            "    option redispatch\n"
            "frontend shop\n"
            f"    bind {HOST}:{self.port}\n"
            f"    default_backend {BACKEND}\n"
            f"backend {BACKEND}\n"
            "    balance roundrobin\n"
            "    option httpchk GET /readyz\n"
            "    http-check expect status 200\n"
            f"    http-response set-header {SERVED_BY} %s\n"
            f"    default-server inter {CHECK_INTERVAL} fall {FALL} rise {RISE}\n" + servers
        )
        return [str(self.binary), "-db", "-f", str(self.config_path)]

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
