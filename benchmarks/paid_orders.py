"""Paid orders per minute, end to end: many signed-in shoppers checking out through the stand-in.

Each shopper is a new user. The events app puts their tickets in the cart (pending `tickets`
rows, after checking what is left, as its `buy_tickets` does); for a mixed cart the market app
adds two products through the cart's own URL and the events app adds a booking too. The shopper
opens the page cart, posts its checkout form, pays on SumUp's hosted page (the stand-in), follows
"back to merchant" to the return page, and waits there until it says paid; the stand-in's webhook
to PUBLIC_BASE_URL races the return page to settle the order, as in production.

Counted: orders that reached `paid` inside the measured window (after a warm-up), per minute.
Checked afterwards: no ticket type confirmed beyond its capacity, exactly one `order.paid`
outbox row for every paid order and none for others, and at most one payment per order at SumUp.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from random import Random
from typing import Literal
from urllib.parse import urlencode, urljoin

import aiohttp
import asyncpg
import httpx

from benchmarks.browser import BrowserCredentials, BrowserError, browser_credentials
from benchmarks.hot_requests import FORM
from benchmarks.lean_http import HttpClient, HttpResponse
from benchmarks.shop_data import SessionStore, Shop

Kind = Literal["tickets", "mixed"]
BACK_LINK = re.compile(r'id="back-to-merchant"\s+href="([^"]+)"')
RETURN_POLL_SECONDS = 0.2
RETURN_WAIT_SECONDS = 20.0
FINISH_TIMEOUT_SECONDS = 60.0
SETTLE_SECONDS = 3.0
LIMITED_SHARE = 0.05  # shoppers who want the small-capacity ticket type
REFERENCE = re.compile(r"(\d+)-(\d+)$")
FIRST_USER = {"tickets": 10_000_001, "mixed": 20_000_001}

AVAILABLE = """
SELECT tt.capacity - count(t.id) FILTER (WHERE t.state IN ('reserved', 'confirmed', 'checked_in'))
FROM ticket_types AS tt LEFT JOIN tickets AS t ON t.ticket_type_id = tt.id
WHERE tt.id = $1 GROUP BY tt.capacity
"""
ADD_TICKET = """
INSERT INTO tickets (entry_id, ticket_type_id, user_id, state, code)
VALUES ($1, $2, $3, 'pending', $4)
"""
ADD_BOOKING = """
INSERT INTO calendar_entries (calendar_id, slot_id, name, start_at, end_at, state, cost, user_id)
VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)
"""
CAPACITY_CHECK = """
SELECT tt.name, tt.capacity,
       count(t.id) FILTER (WHERE t.state IN ('confirmed', 'checked_in')) AS confirmed,
       count(t.id) FILTER (WHERE t.state = 'reserved') AS reserved
FROM ticket_types AS tt LEFT JOIN tickets AS t ON t.ticket_type_id = tt.id
GROUP BY tt.id, tt.name, tt.capacity ORDER BY tt.id
"""
PAID_EVENTS = """
SELECT o.id, o.status, count(e.id) AS events
FROM orders AS o
LEFT JOIN event_outbox AS e ON e.event_type = 'order.paid' AND e.object_id = o.id::text
WHERE o.user_id >= $1 AND o.user_id < $1 + 10000000
GROUP BY o.id, o.status
HAVING (o.status = 'paid') <> (count(e.id) = 1)
"""
# How the outbox relay kept up with the rows the window's checkouts and settlements wrote: how
# many still wait, and the longest any of them waited (or has waited so far).
OUTBOX_IN_WINDOW = """
SELECT count(*) AS rows, count(*) FILTER (WHERE delivered_at IS NULL) AS waiting,
       coalesce(extract(epoch FROM max(coalesce(delivered_at, now()) - created_at)), 0) AS longest
FROM event_outbox WHERE created_at >= $1 AND created_at < $2
"""
# The longest an outbox row may wait for the relay, with its default interval (5 s), for the
# run to count as keeping up: a relay that falls behind waits longer every minute.
OUTBOX_LONGEST_WAIT_S = 30.0
PAID_IN_WINDOW = """
SELECT count(*) FROM orders
WHERE status = 'paid' AND paid_at >= $1 AND paid_at < $2
  AND user_id >= $3 AND user_id < $3 + 10000000
