#!/usr/bin/env python3
"""Set up and run the cart service with nothing but Python 3.11+ installed.

    python3 dev.py serve        install, then run on the embedded default at http://127.0.0.1:8002
    python3 dev.py test [ARGS]  install, then lint, type-check and run the whole test suite
    python3 dev.py lock [ARGS]  lock the versions again after pyproject.toml changed (ARGS go
                                to `uv lock`, e.g. --upgrade-package redis)

Uses only the standard library until the virtualenv (.venv) exists. Installs come from the
lock: every version and its hashes are in uv.lock, exported for pip as requirements.txt (what
the service runs on; the Dockerfile installs it) and requirements-dev.txt (that and the tests'
and tools' packages; installed here).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".installed-from"
COMMANDS = {"serve": "devtools.serve", "test": "devtools.testrun"}
LOCK = ROOT / "uv.lock"
# The lock exported for pip: file → the extras it holds.
EXPORTS = {"requirements.txt": (), "requirements-dev.txt": ("dev",)}
DEV_REQUIREMENTS = ROOT / "requirements-dev.txt"


def ensure_environment() -> None:
    """Create .venv and install the locked versions (hashes checked) when the lock changed."""
    if sys.version_info < (3, 11):  # noqa: UP036  (this file runs before the venv exists)
        sys.exit("Python 3.11 or newer is required")
    wanted = hashlib.sha256(
        DEV_REQUIREMENTS.read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    ).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing the locked dependencies (first run takes a minute) …", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    # Every package at its locked version, each download checked against the lock's hashes;
    # --no-deps: the lock already lists every dependency, nothing else may be resolved.
    subprocess.run(
        [*pip, "--require-hashes", "--no-deps", "-r", str(DEV_REQUIREMENTS)], check=True, cwd=ROOT
    )
    subprocess.run([*pip, "--no-deps", "-e", str(ROOT)], check=True, cwd=ROOT)
    STAMP.write_text(wanted)


def lock(args: list[str]) -> None:
    """`uv lock` (resolve pyproject.toml into uv.lock), then export it for pip."""
    uv = [str(PYTHON), "-m", "uv"]
    subprocess.run([*uv, "lock", *args], check=True, cwd=ROOT)
    for name, extras in EXPORTS.items():
        subprocess.run(
            [*uv, "export", *export_options(extras), "--output-file", name],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
    print(f"locked: {LOCK.name}, {', '.join(EXPORTS)}; commit them with pyproject.toml")


def export_options(extras: tuple[str, ...]) -> list[str]:
    """`uv export`'s options for one of EXPORTS (the lock's tests compare with the same)."""
    options = ["--frozen", "--format", "requirements-txt", "--no-emit-project", "--quiet"]
    return options + [option for extra in extras for option in ("--extra", extra)]


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in (*COMMANDS, "lock"):
        sys.exit(__doc__)
    if sys.argv[1] == "lock":
        # The lock's own tool comes from the lock too, unless the venv already has it (the
        # installed versions need not match a lock that is about to change).
        if not (VENV / "bin" / "uv").exists():
            ensure_environment()
        lock(sys.argv[2:])
        return
    ensure_environment()
    module = COMMANDS[sys.argv[1]]
    os.chdir(ROOT)
    os.execv(str(PYTHON), [str(PYTHON), "-m", module, *sys.argv[2:]])  # noqa: S606


if __name__ == "__main__":
    main()
