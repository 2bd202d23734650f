#!/usr/bin/env python3
"""Set up and run the cart service with nothing but Python 3.11+ installed.

    python3 dev.py serve        install, then run on the embedded default at http://127.0.0.1:8002
    python3 dev.py test [ARGS]  install, then lint, type-check and run the whole test suite

Uses only the standard library until the virtualenv (.venv) exists.
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


def ensure_environment() -> None:
    """Create .venv and install the project with its dev extras when pyproject.toml changed."""
    if sys.version_info < (3, 11):  # noqa: UP036  (this file runs before the venv exists)
        sys.exit("Python 3.11 or newer is required")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing dependencies (first run takes a minute) …", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True, cwd=ROOT)
    STAMP.write_text(wanted)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    ensure_environment()
    module = COMMANDS[sys.argv[1]]
    os.chdir(ROOT)
    os.execv(str(PYTHON), [str(PYTHON), "-m", module, *sys.argv[2:]])  # noqa: S606


if __name__ == "__main__":
    main()
