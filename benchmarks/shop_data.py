"""The hot-path benchmark's shop: a fresh database migrated by alembic, filled with COPY.

Only the tables `alembic upgrade heads` creates are relied on, and only through plain SQL: pages
with products, a village hall whose calendar has bookable sessions and an event selling tickets,
thousands of users' carts (each with five lines on a "home" page), some pending bookings and
tickets, and a paid-order history. Signed-in browsers are sessions written into Redis the way the
account app writes them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from random import Random
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from redis.asyncio import Redis

from benchmarks.browser import SESSION_PREFIX, SID_PREFIX, new_sid, session_record

ROOT = Path(__file__).resolve().parent.parent
MIGRATE_TIMEOUT_SECONDS = 180
PAGE_SLUGS = (
    "village-hall",
    "bakery",
    "garden-club",
    "dairy",
    "orchard",
    "pantry",
    "crafts",
    "kitchen",
    "bees",
    "books",
    "pottery",
    "cider",
)
TITLES = (
    "Sourdough loaf",
    "Seeded rye",
    "Focaccia",
    "Croissant",
    "Cinnamon bun",
    "Oat biscuits",
    "Carrot cake",
    "Apple juice",
    "Pear cider",
    "Free-range eggs",
    "Goat cheese",
    "Cheddar",
    "Butter",
    "Honey",
    "Strawberry jam",
    "Chutney",
    "Kale",
    "Leeks",
    "Beetroot",
    "Squash",
    "Plums",
    "Rhubarb",
    "Mushrooms",
    "Tomatoes",
    "Herb bundle",
    "Coffee beans",
    "Loose tea",
    "Granola",
    "Lentils",
    "Olive oil",
    "Candles",
    "Soap bar",
    "Tote bag",
    "Compost",
    "Seed packet",
)
HOME_LINES = 5
EVENT_NAME = "Harvest festival"
# (name, price, limited): a limited type has the scale's small capacity, the others a large one.
TICKET_TYPES = (
    ("Standard", "12.00", False),
    ("Concession", "8.00", False),
    ("Front row", "25.00", True),
)
LARGE_CAPACITY = 1_000_000
SESSION_TTL_SECONDS = 6 * 3600


@dataclass(frozen=True)
class Scale:
    """How big the shop is."""

    users: int
    pages: int
    products_per_page: int
    sessions: int  # signed-in browsers the throughput runs use (per read / write group)
    slots: int
    front_row_capacity: int
    past_orders_per_user: int

    def __post_init__(self) -> None:
        if self.users < 2 * self.sessions:
            raise ValueError("users must be at least twice sessions (read and write groups)")
        if not 2 <= self.pages <= len(PAGE_SLUGS):
            raise ValueError(f"pages must be 2..{len(PAGE_SLUGS)}")
        if self.products_per_page < HOME_LINES + 2:
            raise ValueError(f"products_per_page must be at least {HOME_LINES + 2}")


FULL = Scale(
    users=5_000,
    pages=8,
    products_per_page=50,
    sessions=1_000,
    slots=60,
    front_row_capacity=40,
    past_orders_per_user=2,
)
QUICK = Scale(
    users=400,
    pages=4,
    products_per_page=20,
    sessions=100,
    slots=20,
    front_row_capacity=5,
    past_orders_per_user=1,
)


@dataclass(frozen=True)
class CartOwner:
    """A user with five lines on their home page (the page cart the benchmark opens)."""

    user_id: int
    home_slug: str
    home_item_ids: tuple[int, ...]


@dataclass(frozen=True)
class Slot:
    id: int
    calendar_id: int
    name: str
    start_at: datetime
    end_at: datetime
    cost: Decimal


@dataclass(frozen=True)
class TicketTypeRow:
    id: int
    name: str
    capacity: int


@dataclass
class Shop:
    """What was loaded, as the benchmark needs to address it."""

    slugs: list[str]
    product_ids: list[int]
    products_by_page: dict[str, list[int]]
    event_slug: str
    event_entry_id: int
    ticket_types: list[TicketTypeRow]
    slots: list[Slot]
    readers: list[CartOwner]
    writers: list[CartOwner]
    user_ids: list[int]
    counts: dict[str, int] = field(default_factory=dict)

    def ticket_type(self, name: str) -> TicketTypeRow:
        return next(t for t in self.ticket_types if t.name == name)


def url_with_database(server_url: str, database: str) -> str:
    """The same PostgreSQL server, another database."""
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def redis_url_with_db(server_url: str, db: int) -> str:
    """The same Redis server, another index."""
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{db}", query=""))


async def recreate_database(admin_url: str, database: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()


async def drop_database(admin_url: str, database: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await connection.close()


def migrate(database_url: str) -> None:
    """`alembic upgrade heads`, as the entrypoint runs it."""
    env = {**os.environ, "DATABASE_URL": database_url}
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "heads"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=MIGRATE_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"alembic upgrade heads failed:\n{result.stdout}\n{result.stderr}")


def _money(rng: Random, low: float, high: float) -> Decimal:
    return Decimal(f"{rng.uniform(low, high):.2f}")


async def _copy(
    connection: asyncpg.Connection, table: str, columns: list[str], rows: list[tuple[object, ...]]
) -> None:
    if rows:
        await connection.copy_records_to_table(table, records=rows, columns=columns)


async def load_shop(database_url: str, scale: Scale, *, seed: int = 42) -> Shop:
    """Fill the freshly migrated database; returns what the benchmark addresses."""
    rng = Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    slugs = list(PAGE_SLUGS[: scale.pages])
    pages = [(n + 1, slug, slug.replace("-", " ").title()) for n, slug in enumerate(slugs)]
    products: list[tuple[object, ...]] = []
    product_ids: list[int] = []
    products_by_page: dict[str, list[int]] = {}
    for page_id, slug, _ in pages:
        for n in range(scale.products_per_page):
            product_id = len(products) + 1
            title = f"{TITLES[(product_id * 7 + n) % len(TITLES)]} {n + 1}"
            products.append((product_id, page_id, f"p{product_id}", title, "", _money(rng, 1, 25)))
            product_ids.append(product_id)
            products_by_page.setdefault(slug, []).append(product_id)
    hall_id, event_slug = 1, slugs[0]
    calendar_id = 1
    slots = [
        Slot(
            id=n + 1,
            calendar_id=calendar_id,
            name=f"Workshop {n + 1}",
            start_at=now + timedelta(days=7 + n // 4, hours=9 + 2 * (n % 4)),
            end_at=now + timedelta(days=7 + n // 4, hours=11 + 2 * (n % 4)),
            cost=Decimal(f"{10 + (n % 5) * 5}.00"),
        )
        for n in range(scale.slots)
    ]
    event_entry_id = 1
    # (id, calendar_id, slot_id, name, start_at, end_at, state, cost, user_id, ticket_price)
    entries: list[tuple[object, ...]] = [
        (
            event_entry_id,
            calendar_id,
            None,
            EVENT_NAME,
            now + timedelta(days=30),
            None,
            *("confirmed", None, None, Decimal("12.00")),
        )
    ]
    ticket_types = [
        TicketTypeRow(n + 1, name, scale.front_row_capacity if limited else LARGE_CAPACITY)
        for n, (name, _, limited) in enumerate(TICKET_TYPES)
    ]
    prices = {name: Decimal(price) for name, price, _ in TICKET_TYPES}
    cart_items: list[tuple[object, ...]] = []
    tickets: list[tuple[object, ...]] = []
    owners: dict[int, CartOwner] = {}
    other_slugs = slugs[1:]
    for user_id in range(1, scale.users + 1):
        home = other_slugs[user_id % len(other_slugs)]
        chosen = rng.sample(products_by_page[home], HOME_LINES)
        extra_pages = rng.sample(slugs, k=min(len(slugs), rng.randint(0, 2)))
        extra = [
            product
            for slug in extra_pages
            if slug != home
            for product in rng.sample(products_by_page[slug], rng.randint(1, 3))
        ]
        home_ids: list[int] = []
        for product_id in chosen + extra:
            item_id = len(cart_items) + 1
            cart_items.append((item_id, user_id, product_id, rng.randint(1, 3)))
            if product_id in chosen:
                home_ids.append(item_id)
        owners[user_id] = CartOwner(user_id, home, tuple(home_ids))
        if rng.random() < 0.25:
            slot = rng.choice(slots)
            entries.append(
                (
                    len(entries) + 1,
                    calendar_id,
                    slot.id,
                    slot.name,
                    slot.start_at,
                    slot.end_at,
                    *("pending", slot.cost, user_id, None),
                )
            )
        if rng.random() < 0.15:
            for _ in range(rng.randint(1, 2)):
                ticket_id = len(tickets) + 1
                code = f"B{ticket_id:015X}"
                tickets.append((ticket_id, event_entry_id, 1, user_id, "pending", code))
    started = time.perf_counter()
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            await _copy(connection, "pages", ["id", "slug", "title"], list(pages))
            await _copy(
                connection,
                "products",
                ["id", "page_id", "slug", "title", "description", "price"],
                products,
            )
            await _copy(
                connection,
                "calendars",
                ["id", "container_type", "container_id", "name"],
                [(calendar_id, "page", hall_id, "Workshops and events")],
            )
            await _copy(
                connection,
                "calendar_slots",
                ["id", "calendar_id", "name", "start_at", "end_at", "cost"],
                [(s.id, s.calendar_id, s.name, s.start_at, s.end_at, s.cost) for s in slots],
            )
            await _copy(
                connection,
                "calendar_entries",
                [
                    *("id", "calendar_id", "slot_id", "name", "start_at", "end_at"),
                    *("state", "cost", "user_id", "ticket_price"),
                ],
                entries,
            )
            await _copy(
                connection,
                "ticket_types",
                ["id", "entry_id", "name", "cost", "capacity"],
                [(t.id, event_entry_id, t.name, prices[t.name], t.capacity) for t in ticket_types],
            )
            await _copy(
                connection,
                "tickets",
                ["id", "entry_id", "ticket_type_id", "user_id", "state", "code"],
                tickets,
            )
            await _copy(
                connection, "cart_items", ["id", "user_id", "product_id", "quantity"], cart_items
            )
            await _load_history(connection, scale)
            for table in (
                "pages",
                "products",
                "calendars",
                "calendar_slots",
                "calendar_entries",
                "ticket_types",
                "tickets",
                "cart_items",
                "orders",
                "order_items",
            ):
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
        await connection.execute("VACUUM (ANALYZE)")
        counts = {
            table: int(await connection.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608
            for table in ("products", "cart_items", "calendar_entries", "tickets", "orders")
        }
    finally:
        await connection.close()
    counts["load_ms"] = int((time.perf_counter() - started) * 1000)
    user_ids = list(range(1, scale.users + 1))
    return Shop(
        slugs=slugs,
        product_ids=product_ids,
        products_by_page=products_by_page,
        event_slug=event_slug,
        event_entry_id=event_entry_id,
        ticket_types=ticket_types,
        slots=slots,
        readers=[owners[u] for u in user_ids[: scale.sessions]],
        writers=[owners[u] for u in user_ids[-scale.sessions :]],
        user_ids=user_ids,
        counts=counts,
    )


# A paid history for every user: orders and lines, as months of shopping leave them.
LOAD_HISTORY = """
INSERT INTO orders (id, user_id, page_id, status, currency, total_amount, description, attempt,
                    sumup_reference, sumup_transaction_code, paid_at, created_at, updated_at)
