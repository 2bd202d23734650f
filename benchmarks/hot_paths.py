"""Hot paths of the cart service against bare Quart; paid orders per minute; statements; memory.

The service is a black box: `app:app` under Hypercorn, configured only by the README's
environment variables, reached only by its public URLs. The database is touched only to load the
shop, to put tickets and bookings in carts as the events app does, to count statements and to
check the results. It creates its own database on the given server (migrated by alembic) and
uses its own Redis indexes, starts the SumUp stand-in, the bare app and the service, and stops
them all whatever happens.

    python benchmarks/hot_paths.py              # the full run (about an hour); writes RESULTS.md
    python benchmarks/hot_paths.py --quick      # 2-second runs on a small shop, 5,000 requests
                                                # for memory; prints only
    python benchmarks/hot_paths.py --parts throughput,orders --duration 5

BENCH_ADMIN_URL (default postgresql://root@127.0.0.1:5432/test) and BENCH_REDIS_URL (default
redis://127.0.0.1:6379) name the servers, or --pg-url / --redis-url.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from random import Random
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import uvloop  # noqa: E402

from benchmarks.browser import BrowserCredentials, browser_credentials, stateless_client  # noqa: E402
from benchmarks.fixed_rate import run_fixed_rate  # noqa: E402
from benchmarks.hot_history import BASELINE  # noqa: E402
from benchmarks.hot_report import (  # noqa: E402
    BARE,
    PRACTICAL,
    PathRun,
    Report,
    StatementCase,
    console_path,
    markdown,
)
from benchmarks.hot_requests import (  # noqa: E402
    FORM,
    LUA_BUILDERS,
    MEMORY_MIX,
    PATH_NAMES,
    Browser,
    check_path,
    raw_add_to_cart,
    script_data,
    single,
)
from benchmarks.lean_http import LeanClient  # noqa: E402
from benchmarks.machine import describe, load_average  # noqa: E402
from benchmarks.paid_orders import Storefront, pay_on_hosted_page, run_orders  # noqa: E402
from benchmarks.results_file import replace_section  # noqa: E402
from benchmarks.servers import (  # noqa: E402
    HOST,
    WORKER_CLASS,
    Processes,
    Server,
    free_port,
    hypercorn_command,
    rss_kib,
)
from benchmarks.shop_data import (  # noqa: E402
    FULL,
    QUICK,
    Scale,
    SessionStore,
    Shop,
    drop_database,
    flush_cart_index,
    load_shop,
    migrate,
    recreate_database,
    url_with_database,
)
from benchmarks.statements import read, reset, statements_available  # noqa: E402
from benchmarks.wrk import WrkResult, ensure_wrk, lua_script, run_wrk, wrk_version  # noqa: E402

# Its own database beside the server's others; BENCH_DATABASE_NAME gives another, so that two
# runs on one server do not drop each other's.
BENCH_DATABASE = os.environ.get("BENCH_DATABASE_NAME", "cart_bench_hot_paths")
PARTS = ("throughput", "fixed-rate", "limiter", "orders", "statements", "memory")
COOKIE_NAME = "coop_session"
SITE_MERCHANT = "MBENCH01"
SITE_KEY = "sup_sk_bench"
CREDENTIAL_CONCURRENCY = 8
MEMORY_STRETCHES = 10
STATEMENT_USERS = 30_000_001
SERVER_VARIABLES = ("BENCH_ADMIN_URL", "BENCH_REDIS_URL")
# Every limit counted in Redis as deployed, raised out of reach: the benchmark's clients all
# come from one loopback address, where a deployment's come from thousands.
LIMITS_NEVER_REACHED = {
    f"RATE_LIMIT_{name}": "1000000/minute"
    for name in (
        "PAGES",
        "WRITES",
        "CHECKOUT",
        "WEBHOOK",
        "WEBHOOK_PER_ORDER",
        "FAILED_TOKENS",
        "ORDER_LINKS",
        "ORDER_LOOKUPS",
        "ORDER_LOOKUPS_PER_ADDRESS",
    )
}
# Variables the service may inherit from the shell; every setting is passed explicitly.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")


@dataclass
class Run:
    """One benchmark run: its options, servers, secrets and data."""

    args: argparse.Namespace
    scale: Scale
    processes: Processes
    work_dir: Path
    wrk: str
    database_url: str
    secrets: dict[str, str]
    shop: Shop | None = None
    standin: Server | None = None
    sessions: SessionStore | None = None
    readers: list[Browser] = field(default_factory=list)
    writers: list[Browser] = field(default_factory=list)

    @property
    def token(self) -> str:
        return self.secrets["INTERNAL_API_TOKEN"]

    def need_shop(self) -> Shop:
        assert self.shop is not None, "the shop is loaded first"
        return self.shop


def make_secrets() -> dict[str, str]:
    """Fresh production secrets for this run (never printed)."""
    return {
        "SECRET_KEY": base64.urlsafe_b64encode(os.urandom(36)).decode(),
        "INTERNAL_API_TOKEN": base64.urlsafe_b64encode(os.urandom(24)).decode(),
        "PAGE_CONFIG_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }


def base_env() -> dict[str, str]:
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    return env | {"PYTHONUNBUFFERED": "1"}


def service_env(run: Run, port: int, *, rate_limits: bool, jobs: bool = True) -> dict[str, str]:
    """The service as deployed (production, with everything a deployment has switched on:
    limits counted in Redis, background jobs, request log, metrics, security headers), on
    this run's database, Redis and stand-in. `rate_limits=False` only for the limiter's
    comparison, `jobs=False` only where the run counts statements."""
    assert run.standin is not None
    args = run.args
    return (
        base_env()
        | run.secrets
        | {
            "APP_ENV": "production",
            "DATABASE_URL": run.database_url,
            "REDIS_URL": args.redis_url,
            "REDIS_AUTH_DB": str(args.redis_auth_db),
            "REDIS_CART_DB": str(args.redis_cart_db),
            "SESSION_COOKIE_NAME": COOKIE_NAME,
            "PUBLIC_BASE_URL": f"http://{HOST}:{port}",
            "SUMUP_API_BASE": run.standin.base_url,
            "SUMUP_API_KEY": SITE_KEY,
            "SUMUP_MERCHANT_CODE": SITE_MERCHANT,
            # Plain HTTP on the loopback: the shared cookie keeps the name the apps agreed
            # on (over HTTPS, production prefixes it with __Host-).
            "ALLOW_INSECURE_HTTP": "true",
            "BACKGROUND_JOBS_ENABLED": "true" if jobs else "false",
            "RATE_LIMIT_ENABLED": "true" if rate_limits else "false",
        }
        # The limiter's cost: every request counted in Redis, none refused.
        | (LIMITS_NEVER_REACHED if rate_limits else {})
    )


async def start_service(
    run: Run, *, workers: int, rate_limits: bool = True, jobs: bool = True
) -> Server:
    port = free_port()
    command = hypercorn_command(
        "app:app", port=port, workers=workers, access_log=run.args.access_log, deployment=True
    )
    name = f"service-{workers}w-{'limits' if rate_limits else 'nolimits'}-{port}"
    env = service_env(run, port, rate_limits=rate_limits, jobs=jobs)
    return await run.processes.start(name, command, env=env, port=port, ready_path="/readyz")


async def start_bare(run: Run) -> Server:
    port = free_port()
    command = hypercorn_command(
        "benchmarks.bare_app:app", port=port, workers=1, access_log=run.args.access_log
    )
    env = base_env() | {"PUBLIC_BASE_URL": f"http://{HOST}:{port}"}
    return await run.processes.start(
        f"bare-{port}", command, env=env, port=port, ready_path="/healthz"
    )


async def start_practical(run: Run) -> Server:
    """Bare Quart running the badge's statement on this run's database (the practical limit)."""
    port = free_port()
    command = hypercorn_command(
        "benchmarks.practical_app:app", port=port, workers=1, access_log=run.args.access_log
    )
    env = base_env() | {
        "PUBLIC_BASE_URL": f"http://{HOST}:{port}",
        "DATABASE_URL": run.database_url,
        "PYTHONPATH": str(ROOT),
    }
    return await run.processes.start(
        f"practical-{port}", command, env=env, port=port, ready_path="/healthz"
    )


async def start_standin(run: Run) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "sumup_standin", "--host", HOST, "--port", str(port)]
    # Retries of a failed webhook come after 0.6 s, 3 s, ... rather than SumUp's minutes.
    command += ["--webhook-delay-scale", "0.01", "--log-level", "WARNING"]
    return await run.processes.start(
        f"standin-{port}", command, env=base_env(), port=port, ready_path="/_standin/health"
    )


def say(text: str) -> None:
    print(text, flush=True)


# ---------------------------------------------------------------------------------------------
# Signed-in browsers


async def sign_in_browsers(run: Run, service: Server) -> None:
    """Sessions for the read and write groups, and each browser's cookies and CSRF token."""
    shop, sessions = run.need_shop(), run.sessions
    assert sessions is not None
    owners = shop.readers + shop.writers
    sids = await sessions.sign_in([owner.user_id for owner in owners])
    gate = asyncio.Semaphore(CREDENTIAL_CONCURRENCY)
    started = time.perf_counter()
    async with stateless_client(service.base_url) as http:

        async def credentials(user_id: int) -> BrowserCredentials:
            async with gate:
                return await browser_credentials(
                    http, cookie_name=COOKIE_NAME, sid=sids[user_id], path="/"
                )

        got = await asyncio.gather(*(credentials(owner.user_id) for owner in owners))
    browsers = [
        Browser(owner.user_id, creds, owner.home_slug, owner.home_item_ids)
        for owner, creds in zip(owners, got, strict=True)
    ]
    run.readers, run.writers = browsers[: len(shop.readers)], browsers[len(shop.readers) :]
    say(
        f"signed in {len(browsers):,} browsers (cookies and CSRF token read from GET /) "
        f"in {time.perf_counter() - started:.1f} s"
    )