"""
ORDER_STATES = """
SELECT status, needs_refund, count(*) FROM orders WHERE user_id >= $1 AND user_id < $1 + 10000000
GROUP BY status, needs_refund ORDER BY status, needs_refund
"""


@dataclass
class OrdersRun:
    """What one paid-orders run saw."""

    kind: Kind
    shoppers: int
    workers: int
    window_s: float
    paid_in_window: int
    outcomes: Counter[str] = field(default_factory=Counter)
    flow_ms: list[float] = field(default_factory=list)
    order_states: list[tuple[str, bool, int]] = field(default_factory=list)
    capacity: list[tuple[str, int, int, int]] = field(default_factory=list)
    event_problems: list[tuple[int, str, int]] = field(default_factory=list)
    paid_twice_at_sumup: list[int] = field(default_factory=list)
    # The window's outbox rows: still waiting for the relay, and the longest wait among them.
    outbox_rows: int = 0
    outbox_waiting: int = 0
    outbox_longest_wait_s: float = 0.0

    @property
    def relay_behind(self) -> bool:
        return self.outbox_longest_wait_s > OUTBOX_LONGEST_WAIT_S

    @property
    def per_minute(self) -> float:
        return self.paid_in_window * 60 / self.window_s if self.window_s else 0.0

    @property
    def oversold(self) -> list[str]:
        return [
            f"{name}: {confirmed} confirmed > capacity {capacity}"
            for name, capacity, confirmed, _ in self.capacity
            if confirmed > capacity
        ]

    @property
    def problems(self) -> list[str]:
        """What the checks found wrong, in words (none when the run is ok)."""
        found = [*self.oversold]
        if self.event_problems:
            found.append(f"{len(self.event_problems)} orders with wrong `order.paid` rows")
        if self.paid_twice_at_sumup:
            found.append(f"{len(self.paid_twice_at_sumup)} orders paid twice at SumUp")
        if self.relay_behind:
            found.append(
                f"the outbox relay fell behind (a row waited {self.outbox_longest_wait_s:.0f} s)"
            )
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    def flow_percentile(self, p: float) -> float:
        if not self.flow_ms:
            return 0.0
        ordered = sorted(self.flow_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


@dataclass
class Storefront:
    """Everything a shopper needs to reach."""

    shop: Shop
    db: asyncpg.Pool
    sessions: SessionStore
    service: HttpClient
    standin: HttpClient
    cookie_name: str


class ShopperFailed(RuntimeError):
    """A step did not answer as a browser expects: counted, and the shopper moves on."""


def _require(response: HttpResponse, status: int, what: str) -> None:
    if response.status_code != status:
        raise ShopperFailed(f"{what} {response.status_code}")


async def _events_app_adds_ticket(front: Storefront, user_id: int, rng: Random) -> None:
    """Put one ticket in the user's cart, choosing a type with seats left (as buy_tickets)."""
    shop = front.shop
    wanted = shop.ticket_type("Front row" if rng.random() < LIMITED_SHARE else "Standard")
    async with front.db.acquire() as connection:
        left = await connection.fetchval(AVAILABLE, wanted.id)
        if left is not None and left <= 0:
            wanted = shop.ticket_type("Standard")
        await connection.execute(
            ADD_TICKET, shop.event_entry_id, wanted.id, user_id, secrets.token_hex(8).upper()
        )


async def _events_app_adds_booking(front: Storefront, user_id: int, rng: Random) -> None:
    slot = rng.choice(front.shop.slots)
    await front.db.execute(
        ADD_BOOKING,
        slot.calendar_id,
        slot.id,
        slot.name,
        slot.start_at,
        slot.end_at,
        slot.cost,
        user_id,
    )


async def _add_product(front: Storefront, browser: BrowserCredentials, product_id: int) -> None:
    response = await front.service.post(
        f"/add/{product_id}/",
        headers=browser.headers(htmx=True) | {"Content-Type": FORM},
        content=b"quantity=1",
    )
    _require(response, 200, "add")


async def pay_on_hosted_page(standin: HttpClient, hosted_url: str) -> str:
    """Pay as the shopper does on SumUp's page; the success page's "back to merchant" link."""
    page = await standin.get(hosted_url)
    _require(page, 200, "hosted page")
    paid = await standin.post(f"{hosted_url}/pay")
    _require(paid, 303, "pay")
    success = await standin.get(urljoin(hosted_url, paid.headers["location"]))
    _require(success, 200, "success page")
    link = BACK_LINK.search(success.text)
    if link is None:
        raise ShopperFailed("no back link")
    return html.unescape(link.group(1))


async def _wait_paid(front: Storefront, browser: BrowserCredentials, return_url: str) -> str:
    """The return page, until it says paid (the webhook or the page itself settles the order)."""
    deadline = time.monotonic() + RETURN_WAIT_SECONDS
    while True:
        page = await front.service.get(return_url, headers=browser.headers())
        _require(page, 200, "return page")
        if 'data-state="paid"' in page.text:
            return "paid, refund due" if 'id="refund-notice"' in page.text else "paid"
        if 'data-state="pending"' not in page.text or time.monotonic() > deadline:
            state = re.search(r'data-state="(\w+)"', page.text)
            return f"return page {state.group(1) if state else '?'}"
        await asyncio.sleep(RETURN_POLL_SECONDS)


