"""Benchmark of the order list on a million orders: timings and plans, written to RESULTS.md.

Creates a scratch database (never the test or development one), migrates it with alembic,
bulk-loads orders and order items with generate_series, then runs the list queries of a heavy
user through the same service function the page uses and prints the median timings and the
EXPLAIN (ANALYZE, BUFFERS) plans.

    python benchmarks/orders_list.py                 # 1,000,000 orders, then drop the database
    python benchmarks/orders_list.py --keep          # keep the database for further digging
    python benchmarks/orders_list.py --reuse --keep  # skip the load, reuse a kept database

BENCH_ADMIN_URL names the server (default postgresql://root@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from sqlalchemy import ClauseElement, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine  # noqa: E402

from benchmarks.results_file import replace_section  # noqa: E402
from bp.orders.filters.qs import OrderListQuery  # noqa: E402
from bp.orders.services.list_orders import list_orders, order_list_statement  # noqa: E402
from lib.db import normalise_database_url  # noqa: E402
from lib.embedded import migrate  # noqa: E402
from services.contracts.dtos import CartIdentity  # noqa: E402

BENCH_DATABASE = "cart_bench_orders"
RESULTS_FILE = Path(__file__).with_name("RESULTS.md")
PAGE_SIZE = 20
HEAVY_USERS = 8
# A title that only about one order in ten thousand has: the search must scan a heavy user's
# whole history to find (or not find) a page of it.
RARE_TITLE = "Elderflower cordial"
TITLES = [
    "Sourdough loaf",
    "Rye bread",
    "Seeded batch",
    "Focaccia",
    "Croissant",
    "Pain au chocolat",
    "Cinnamon bun",
    "Oat biscuits",
    "Shortbread",
    "Carrot cake",
    "Lemon drizzle",
    "Brownie",
    "Apple juice",
    "Pear cider",
    "Oat milk",
    "Free-range eggs",
    "Goat cheese",
    "Cheddar",
    "Butter",
    "Honey",
    "Strawberry jam",
    "Marmalade",
    "Chutney",
    "Pickled onions",
    "Kale",
    "Carrots",
    "Potatoes",
    "Leeks",
    "Onions",
    "Garlic",
    "Beetroot",
    "Squash",
    "Apples",
    "Pears",
    "Plums",
    "Rhubarb",
    "Mushrooms",
    "Tomatoes",
    "Salad bag",
    "Herb bundle",
    "Coffee beans",
    "Loose tea",
    "Hot chocolate",
    "Granola",
    "Porridge oats",
    "Flour 1.5kg",
    "Pasta",
    "Lentils",
    "Chickpeas",
    "Olive oil",
    "Cider vinegar",
    "Sea salt",
    "Candles",
    "Soap bar",
    "Tote bag",
    "Gift card",
    "Bread course",
    "Pottery class",
    "Folk night ticket",
    "Garden tour ticket",
]
TARGET_FIRST_PAGE_MS = 20.0
TARGET_ANY_MS = 50.0


@dataclass(frozen=True)
class Case:
    """One list query of the heavy user."""

    name: str
    query: OrderListQuery
    target_ms: float


@dataclass
class Measured:
    case: Case
    median_ms: float
    p95_ms: float
    rows: int
    plan: list[str]


def admin_url() -> str:
    return os.environ.get("BENCH_ADMIN_URL", "postgresql://root@127.0.0.1:5432/test")


def url_for(database: str) -> str:
    url = make_url(admin_url()).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


async def recreate_database() -> None:
    connection = await asyncpg.connect(admin_url())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    finally:
        await connection.close()


async def drop_database() -> None:
    connection = await asyncpg.connect(admin_url())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
    finally:
        await connection.close()


LOAD_ORDERS = """
INSERT INTO orders (id, user_id, session_id, page_id, status, currency, total_amount,
                    description, attempt, sumup_transaction_code, paid_at, created_at, updated_at)
