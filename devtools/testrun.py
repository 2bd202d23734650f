"""The whole check: ruff, mypy and pytest against real PostgreSQL and Redis.

Uses the machine's servers (127.0.0.1:5432 as root, database test; 127.0.0.1:6379) when they
answer, TEST_DATABASE_URL / TEST_REDIS_URL when set, and embedded ones otherwise.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MACHINE_DATABASE = "postgresql://root@127.0.0.1:5432/test"
MACHINE_REDIS = "redis://127.0.0.1:6379/0"
# Package → the program it installs. The browser tests drive chromium through Playwright; the
# fault tests put pgbouncer (transaction pooling) in front of a throwaway PostgreSQL, the
# deployment test haproxy in front of two instances, and the alert rules' tests run promtool
# (from the prometheus package); each skips without its program. PostgreSQL's and Redis's
# binaries come from the embedded extras when Debian's are absent, so they are not listed.
DEBIAN_PACKAGES = {
    "chromium": "/usr/bin/chromium",
    "pgbouncer": "/usr/sbin/pgbouncer",
    "haproxy": "/usr/sbin/haproxy",
    "prometheus": "/usr/bin/promtool",
}


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def resolve_servers() -> list[object]:
    """Set TEST_DATABASE_URL and TEST_REDIS_URL; return embedded servers to keep alive."""
    keep: list[object] = []
    data_dir = ROOT / ".data" / "test"
    if not os.environ.get("TEST_DATABASE_URL"):
        if port_open("127.0.0.1", 5432):
            os.environ["TEST_DATABASE_URL"] = MACHINE_DATABASE
        else:
            from lib.embedded import start_postgres

            server, url = start_postgres(data_dir / "postgres", database="test")
            keep.append(server)
            os.environ["TEST_DATABASE_URL"] = url
    if not os.environ.get("TEST_REDIS_URL"):
        if port_open("127.0.0.1", 6379):
            os.environ["TEST_REDIS_URL"] = MACHINE_REDIS
        else:
            from lib.embedded import start_redis

            server, url = start_redis(data_dir / "redis")
            keep.append(server)
            os.environ["TEST_REDIS_URL"] = url
    print(f"tests use {os.environ['TEST_DATABASE_URL']} and {os.environ['TEST_REDIS_URL']}")
    return keep


def missing_debian_packages() -> list[str]:
    """The Debian packages some tests need whose program this machine lacks."""
    return [name for name, program in DEBIAN_PACKAGES.items() if not Path(program).exists()]


def ensure_debian_packages() -> None:
    """Install the missing ones when we can (root with apt): one update, one install."""
    missing = missing_debian_packages()
    if not missing or os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    print(f"installing Debian's {', '.join(missing)} for the tests …", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=False, env=env)


def run(step: str, command: list[str]) -> int:
    print(f"\n=== {step}: {' '.join(command)}", flush=True)
    return subprocess.run(command, cwd=ROOT).returncode


def main(args: list[str]) -> int:
    keep = resolve_servers()
    failures = []
    ensure_debian_packages()
    if not args:
        if run("ruff", [sys.executable, "-m", "ruff", "check", "."]) != 0:
            failures.append("ruff")
        if run("mypy", [sys.executable, "-m", "mypy", "."]) != 0:
            failures.append("mypy")
    code = run("pytest", [sys.executable, "-m", "pytest", *args])
    if code != 0:
        failures.append("pytest")
    del keep
    if failures:
        print(f"\nFAILED: {', '.join(failures)}", flush=True)
        return 1
    print("\nall checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