async def one_order(front: Storefront, kind: Kind, user_id: int, rng: Random) -> tuple[str, float]:
    """One shopper's order from cart to paid; the outcome and checkout-to-paid milliseconds."""
    shop = front.shop
    page_path = f"/{shop.event_slug}/"
    sid = (await front.sessions.sign_in([user_id]))[user_id]
    await _events_app_adds_ticket(front, user_id, rng)
    browser = await browser_credentials(
        front.service, cookie_name=front.cookie_name, sid=sid, path=page_path
    )
    if kind == "mixed":
        for product_id in rng.sample(shop.products_by_page[shop.event_slug], 2):
            await _add_product(front, browser, product_id)
        await _events_app_adds_booking(front, user_id, rng)
        view = await front.service.get(page_path, headers=browser.headers())
        _require(view, 200, "page cart")
        browser = browser.with_cookies(view)
    started = time.perf_counter()
    answer = await front.service.post(
        f"{page_path}checkout/",
        headers=browser.headers() | {"Content-Type": FORM},
        content=urlencode({"csrf_token": browser.csrf_token}).encode(),
    )
    if answer.status_code != 303:
        return f"checkout answered {answer.status_code}", 0.0
    return_url = await pay_on_hosted_page(front.standin, answer.headers["location"])
    outcome = await _wait_paid(front, browser.with_cookies(answer), return_url)
    return outcome, (time.perf_counter() - started) * 1000


async def run_orders(
    front: Storefront,
    kind: Kind,
    *,
    shoppers: int,
    workers: int,
    warmup_s: float,
    duration_s: float,
    standin_url: str,
) -> OrdersRun:
    """`shoppers` concurrent shoppers through a warm-up and the measured window; then checks.

    The window opens once the warm-up is over and every shopper has finished a first order (a
    steady state: nobody is still on their first page), and lasts `duration_s`.
    """
    first_user = FIRST_USER[kind]
    next_user = iter(range(first_user, first_user + 10_000_000))
    run = OrdersRun(kind, shoppers, workers, duration_s, 0)
    window: list[datetime] = []
    first_round, finished = asyncio.Event(), asyncio.Event()

    async def mark_window() -> None:
        await asyncio.sleep(warmup_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(first_round.wait(), duration_s)
        window.append(datetime.now(UTC))
        await asyncio.sleep(duration_s)
        window.append(datetime.now(UTC))
        finished.set()

    async def shopper(number: int) -> None:
        rng = Random(number)
        while not finished.is_set():
            in_window = bool(window)
            try:
                outcome, elapsed = await one_order(front, kind, next(next_user), rng)
            except (ShopperFailed, BrowserError) as failure:
                outcome, elapsed = f"failed: {str(failure)[:60]}", 0.0
            except (httpx.HTTPError, aiohttp.ClientError, TimeoutError) as error:
                outcome, elapsed = f"failed: {type(error).__name__}", 0.0
            run.outcomes[outcome] += 1
            if sum(run.outcomes.values()) >= shoppers:
                first_round.set()
            if elapsed and in_window:
                run.flow_ms.append(elapsed)

    clock = asyncio.create_task(mark_window())
    tasks = [asyncio.create_task(shopper(n)) for n in range(shoppers)]
    try:
        await clock
        await asyncio.wait_for(asyncio.gather(*tasks), FINISH_TIMEOUT_SECONDS)
    finally:
        for task in [clock, *tasks]:
            task.cancel()
        await asyncio.gather(clock, *tasks, return_exceptions=True)
    await asyncio.sleep(SETTLE_SECONDS)  # webhooks still on their way
    window_start, window_end = window
    run.window_s = (window_end - window_start).total_seconds()
    async with front.db.acquire() as connection:
        run.paid_in_window = int(
            await connection.fetchval(PAID_IN_WINDOW, window_start, window_end, first_user)
        )
        run.order_states = [
            (str(r[0]), bool(r[1]), int(r[2]))
            for r in await connection.fetch(ORDER_STATES, first_user)
        ]
        run.capacity = [
            (str(r["name"]), int(r["capacity"]), int(r["confirmed"]), int(r["reserved"]))
            for r in await connection.fetch(CAPACITY_CHECK)
        ]
        run.event_problems = [
            (int(r["id"]), str(r["status"]), int(r["events"]))
            for r in await connection.fetch(PAID_EVENTS, first_user)
        ]
        outbox = await connection.fetchrow(OUTBOX_IN_WINDOW, window_start, window_end)
        assert outbox is not None
        run.outbox_rows = int(outbox["rows"])
        run.outbox_waiting = int(outbox["waiting"])
        run.outbox_longest_wait_s = float(outbox["longest"])
    run.paid_twice_at_sumup = await paid_twice_at_sumup(front.standin, standin_url)
    return run


async def paid_twice_at_sumup(http: HttpClient, standin_url: str) -> list[int]:
    """Orders with more than one successful payment among their SumUp checkouts."""
    response = await http.get(f"{standin_url}/_standin/checkouts")
    response.raise_for_status()
    payments: Counter[int] = Counter()
    for checkout in response.json():
        match = REFERENCE.search(str(checkout.get("checkout_reference", "")))
        if match is None:
            continue
        successful = [
            t for t in checkout.get("transactions", []) if t.get("status") == "SUCCESSFUL"
        ]
        payments[int(match.group(1))] += len(successful)
    return sorted(order for order, count in payments.items() if count > 1)