def wrk_script(run: Run, mix: tuple[tuple[str, int], ...], seed: int) -> str:
    shop = run.need_shop()
    data = script_data(
        token=run.token,
        users=shop.user_ids,
        products=shop.product_ids,
        readers=run.readers,
        writers=run.writers,
        mix=mix,
    )
    return lua_script(LUA_BUILDERS, data, seed=seed)


async def drive(
    run: Run,
    server: Server,
    mix: tuple[tuple[str, int], ...],
    *,
    duration: float,
    warmup: float,
    seed: int,
    profile: Path | None = None,
) -> WrkResult:
    """A warm-up run, then the measured one, with the same script; `profile` records the
    server's worker with py-spy while the measured run lasts."""
    script = wrk_script(run, mix, seed)
    options: dict[str, Any] = {
        "script_path": run.work_dir / f"{mix[0][0]}-{seed}.lua",
        "connections": run.args.connections,
        "threads": run.args.threads,
    }
    if warmup > 0:
        await run_wrk(run.wrk, server.base_url, script, duration_s=warmup, **options)
    measured = run_wrk(run.wrk, server.base_url, script, duration_s=duration, **options)
    if profile is None:
        return await measured
    result, _ = await asyncio.gather(measured, record_profile(server, profile, duration))
    return result


