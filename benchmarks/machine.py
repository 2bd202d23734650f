"""What the benchmark ran on: CPU, cores, memory, kernel, and the servers' versions."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from redis.asyncio import Redis


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    ram_gib: float
    kernel: str
    python: str
    postgres: str
    redis: str
    wrk: str

    def lines(self) -> list[str]:
        return [
            f"- CPU: {self.cpu}, {self.cores} cores; RAM {self.ram_gib:.0f} GiB",
            f"- Linux {self.kernel}; Python {self.python}",
            f"- PostgreSQL {self.postgres}; Redis {self.redis}; {self.wrk}",
        ]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (other work on a shared machine shows here)."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


async def describe(database_url: str, redis_url: str, wrk: str) -> Machine:
    connection = await asyncpg.connect(database_url)
    try:
        postgres = str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()
    client = Redis.from_url(redis_url)
    try:
        info = await client.info("server")
    finally:
        await client.aclose()
    return Machine(
        cpu=_cpu_model(),
        cores=os.cpu_count() or 1,
        ram_gib=_ram_gib(),
        kernel=platform.release(),
        python=platform.python_version(),
        postgres=postgres,
        redis=str(info.get("redis_version", "?")),
        wrk=wrk,
    )