SELECT g, 1 + (g - 1) % $1::int, 1 + g % $2::int, 'paid', 'GBP', 0, 'Earlier order', 1,
       'hist-' || g, 'TXH' || g, at, at, at
FROM (SELECT g, now() - interval '1 hour' * g AS at
      FROM generate_series(1, $1::int * $3::int) AS g) AS s
"""
LOAD_HISTORY_ITEMS = """
INSERT INTO order_items (order_id, kind, ref_id, page_id, title, quantity, unit_price,
                         line_total, created_at)
SELECT o.id, 'product', p.id, p.page_id, p.title, 1, p.price, p.price, o.created_at
FROM orders AS o
JOIN LATERAL (SELECT id, page_id, title, price FROM products
              WHERE page_id = o.page_id ORDER BY id OFFSET (o.id % 5) LIMIT 2) AS p ON true
"""


async def _load_history(connection: asyncpg.Connection, scale: Scale) -> None:
    if scale.past_orders_per_user <= 0:
        return
    await connection.execute(LOAD_HISTORY, scale.users, scale.pages, scale.past_orders_per_user)
    await connection.execute(LOAD_HISTORY_ITEMS)
    await connection.execute(
        "UPDATE orders SET total_amount = t.total FROM "
        "(SELECT order_id, sum(line_total) AS total FROM order_items GROUP BY order_id) AS t "
        "WHERE t.order_id = orders.id"
    )


class SessionStore:
    """Shared sessions in the auth index, written as the account app writes them."""

    def __init__(self, redis_url: str, auth_db: int) -> None:
        self._redis = Redis.from_url(redis_url_with_db(redis_url, auth_db), decode_responses=True)

    async def sign_in(self, user_ids: list[int]) -> dict[int, str]:
        """A new session for each user; user id → session id (the cookie value)."""
        sids = {user_id: new_sid() for user_id in user_ids}
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id, sid in sids.items():
                pipe.set(SESSION_PREFIX + sid, session_record(user_id), ex=SESSION_TTL_SECONDS)
            await pipe.execute()
        return sids

    async def remove_ours(self) -> int:
        """Delete every session this benchmark wrote (and no other key)."""
        removed = 0
        async for key in self._redis.scan_iter(match=f"{SESSION_PREFIX}{SID_PREFIX}*", count=1000):
            removed += int(await self._redis.delete(key))
        return removed

    async def close(self) -> None:
        await self._redis.aclose()


async def flush_cart_index(redis_url: str, cart_db: int) -> None:
    """Empty the cart's own index, as a deploy does (never the shared sign-in index)."""
    client = Redis.from_url(redis_url_with_db(redis_url, cart_db))
    try:
        await client.flushdb()
    finally:
        await client.aclose()