async def record_profile(server: Server, output: Path, duration: float) -> None:
    """py-spy's samples of the server's first worker, as collapsed stacks (one line a stack)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [ensure_py_spy(), "record", "--pid", str(server.worker_pids()[0])]
    command += ["--duration", str(max(1, int(duration))), "--rate", "250"]
    command += ["--format", "raw", "--output", str(output)]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        say(f"py-spy failed on {output.stem}: {stderr.decode(errors='replace').strip()}")


def ensure_py_spy() -> str:
    """The py-spy beside this Python, installed from PyPI when missing (only for --profile)."""
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if found is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "py-spy"], check=True)
        found = shutil.which("py-spy", path=str(Path(sys.executable).parent))
    assert found is not None, "py-spy could not be installed"
    return found


async def check_paths(run: Run, server: Server, paths: tuple[str, ...]) -> None:
    """One request of each path, checked, so that no run measures error pages."""
    shop = run.need_shop()
    async with stateless_client(server.base_url) as http:
        for path in paths:
            await check_path(
                http,
                path,
                token=run.token,
                user_id=shop.user_ids[len(shop.user_ids) // 2],
                reader=run.readers[0],
                writer=run.writers[0],
                product_id=shop.product_ids[-1],
            )


# ---------------------------------------------------------------------------------------------
# Parts


async def throughput(run: Run, report: Report) -> None:
    """Bare Quart and the practical limit, then each path on one service worker, then the
    two yardsticks again."""
    args = run.args
    say(
        f"\n== throughput: 1 worker each, {args.connections} connections, wrk -t{args.threads}, "
        f"warm-up {args.warmup:g} s, measured {args.duration:g} s"
    )
    bare = await start_bare(run)
    practical = await start_practical(run)
    service = await start_service(run, workers=1)
    try:
        if not run.readers:
            await sign_in_browsers(run, service)
        await check_paths(run, bare, ("cart_mini",))
        await check_paths(run, practical, ("cart_mini",))
        await check_paths(run, service, tuple(args.paths))
        plan: list[tuple[str, str, Server]] = [(BARE, "before", bare)]
        plan.append((PRACTICAL, "before", practical))
        plan += [(path, "", service) for path in args.paths]
        plan += [(PRACTICAL, "after", practical), (BARE, "after", bare)]
        for seed, (path, round_, server) in enumerate(plan, start=1):
            mix = single("cart_mini" if path in (BARE, PRACTICAL) else path)
            profiled = args.profile / f"{path}.txt" if args.profile and server is service else None
            result = await drive(
                run,
                server,
                mix,
                duration=args.duration,
                warmup=args.warmup,
                seed=seed,
                profile=profiled,
            )
            report.paths.append(PathRun(path, result, round_))
            say(console_path(report, report.paths[-1]))
        if "fixed-rate" in args.parts:
            await fixed_rate(run, report, service)
    finally:
        run.processes.stop(service)
        run.processes.stop(practical)
        run.processes.stop(bare)


async def fixed_rate(run: Run, report: Report, service: Server) -> None:
    """add-to-cart offered at half of its measured maximum, open loop."""
    add = next((p.result for p in report.paths if p.path == "add_to_cart"), None)
    if add is None or add.rps <= 0:
        return
    rate = max(1.0, add.rps / 2)
    say(
        f"\n== add-to-cart at a fixed {rate:,.1f} req/s (half of {add.rps:,.0f}) "
        f"for {run.args.duration:g} s"
    )
    port = int(service.base_url.rsplit(":", 1)[1])
    build = raw_add_to_cart(f"{HOST}:{port}", run.writers, run.need_shop().product_ids, Random(7))
    result = await run_fixed_rate(
        HOST, port, build, rate=rate, duration_s=run.args.duration, connections=run.args.connections
    )
    report.fixed_rate, report.fixed_rate_of = result, add.rps
    say(
        f"  answered {result.answered:,}/{result.sent:,}  p50 {result.median_ms:.1f} ms  "
        f"p90 {result.percentile(90):.1f} ms  p99 {result.percentile(99):.1f} ms  "
        f"statuses {dict(sorted(result.statuses.items()))}  errors {result.errors}"
    )


async def limiter(run: Run, report: Report) -> None:
    """add-to-cart with RATE_LIMIT_ENABLED=true, then false, each on a fresh worker."""
    args = run.args
    say("\n== the rate limiter's cost on add-to-cart (fresh worker for each setting)")
    for enabled in (True, False):
        service = await start_service(run, workers=1, rate_limits=enabled)
        try:
            if not run.readers:
                await sign_in_browsers(run, service)
            result = await drive(
                run,
                service,
                single("add_to_cart"),
                duration=args.duration,
                warmup=args.warmup,
                seed=100 + enabled,
            )
        finally:
            run.processes.stop(service)
        report.limiter[enabled] = result
        say(
            f"  RATE_LIMIT_ENABLED={str(enabled).lower():5} {result.rps:9,.0f} req/s  "
            f"p50 {result.p50_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms  "
            f"answers {result.status_summary()}"
        )
    if not report.limiter[True].statuses.get(429):
        report.limiter_note = (
            "With limits on, each class's limit was raised out of reach "
            "(`RATE_LIMIT_WRITES=1000000/minute`, ...): every request is counted in Redis and "
            "none is refused, so the difference is what the counting costs."
        )
    say(f"  {report.limiter_note}" if report.limiter_note else "")


async def orders(run: Run, report: Report) -> None:
    """Paid orders per minute on two workers: tickets of one event, then mixed carts."""
    args, shop, standin = run.args, run.need_shop(), run.standin
    assert standin is not None and run.sessions is not None
    say(
        f"\n== paid orders per minute: service on 2 workers, {args.shoppers} shoppers, "
        f"warm-up {args.orders_warmup:g} s, measured {args.orders_duration:g} s"
    )
    service = await start_service(run, workers=2)
    pool = await asyncpg.create_pool(run.database_url, min_size=2, max_size=8)
    try:
        async with (
            LeanClient(service.base_url, pool=2 * args.shoppers) as http,
            LeanClient(pool=2 * args.shoppers) as standin_http,
        ):
            front = Storefront(shop, pool, run.sessions, http, standin_http, COOKIE_NAME)
            for kind in ("tickets", "mixed"):
                (await standin_http.post(f"{standin.base_url}/_standin/reset")).raise_for_status()
                result = await run_orders(
                    front,
                    kind,
                    shoppers=args.shoppers,
                    workers=2,
                    warmup_s=args.orders_warmup,
                    duration_s=args.orders_duration,
                    standin_url=standin.base_url,
                )
                report.orders.append(result)
                checks = "checks ok" if result.ok else f"CHECKS FAILED {result.problems}"
                say(
                    f"  {kind:8} {result.per_minute:9,.0f} paid/min ({result.paid_in_window:,} in "
                    f"{result.window_s:.0f} s)  checkout→paid "
                    f"p50 {result.flow_percentile(50):,.0f} ms "
                    f"p99 {result.flow_percentile(99):,.0f} ms  {checks}"
                )
                say(f"           outcomes: {dict(result.outcomes.most_common())}")
                say(
                    f"           outbox: {result.outbox_rows:,} rows written in the window, "
                    f"{result.outbox_waiting:,} still waiting, the longest wait "
                    f"{result.outbox_longest_wait_s:.1f} s"
                )
    finally:
        await pool.close()
        run.processes.stop(service)


INSERT_LINE = "INSERT INTO cart_items (user_id, product_id, quantity) VALUES ($1, $2, 1)"
INSERT_BOOKING = """
INSERT INTO calendar_entries (calendar_id, slot_id, name, start_at, end_at, state, cost, user_id)
VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)
"""
INSERT_TICKET = """
INSERT INTO tickets (entry_id, ticket_type_id, user_id, state, code)
VALUES ($1, $2, $3, 'pending', $4)
"""


async def statements(run: Run, report: Report) -> None:
    """Statements of one checkout, its webhook settlement and its return page, per cart size."""
    say("\n== SQL statements per checkout (pg_stat_statements)")
    connection = await asyncpg.connect(run.database_url)
    try:
        why_not = await statements_available(connection)
        if why_not:
            report.statements_note = f"Not measured: {why_not}."
            say(f"  {report.statements_note}")
            return
        # No background job may run a statement while one checkout's are counted.
        service = await start_service(run, workers=1, jobs=False)
        try:
            shop = run.need_shop()
            cases = [("1 product line", 1, 0), ("20 product lines", 20, 0)]
            cases.append(("20 lines + 20 bookings + 20 tickets", 20, 20))
            for number, (name, lines, extras) in enumerate(cases):
                user_id = STATEMENT_USERS + number
                await fill_cart(connection, shop, user_id, lines=lines, extras=extras)
                case = await count_checkout(run, service, connection, name, user_id)
                report.statements.append(case)
                say(
                    f"  {name:38} checkout {case.checkout.work:3} (+{case.checkout.control} "
                    f"control, {case.checkout.pings} pings)  webhook {case.webhook.work:3}  "
                    f"return page {case.return_page.work:3}"
                )
        finally:
            run.processes.stop(service)
    finally:
        await connection.close()


async def fill_cart(
    connection: asyncpg.Connection, shop: Shop, user_id: int, *, lines: int, extras: int
) -> None:
    products = shop.products_by_page[shop.event_slug][:lines]
    await connection.executemany(INSERT_LINE, [(user_id, product) for product in products])
    for n in range(extras):
        slot = shop.slots[n % len(shop.slots)]
        await connection.execute(
            INSERT_BOOKING,
            slot.calendar_id,
            slot.id,
            slot.name,
            slot.start_at,
            slot.end_at,
            slot.cost,
            user_id,
        )
        kind = shop.ticket_type("Standard")
        code = f"S{user_id:X}N{n}"
        await connection.execute(INSERT_TICKET, shop.event_entry_id, kind.id, user_id, code)


async def count_checkout(
    run: Run, service: Server, connection: asyncpg.Connection, name: str, user_id: int
) -> StatementCase:
    assert run.sessions is not None and run.standin is not None
    shop = run.need_shop()
    sid = (await run.sessions.sign_in([user_id]))[user_id]
    page = f"/{shop.event_slug}/"
    async with stateless_client(service.base_url) as http, stateless_client() as standin_http:
        browser = await browser_credentials(http, cookie_name=COOKIE_NAME, sid=sid, path=page)
        await reset(connection)
        answer = await http.post(
            f"{page}checkout/",
            headers=browser.headers() | {"Content-Type": FORM},
            content=urlencode({"csrf_token": browser.csrf_token}).encode(),
        )
        if answer.status_code != 303:
            raise RuntimeError(
                f"checkout of {name} answered {answer.status_code}: {answer.text[:300]}"
            )
        checkout = await read(connection)
        hosted = answer.headers["location"]
        await reset(connection)
        return_url = await pay_on_hosted_page(standin_http, hosted)
        await wait_for_webhook(standin_http, run.standin.base_url, hosted.rsplit("/c-", 1)[1])
        webhook = await read(connection)
        await reset(connection)
        back = await http.get(return_url, headers=browser.headers())
        returned = await read(connection)
        if 'data-state="paid"' not in back.text:
            raise RuntimeError(f"the return page of {name} does not say paid")
    return StatementCase(name, checkout, webhook, returned)


async def wait_for_webhook(http: httpx.AsyncClient, standin_url: str, checkout_id: str) -> None:
    """Until the stand-in logs a delivered (2xx) webhook for the checkout."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        response = await http.get(
            f"{standin_url}/_standin/webhooks", params={"checkout_id": checkout_id}
        )
        if any(200 <= (d.get("status_code") or 0) < 300 for d in response.json()):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"no webhook delivered for checkout {checkout_id}")


