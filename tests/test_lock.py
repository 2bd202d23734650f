"""One locked set of versions: uv.lock agrees with pyproject.toml, its exports for pip agree
with it, every install path installs from them with hashes, and this environment holds them."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import dev

ROOT = Path(__file__).resolve().parent.parent
LOCK_COMMAND = "python3 dev.py lock"
FIX = (
    f"run `{LOCK_COMMAND}` (it resolves pyproject.toml into uv.lock and exports "
    f"{', '.join(dev.EXPORTS)}), then commit the four files together"
)
UV = [sys.executable, "-m", "uv"]
# A requirement line of an export: `name==version ; marker \` (the hashes follow).
PINNED = re.compile(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)(?: ; ([^\\]+?))? \\$", re.MULTILINE)


def uv(*args: str) -> subprocess.CompletedProcess[str]:
    # Offline: whether the lock satisfies pyproject.toml is read from the two files alone.
    return subprocess.run(
        [*UV, *args, "--offline"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def locked_versions(export: str) -> dict[str, str]:
    """The versions an export pins for this interpreter (markers evaluated)."""
    text = (ROOT / export).read_text()
    return {
        canonicalize_name(name): version
        for name, version, marker in PINNED.findall(text)
        if not marker or Marker(marker).evaluate()
    }


def test_the_lock_agrees_with_pyproject() -> None:
    result = uv("lock", "--check")
    assert result.returncode == 0, (
        f"pyproject.toml and uv.lock disagree: {FIX}.\n{result.stderr.strip()}"
    )


def test_the_pip_exports_are_the_lock() -> None:
    for name, extras in dev.EXPORTS.items():
        result = uv("export", *dev.export_options(extras))
        assert result.returncode == 0, result.stderr
        exported = result.stdout.split("\n", 2)[2]  # past uv's two header lines
        committed = (ROOT / name).read_text().split("\n", 2)[2]
        assert committed == exported, f"{name} is not what uv.lock exports: {FIX}"


def test_every_package_is_locked_with_hashes() -> None:
    for name in dev.EXPORTS:
        blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", (ROOT / name).read_text())
        requirements = [block for block in blocks if "==" in block.split("\n")[0]]
        assert requirements, name
        for block in requirements:
            assert "--hash=sha256:" in block, f"{name}: no hash for {block.splitlines()[0]}"


def test_the_service_needs_nothing_beyond_its_runtime_export() -> None:
    runtime = locked_versions("requirements.txt")
    for line in metadata.requires("coop-cart") or []:
        requirement = Requirement(line)
        if requirement.marker is None:  # the extras' packages carry an `extra == …` marker
            assert canonicalize_name(requirement.name) in runtime, requirement.name


def test_this_environment_holds_the_locked_versions() -> None:
    """What `python3 dev.py test` installed is the lock, not a fresh resolution."""
    wrong = {}
    for name, version in locked_versions("requirements-dev.txt").items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "missing"
        if canonicalize_name(installed) != canonicalize_name(version):
            wrong[name] = (version, installed)
    assert wrong == {}, f"locked vs installed: {wrong}; `python3 dev.py test` installs the lock"


def test_every_install_path_installs_the_lock_with_hashes() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert installs, "the Dockerfile installs nothing"
    for line in installs:
        assert "--require-hashes" in line and "-r requirements.txt" in line, line
        assert "--no-deps" in line, line
    assert "--require-hashes" in Path(dev.__file__).read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 dev.py test" in ci and "pip install" not in ci
