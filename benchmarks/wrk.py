"""Driving a server with wrk: Debian's package, a Lua script per path, results read back as JSON.

Each script builds every request in Lua (a different user, browser, product or line each time),
counts the answers by status, and prints one `BENCH_JSON {...}` line from `done()`, which this
module parses. wrk's own latency histogram gives the percentiles.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

WRK = "wrk"
RESULT_MARK = "BENCH_JSON "
# wrk's own default (2 s) would drop slow answers from the histogram as timeouts.
REQUEST_TIMEOUT_SECONDS = 10
RUN_MARGIN_SECONDS = 30

LuaValue = str | int | float | bool | Sequence["LuaValue"] | Mapping[str, "LuaValue"]


class WrkMissing(SystemExit):
    """wrk is not installed and cannot be installed here."""


def ensure_wrk() -> str:
    """The wrk binary; installs Debian's package when missing and we are root with apt."""
    found = shutil.which(WRK)
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise WrkMissing(
            "wrk is not installed. Install Debian's package (`sudo apt-get install wrk`) "
            "and run the benchmark again."
        )
    print("installing Debian's wrk …", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", WRK]):
        subprocess.run(command, env=env, check=False, timeout=600)  # noqa: S603
    found = shutil.which(WRK)
    if not found:
        raise WrkMissing("apt-get could not install wrk; install it and run the benchmark again.")
    return found


def wrk_version(binary: str) -> str:
    result = subprocess.run(  # noqa: S603
        [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
    )
    first = (result.stdout or result.stderr).strip().splitlines()
    return first[0].split(" Copyright")[0] if first else "wrk"


def lua_literal(value: LuaValue) -> str:
    """A Lua constructor for plain data (ASCII strings, numbers, lists, string-keyed tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        if not value.isascii():
            raise ValueError(f"non-ASCII string for Lua: {value!r}")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, Mapping):
        return (
            "{"
            + ", ".join(f"[{lua_literal(k)}] = {lua_literal(v)}" for k, v in value.items())
            + "}"
        )
    return "{" + ", ".join(lua_literal(item) for item in value) + "}"


# Seeding per thread, counting answers by status, and the JSON report.
LUA_FRAME = r"""
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
  table.insert(threads, thread)
end

statuses = {}
function init(args)
  math.randomseed(SEED + 7919 * (thread_number or 0))
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local counted = thread:get("statuses") or {}
    for status, n in pairs(counted) do merged[status] = (merged[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(merged) do table.insert(parts, string.format('"%d": %d', status, n)) end
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f, "errors": {"connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d}, "statuses": {%s}}\n',
    RESULT_MARK, summary.requests, summary.duration,
    latency:percentile(50.0), latency:percentile(90.0), latency:percentile(99.0),
    latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(parts, ", ")))
end
"""


def lua_script(
    request_lua: str,
    data: Mapping[str, LuaValue],
    *,
    seed: int = 1,
) -> str:
    """A complete wrk script: the data tables, the frame, and the path's `request()`."""
    lines = [f"{name} = {lua_literal(value)}" for name, value in data.items()]
    lines += [f"SEED = {seed}", f"RESULT_MARK = {lua_literal(RESULT_MARK)}"]
    return "\n".join(lines) + "\n" + LUA_FRAME + "\n" + request_lua.strip() + "\n"


@dataclass(frozen=True)
class WrkResult:
    """One wrk run."""

    requests: int
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def failed(self) -> int:
        """Answers that were not 2xx/3xx, plus socket errors and timeouts."""
        return sum(self.errors.values())

    def status_summary(self) -> str:
        return ", ".join(f"{status}: {n:,}" for status, n in sorted(self.statuses.items()))


def parse_result(output: str) -> WrkResult:
    for line in output.splitlines():
        if line.startswith(RESULT_MARK):
            raw = json.loads(line[len(RESULT_MARK) :])
            return WrkResult(
                requests=int(raw["requests"]),
                duration_s=raw["duration_us"] / 1e6,
                p50_ms=raw["p50_us"] / 1000,
                p90_ms=raw["p90_us"] / 1000,
                p99_ms=raw["p99_us"] / 1000,
                max_ms=raw["max_us"] / 1000,
                errors={k: int(v) for k, v in raw["errors"].items()},
                statuses={int(k): int(v) for k, v in raw["statuses"].items()},
            )
    raise RuntimeError(f"wrk printed no result:\n{output[-3000:]}")


async def run_wrk(
    binary: str,
    url: str,
    script: str,
    *,
    script_path: Path,
    duration_s: float,
    connections: int,
    threads: int,
) -> WrkResult:
    """Run wrk for `duration_s` against `url` with `script`; bounded, killed on any exit."""
    await asyncio.to_thread(script_path.write_text, script, encoding="utf-8")
    command = [
        binary,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        f"--timeout={REQUEST_TIMEOUT_SECONDS}s",
        "-s",
        str(script_path),
        url,
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = await asyncio.wait_for(
            process.communicate(), timeout=duration_s + REQUEST_TIMEOUT_SECONDS + RUN_MARGIN_SECONDS
        )
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    text = output.decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with {process.returncode}:\n{text[-3000:]}")
    return parse_result(text)