async def memory(run: Run, report: Report) -> None:
    """RSS of a fresh worker at start and after every stretch of mixed requests."""
    args = run.args
    target = args.memory_requests
    say(f"\n== memory: one fresh worker, {target:,} mixed requests")
    service = await start_service(run, workers=1)
    try:
        if not run.readers:
            await sign_in_browsers(run, service)
        workers = service.worker_pids()
        if len(workers) != 1:
            raise RuntimeError(f"expected one Hypercorn worker, found {workers}")
        worker = workers[0]
        report.memory = [(0, rss_kib(worker))]
        say(f"  start: RSS {report.memory[0][1] / 1024:.1f} MiB (worker {worker})")
        script = wrk_script(run, MEMORY_MIX, seed=500)
        served, stretch_s = 0, 5.0
        statuses: Counter[int] = Counter()
        deadline = time.monotonic() + args.memory_minutes * 60
        while served < target:
            if time.monotonic() > deadline:
                say(f"  stopped at {served:,} requests: --memory-minutes reached")
                break
            result = await run_wrk(
                run.wrk,
                service.base_url,
                script,
                script_path=run.work_dir / "memory.lua",
                duration_s=stretch_s,
                connections=args.connections,
                threads=args.threads,
            )
            served += result.requests
            statuses.update(result.statuses)
            report.memory.append((served, rss_kib(worker)))
            say(
                f"  {served:9,} requests: RSS {report.memory[-1][1] / 1024:.1f} MiB  "
                f"({result.rps:,.0f} req/s)"
            )
            # Stretches of about a tenth of the target, whatever the speed.
            remaining = min(target - served, max(1, target // MEMORY_STRETCHES))
            stretch_s = min(120.0, max(2.0, remaining / max(result.rps, 1.0)))
        report.memory_statuses = dict(statuses)
    finally:
        run.processes.stop(service)


# ---------------------------------------------------------------------------------------------
# The run


def describe_settings(run: Run) -> list[str]:
    args = run.args
    return [
        "every server on the loopback; the service as deployed: `APP_ENV=production`, "
        "`hypercorn --config file:hypercorn_config.py app:app --workers N` (entrypoint.sh's "
        "options; its access lines written by the service's own logger); the bare app and the "
        "practical limit on Hypercorn's own settings and access logger; all with "
        f"`--worker-class {WORKER_CLASS}`"
        + (" `--access-logfile -`" if args.access_log else " and no access log"),
        "everything a deployment has switched on: the request log, metrics and security headers, "
        "`RATE_LIMIT_ENABLED=true` with every limit counted in Redis and raised out of reach "
        "(`RATE_LIMIT_PAGES=1000000/minute`, ...: every client here is the one loopback "
        "address), `BACKGROUND_JOBS_ENABLED=true` (reconciler, outbox relay, mail, purge); "
        "limits off only for the limiter's own comparison, jobs off only while statements "
        "are counted",
        f"`DATABASE_POOL_SIZE` default (10), site merchant "
        f"on the SumUp stand-in; Redis indexes {args.redis_auth_db} (sessions) and "
        f"{args.redis_cart_db} (cart)",
        f"wrk: {args.connections} connections, {args.threads} thread(s), warm-up {args.warmup:g} s "
        f"then {args.duration:g} s measured per path; request timeout 10 s",
        f"paid orders: {args.shoppers} concurrent shoppers, warm-up {args.orders_warmup:g} s, "
        f"measured {args.orders_duration:g} s, service on 2 workers",
    ]


def describe_data(run: Run) -> list[str]:
    shop, scale = run.need_shop(), run.scale
    counts = shop.counts
    capacities = ", ".join(f"{t.name} {t.capacity:,}" for t in shop.ticket_types)
    return [
        f"{scale.users:,} users with carts: {counts['cart_items']:,} cart lines, each user with "
        "5 lines on a home page and lines on up to two other pages; "
        f"{counts['calendar_entries'] - 1:,} pending bookings, "
        f"{counts['tickets']:,} pending tickets; "
        f"{counts['orders']:,} past paid orders",
        f"{scale.pages} pages of {scale.products_per_page} products ({counts['products']:,}); "
        f"the `{shop.event_slug}` page also has {scale.slots} bookable sessions and the event "
        f"with ticket types ({capacities})",
        f"{len(shop.readers):,} signed-in browsers read (page cart, overview), another "
        f"{len(shop.writers):,} write (add, set quantity); badges and summaries for any of the "
        f"{scale.users:,} users; loaded with COPY in {counts['load_ms'] / 1000:.1f} s",
    ]


MEASURED_NOTE = (
    "Measured on a 2-core machine while other engineers' test runs were using it: absolute "
    "figures move with that load (see the load averages above), which is why every path is "
    "also given as a ratio to bare Quart measured in the same run, before and after the paths."
)
# What each part measures and how, kept beside the figures of the parts that ran.
PART_NOTES = {
    "throughput": "Throughput: wrk (closed loop) with a Lua script per path; every request is "
    "another shopper (a random user id for the badge and the summary; a random signed-in "
    "browser for the badge from the cookie, the page cart, the overview and the orders list; "
    "a random product for add-to-cart; a random "
    "line and quantity for set-quantity, answered with the re-rendered page cart). HTMX posts "
    "carry `HX-Request` and the browser's CSRF token in `X-CSRF-Token`, read once per browser "
    "from a rendered page (`benchmarks/browser.py`). The practical limit "
    "(`benchmarks/practical_app.py`) is bare Quart running the badge's one statement, the "
    "service's own text, on an asyncpg pool of the service's size, for the same random user "
    "ids. One request of each path is checked for "
    "what a shopper would see before measuring. Latencies are wrk's histogram.",
    "fixed-rate": "The fixed-rate run uses a Python open-loop generator "
    "(`benchmarks/fixed_rate.py`) rather than wrk with a Lua `delay()`: wrk sends a "
    "connection's next request only after the last answer, so a stall delays the requests "
    "behind it without counting their wait (coordinated omission). Here arrivals are scheduled "
    "at a fixed rate, latency runs from the scheduled arrival to the end of the answer, over "
    "the same 16 keep-alive connections. wrk2, which does this, is not in Debian.",
    "orders": "Paid orders: asyncio + aiohttp shoppers, each a new user signed in through the "
    "shared session; tickets are put in the cart as the events app does (pending `tickets` "
    "rows after checking what is left; the small `Front row` type is wanted by 1 shopper in 20 "
    "while seats are left), products through `POST /add/`; then the page cart, its checkout "
    "form, the stand-in's hosted page (Pay), its back link to the return page, polled until "
    "paid. The stand-in's webhook races the return page to settle. Counted from "
    "`orders.paid_at` inside the window, which opens after the warm-up once every shopper has "
    "finished a first order. The shoppers, the stand-in, PostgreSQL, Redis and the two workers "
    "share the two cores. The outbox rows the window's checkouts and settlements write are "
    "checked too: the relay (its default settings, on both workers) keeps up when none waits "
    "longer than 30 s.",
    "statements": "Statements: pg_stat_statements on the benchmark's database, reset before "
    "and read after one checkout POST, then one webhook delivery, then one view of the paid "
    "return page. Transaction control (BEGIN/COMMIT/ROLLBACK) is counted apart; a pool "
    "pre-ping shows there as BEGIN + ROLLBACK around an empty statement, which "
    "pg_stat_statements does not list. So are asyncpg's lookups of a type it meets for the "
    "first time on a connection (with JIT switched off around them): once per connection and "
    "type, as the tests' statement counts leave them out.",
    "memory": "Memory: VmRSS of the one Hypercorn worker process (/proc/<pid>/status), at "
    "start and after each stretch of a mixed wrk load (40% cart-mini, 15% summary, 15% page "
    "cart, 10% overview, 12% add-to-cart, 8% set-quantity); flat when, after the first 50,000 "
    "requests, RSS stays within 2 MiB.",
}


async def prepare(run: Run) -> Report:
    args = run.args
    say(f"database {BENCH_DATABASE} on {_server(args.pg_url)}; Redis {_server(args.redis_url)}")
    started = time.perf_counter()
    await recreate_database(args.pg_url, BENCH_DATABASE)
    migrate(run.database_url)
    say(f"created and migrated (alembic upgrade heads) in {time.perf_counter() - started:.1f} s")
    run.shop = await load_shop(run.database_url, run.scale)
    say(f"loaded the shop: {run.shop.counts}")
    await flush_cart_index(args.redis_url, args.redis_cart_db)
    run.sessions = SessionStore(args.redis_url, args.redis_auth_db)
    machine = await describe(args.pg_url, args.redis_url, wrk_version(run.wrk))
    run.standin = await start_standin(run)
    return Report(
        started=datetime.now(UTC),
        command=command_line(),
        machine=machine,
        settings=describe_settings(run),
        data=describe_data(run),
        load_before=load_average(),
        notes=[MEASURED_NOTE, BASELINE, *(PART_NOTES[p] for p in PART_NOTES if p in args.parts)],
    )


def _server(url: str) -> str:
    return url.split("@")[-1]


def command_line() -> str:
    """The command as run, with the servers it was pointed at (passwords left out)."""
    servers = [
        f"{name}={_without_password(os.environ[name])}"
        for name in SERVER_VARIABLES
        if os.environ.get(name)
    ]
    arguments = "".join(f" {shlex.quote(a)}" for a in sys.argv[1:])
    return " ".join([*servers, "python benchmarks/hot_paths.py"]) + arguments


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def measure_all(run: Run) -> Report:
    """Every chosen part, in order; SIGTERM cancels it like Ctrl-C, and the whole is bounded."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    async with asyncio.timeout(run.args.timeout_minutes * 60):
        return await measure_parts(run)


async def measure_parts(run: Run) -> Report:
    report = await prepare(run)
    steps = {
        "throughput": throughput,
        "limiter": limiter,
        "orders": orders,
        "statements": statements,
        "memory": memory,
    }
    for part, step in steps.items():
        if part not in run.args.parts:
            continue
        try:
            await step(run, report)
        except Exception as error:  # the other parts still run; the figures say what failed
            traceback.print_exc()
            report.failures.append(f"{part}: {type(error).__name__}: {error}"[:500])
            say(f"  the {part} part failed; server logs are in {run.work_dir}")
    report.load_after = load_average()
    return report


async def cleanup(args: argparse.Namespace) -> None:
    """Remove what the run left in the servers (the processes are already stopped)."""
    sessions = SessionStore(args.redis_url, args.redis_auth_db)
    try:
        removed = await sessions.remove_ours()
        say(f"removed {removed:,} benchmark sessions from Redis index {args.redis_auth_db}")
    finally:
        await sessions.close()
    if not args.keep:
        await drop_database(args.pg_url, BENCH_DATABASE)
        say(f"dropped database {BENCH_DATABASE}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/hot_paths.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--quick", action="store_true", help="smoke run: small shop, 2 s runs, RESULTS.md untouched"
    )
    add("--parts", default=",".join(PARTS), help=f"comma-separated, of: {', '.join(PARTS)} (all)")
    timing = parser.add_argument_group("throughput (wrk)")
    timing.add_argument("--duration", type=float, help="measured seconds per path (10; quick 2)")
    timing.add_argument("--warmup", type=float, help="warm-up seconds per path (10; quick 2)")
    timing.add_argument("--connections", type=int, default=16, help="connections (16)")
    timing.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    timing.add_argument(
        "--paths",
        default=",".join(PATH_NAMES),
        help=f"comma-separated, of: {', '.join(PATH_NAMES)} (all; RESULTS.md needs all)",
    )
    timing.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record each measured path with py-spy (installed when missing) into DIR: "
        "<path>.txt, collapsed stacks of the service worker",
    )
    shopping = parser.add_argument_group("paid orders and memory")
    shopping.add_argument("--shoppers", type=int, default=32, help="concurrent shoppers (32)")
    shopping.add_argument("--orders-duration", type=float, help="measured seconds (30; quick 4)")
    shopping.add_argument("--orders-warmup", type=float, help="warm-up seconds (10; quick 1)")
    shopping.add_argument("--memory-requests", type=int, help="requests (500,000; quick 5,000)")
    shopping.add_argument(
        "--memory-minutes", type=float, default=90.0, help="bound on the memory part (90)"
    )
    data = parser.add_argument_group("data and servers")
    data.add_argument("--users", type=int, help="users with carts (5,000; quick 400)")
    data.add_argument(
        "--sessions", type=int, help="browsers per read and per write group (1,000; quick 100)"
    )
    data.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_ADMIN_URL", "postgresql://root@127.0.0.1:5432/test"),
        help="any database on the PostgreSQL server; the benchmark creates its own beside it "
        "(BENCH_ADMIN_URL, else postgresql://root@127.0.0.1:5432/test)",
    )
    data.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379"),
        help="the Redis server (BENCH_REDIS_URL, else redis://127.0.0.1:6379)",
    )
    data.add_argument("--redis-auth-db", type=int, default=11, help="sessions index (11)")
    data.add_argument(
        "--redis-cart-db", type=int, default=10, help="cart index, flushed at start (10)"
    )
    output = parser.add_argument_group("servers and output")
    output.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Hypercorn's --access-logfile - as in entrypoint.sh, into the run's log (on)",
    )
    output.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write the hot_paths section of benchmarks/RESULTS.md (on; off with --quick)",
    )
    output.add_argument("--keep", action="store_true", help="keep the database and the logs")
    output.add_argument(
        "--timeout-minutes", type=float, default=180.0, help="bound on the whole run (180)"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {
        "duration": 2.0 if quick else 10.0,
        "warmup": 2.0 if quick else 10.0,
        "orders_duration": 4.0 if quick else 30.0,
        "orders_warmup": 1.0 if quick else 10.0,
        "memory_requests": 5_000 if quick else 500_000,
        "write": not quick,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts: {', '.join(unknown)} (choose from {', '.join(PARTS)})")
    args.paths = [path.strip() for path in args.paths.split(",") if path.strip()]
    unknown = sorted(set(args.paths) - set(PATH_NAMES))
    if unknown:
        parser.error(f"unknown paths: {', '.join(unknown)} (choose from {', '.join(PATH_NAMES)})")
    if set(args.paths) != set(PATH_NAMES):
        args.write = False
    if args.redis_auth_db == args.redis_cart_db:
        parser.error("--redis-auth-db and --redis-cart-db must differ")
    return args


def scale_of(args: argparse.Namespace) -> Scale:
    base = QUICK if args.quick else FULL
    fields = {name: getattr(base, name) for name in base.__dataclass_fields__}
    if args.users:
        fields["users"] = args.users
    if args.sessions:
        fields["sessions"] = args.sessions
    return Scale(**fields)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scale = scale_of(args)
    wrk = ensure_wrk()
    work_dir = Path(tempfile.mkdtemp(prefix="hot-paths-"))
    database_url = url_with_database(args.pg_url, BENCH_DATABASE)
    code, report, keep_logs = 1, None, args.keep
    with Processes(work_dir) as processes:
        run = Run(args, scale, processes, work_dir, wrk, database_url, make_secrets())
        try:
            # The shoppers share the machine with the service: on uvloop, as its workers run,
            # their own HTTP costs the cores less.
            report = uvloop.run(measure_all(run))
            code = 0
        except (KeyboardInterrupt, asyncio.CancelledError):
            say("\ninterrupted: stopping everything the benchmark started")
            code = 130
        except TimeoutError:
            say(f"\nthe run took longer than --timeout-minutes {args.timeout_minutes:g}")
        except Exception as error:
            traceback.print_exc()
            say(f"\nthe run failed: {type(error).__name__}: {error}")
            keep_logs = True
        finally:
            processes.stop_all()
            try:
                asyncio.run(asyncio.wait_for(cleanup(args), 60))
            except Exception as error:  # the run's own outcome matters more
                say(f"cleanup: {type(error).__name__}: {error}")
    if report is not None:
        body = markdown(report)
        if args.write and not report.failures:
            replace_section("hot_paths", body)
            say("\nwrote benchmarks/RESULTS.md (section hot_paths)")
        else:
            say("\n" + body)
        if report.failures:
            say("\nfailed parts (RESULTS.md left as it was):\n  " + "\n  ".join(report.failures))
            code, keep_logs = 1, True
    if keep_logs:
        say(f"server logs and wrk scripts kept in {work_dir}")
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