SELECT g,
       CASE WHEN r1 < 0.08 THEN 1 + floor(r2 * $2::int)::bigint
            WHEN r1 < 0.90 THEN $2::int + 1 + floor(power(r2, 2) * ($3::int - $2::int))::bigint
       END,
       CASE WHEN r1 >= 0.90 THEN 'anon-' || floor(r2 * 50000)::bigint END,
       1 + g % 40,
       CASE WHEN r3 < 0.80 THEN 'paid' WHEN r3 < 0.90 THEN 'expired'
            WHEN r3 < 0.94 THEN 'failed' WHEN r3 < 0.95 THEN 'pending' ELSE 'cancelled' END,
       'GBP',
       round((3 + r2 * 120)::numeric, 2),
       'Benchmark order',
       1,
       CASE WHEN r3 < 0.80 THEN 'TX' || g END,
       CASE WHEN r3 < 0.80 THEN created END,
       created,
       created
FROM (
    SELECT g, random() AS r1, random() AS r2, random() AS r3,
           now() - interval '1095 days' * (1 - g::float8 / $1::int)
                 - interval '1 minute' * floor(random() * 60) AS created
    FROM generate_series(1, $1::int) AS g
) AS s
"""

LOAD_ITEMS = """
INSERT INTO order_items (order_id, kind, ref_id, page_id, title, quantity, unit_price,
                         line_total, created_at)
SELECT o.id, 'product', 1 + (o.id * 7 + n) % 500, o.page_id,
       CASE WHEN o.id % 9973 = 0 AND n = 1 THEN $1::text
            ELSE ($2::text[])[1 + ((o.id * 31 + n * 17) % array_length($2::text[], 1))]
       END,
       1 + (o.id + n) % 3,
       round((1 + ((o.id * 13 + n) % 2000) / 100.0)::numeric, 2),
       round((1 + ((o.id * 13 + n) % 2000) / 100.0)::numeric, 2) * (1 + (o.id + n) % 3),
       o.created_at
FROM orders AS o CROSS JOIN LATERAL generate_series(1, 1 + (o.id % 3)::int) AS n
"""


async def load(orders: int, users: int) -> None:
    """Fill the scratch database: `orders` orders, about two lines each, skewed over users."""
    connection = await asyncpg.connect(url_for(BENCH_DATABASE))
    try:
        await connection.execute("SELECT setseed(0.42)")
        started = time.perf_counter()
        await connection.execute(LOAD_ORDERS, orders, HEAVY_USERS, users)
        await connection.execute(
            "SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders))"
        )
        print(f"loaded {orders:,} orders in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        await connection.execute(LOAD_ITEMS, RARE_TITLE, TITLES)
        print(f"loaded order items in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        await connection.execute("VACUUM (ANALYZE) orders")
        await connection.execute("VACUUM (ANALYZE) order_items")
        print(f"vacuum analyze in {time.perf_counter() - started:.1f} s")
    finally:
        await connection.close()


async def heavy_user(engine: AsyncEngine) -> tuple[int, int, int]:
    """The user with the most orders, their order count, and one of their order numbers."""
    async with engine.connect() as connection:
        user_id, count = (
            await connection.execute(
                text(
                    "SELECT user_id, count(*) FROM orders WHERE user_id IS NOT NULL "
                    "GROUP BY user_id ORDER BY count(*) DESC LIMIT 1"
                )
            )
        ).one()
        # An order from the middle of their history: found by number, not by being recent.
        number = (
            await connection.execute(
                text(
                    "SELECT id FROM orders WHERE user_id = :u "
                    "ORDER BY created_at DESC, id DESC OFFSET :n LIMIT 1"
                ),
                {"u": user_id, "n": count // 2},
            )
        ).scalar_one()
        return int(user_id), int(count), int(number)


def cases(number: int) -> list[Case]:
    return [
        Case("first page", OrderListQuery(), TARGET_FIRST_PAGE_MS),
        Case("page 50", OrderListQuery(page=50), TARGET_ANY_MS),
        Case("status filter: paid", OrderListQuery(status="paid"), TARGET_ANY_MS),
        Case("status filter: failed", OrderListQuery(status="failed"), TARGET_ANY_MS),
        Case("search by number", OrderListQuery(search=f"#{number}"), TARGET_ANY_MS),
        Case("search by title (common)", OrderListQuery(search="sourdough"), TARGET_ANY_MS),
        Case("search by title (rare)", OrderListQuery(search="elderflower"), TARGET_ANY_MS),
        Case("search by title (no match)", OrderListQuery(search="quince"), TARGET_ANY_MS),
        Case(
            "status + title search",
            OrderListQuery(status="paid", search="sourdough", page=2),
            TARGET_ANY_MS,
        ),
    ]


def literal_sql(statement: ClauseElement, engine: AsyncEngine) -> str:
    compiled = statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    return str(compiled)


async def measure(engine: AsyncEngine, identity: CartIdentity, case: Case, repeat: int) -> Measured:
    """Median and p95 of `list_orders` (the page with its lines, one statement), and its plan."""
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    timings: list[float] = []
    rows = 0
    async with sessionmaker() as session:
        # The first runs warm the cache and asyncpg's prepared statements, as a live worker has.
        for attempt in range(repeat + 3):
            started = time.perf_counter()
            page = await list_orders(
                session, identity=identity, query=case.query, page_size=PAGE_SIZE
            )
            elapsed = (time.perf_counter() - started) * 1000
            await session.rollback()
            if attempt >= 3:
                timings.append(elapsed)
            rows = len(page.orders)
        statement = order_list_statement(identity=identity, query=case.query, page_size=PAGE_SIZE)
        plan = (
            (
                await session.execute(
                    text("EXPLAIN (ANALYZE, BUFFERS) " + literal_sql(statement, engine))
                )
            )
            .scalars()
            .all()
        )
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    return Measured(case, statistics.median(timings), p95, rows, list(plan))


def key_lines(plan: list[str]) -> list[str]:
    """The plan lines that show how rows are found, and the totals."""
    keep = (
        "Limit",
        "Scan",
        "Join",
        "Loop",
        "SubPlan",
        "Filter",
        "Index Cond",
        "Buffers",
        "Execution Time",
        "Planning Time",
        "Rows Removed",
        "Sort",
    )
    return [line for line in plan if any(word in line for word in keep)]


async def table_sizes(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as connection:
        result = await connection.execute(
            text(
                "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
                "WHERE relname IN ('orders', 'order_items') ORDER BY relname"
            )
        )
        return {name: size for name, size in result}


async def counts(engine: AsyncEngine) -> tuple[int, int, int]:
    async with engine.connect() as connection:
        orders = (await connection.execute(text("SELECT count(*) FROM orders"))).scalar_one()
        items = (await connection.execute(text("SELECT count(*) FROM order_items"))).scalar_one()
        users = (
            await connection.execute(text("SELECT count(DISTINCT user_id) FROM orders"))
        ).scalar_one()
        return int(orders), int(items), int(users)


async def server_version(engine: AsyncEngine) -> str:
    async with engine.connect() as connection:
        return str((await connection.execute(text("SHOW server_version"))).scalar_one())


def write_results(
    results: list[Measured],
    *,
    totals: tuple[int, int, int],
    sizes: dict[str, str],
    user: tuple[int, int, int],
    version: str,
    repeat: int,
    out: Callable[[str], None],
) -> None:
    orders, items, users = totals
    user_id, user_orders, number = user
    lines = [
        "# Order list benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python benchmarks/orders_list.py` on "
        f"{os.cpu_count()} CPUs ({platform.machine()}), PostgreSQL {version}.",
        "",
        f"Data: {orders:,} orders, {items:,} order items, {users:,} signed-in users "
        f"(plus anonymous sessions); {HEAVY_USERS} heavy users. Sizes with indexes: "
        + ", ".join(f"{name} {size}" for name, size in sizes.items())
        + ".",
        f"Queries are those of the heaviest user (user {user_id}, {user_orders:,} orders), "
        f"{PAGE_SIZE} per page, through `list_orders` (the page with its lines, one statement), "
        f"median and p95 of {repeat} runs after 3 warm-up runs. Number searched: #{number}.",
        "",
        "| query | rows | median ms | p95 ms | target ms | |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for result in results:
        ok = "ok" if result.median_ms < result.case.target_ms else "SLOW"
        lines.append(
            f"| {result.case.name} | {result.rows} | {result.median_ms:.2f} | "
            f"{result.p95_ms:.2f} | < {result.case.target_ms:.0f} | {ok} |"
        )
    lines += [
        "",
        "## How the queries use the indexes",
        "",
        "- The page's ids come from an index-only scan of one owner's entries:",
        "  `ix_orders_user_created` (user_id, created_at DESC, id DESC), or",
        "  `ix_orders_user_status_created` with a status filter, or `ix_orders_session_created`",
        "  for an anonymous shopper. The walk is newest first and stops once the page (plus one",
        "  row, to know a next page exists) is found; then only those 21 rows are read by id.",
        "  No COUNT(*). Page 50 skips 980 index entries, which costs well under a millisecond.",
        "- A search is an EXISTS per order on `ix_order_items_order_title` (order_id) INCLUDE",
        "  (title), an index-only probe, kept per order with `OFFSET 0` in the subquery. Its",
        "  cost is bounded by the shopper's own history (here 11,655 orders: the worst case",
        "  is a term no order has, which probes them all), never by the million orders of",
        "  everyone. A term that matches stops early, as soon as the page is full.",
        "",
        "What was tried first, with only the original `(order_id)` index on order items:",
        "",
        "- A plain EXISTS: the planner cannot estimate `ILIKE '%term%'`, guesses it rare, and",
        "  scans every order line of the table (a parallel Seq Scan of order_items) to join",
        "  back; 55-65 ms already at 100,000 orders, growing with the table.",
        "- The EXISTS kept per order but visiting orders and order_items heap pages for each",
        "  of the heavy user's orders: 72 ms (no match), 84 ms (rare title), 102 ms (search",
        "  by number) median at a million orders; over the 50 ms target.",
        "- Reading ids first (index-only on orders) and covering the title in the order-lines",
        "  index (migration `c0002_item_titles`, which replaces `ix_order_items_order`) removed",
        "  both heap visits per order: the figures above.",
        "- A pg_trgm GIN index on titles would find rare terms fast but not a common term",
        "  over a heavy user's history (tens of thousands of matches to join back), and",
        "  terms shorter than three characters not at all; it is not needed for the targets.",
        "",
        "Timings are with the data cached in memory, as a live server has it; a cold cache",
        "(just after a restart) reads the same pages from disk once.",
        "",
        "## Plans (EXPLAIN (ANALYZE, BUFFERS), key lines)",
        "",
    ]
    for result in results:
        lines += [f"### {result.case.name}", "", "```", *key_lines(result.plan), "```", ""]
    out("\n".join(lines))


def write_results_file(body: str) -> None:
    replace_section("orders_list", body, path=RESULTS_FILE)


async def run(args: argparse.Namespace) -> int:
    if not args.reuse:
        await recreate_database()
        migrate(url_for(BENCH_DATABASE))
        await load(args.orders, args.users)
    engine = create_async_engine(normalise_database_url(url_for(BENCH_DATABASE)))
    try:
        user = await heavy_user(engine)
        identity = CartIdentity(user_id=user[0])
        results = []
        for case in cases(user[2]):
            result = await measure(engine, identity, case, args.repeat)
            results.append(result)
            print(
                f"{case.name:32} rows={result.rows:3} median={result.median_ms:7.2f} ms "
                f"p95={result.p95_ms:7.2f} ms"
            )
        for result in results:
            print(f"\n-- {result.case.name}")
            print("\n".join(result.plan))
        write_results(
            results,
            totals=await counts(engine),
            sizes=await table_sizes(engine),
            user=user,
            version=await server_version(engine),
            repeat=args.repeat,
            out=write_results_file,
        )
        print(f"\nwrote {RESULTS_FILE.relative_to(ROOT)}")
        slow = [r for r in results if r.median_ms >= r.case.target_ms]
        return 1 if slow else 0
    finally:
        await engine.dispose()
        if not args.keep:
            await drop_database()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept scratch database")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
