"""Shoppers for the fault tests: signed-in people adding to their carts and checking out
against the service on its Hypercorn workers, each request's outcome and time kept.

The shop lives in a throwaway PostgreSQL; sessions in a throwaway Redis; SumUp is the
stand-in process. What the tests then check: every acknowledged add is in the database, no
order is paid twice, and a request answered 5xx overlapped an outage.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from config.settings import DEVELOPMENT_SECRET
from lib.csrf import sign
from lib.db import make_engine
from lib.sessions import session_key
from models import CartItem, Order, OrderItem, OutboxEvent
from tests.support import factories as f
from tests.support.standin import StandinControl

SESSION_COOKIE = "coop_session"
AUTH_DB = 15
PAGE_SLUG = "bakery"
PRODUCTS = (("Sourdough loaf", "4.50"), ("Seeded rye", "3.80"), ("Honey cake", "2.20"))
# A shopper checks out after this many adds.
ADDS_PER_CHECKOUT = 3
CHECKOUT_ID = re.compile(r"/pay/c-([0-9a-f-]{36})$")
REFERENCE = re.compile(r"-(\d+)-\d+$")
REQUEST_TIMEOUT_SECONDS = 30.0
# A person whose click failed does not click again at once.
PAUSE_AFTER_FAILURE_SECONDS = 0.1


@dataclass(frozen=True)
class Outcome:
    """One request: what, when it started and ended (monotonic), and its status (None: the
    connection failed)."""

    shopper: int
    kind: str
    started: float
    ended: float
    status: int | None

    @property
    def failed(self) -> bool:
        return self.status is None or self.status >= 500


@dataclass
class Outage:
    """A server down from `down_at` until `back_at` (when it accepted connections again)."""

    name: str
    down_at: float
    back_at: float = float("inf")


@dataclass
class Shop:
    product_ids: list[int]


async def seed_shop(database_url: str) -> Shop:
    """The bakery page and its products, in the throwaway database."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            page = await f.page(session, PAGE_SLUG, "The Bakery")
            products = [await f.product(session, page, title, price) for title, price in PRODUCTS]
            return Shop(product_ids=[product.id for product in products])
    finally:
        await engine.dispose()


async def sign_in_shoppers(redis_url: str, user_ids: Iterable[int]) -> dict[int, str]:
    """A shared session per user, written as the account app writes it: user id → session id."""
    client = Redis.from_url(redis_url)
    sessions = {}
    try:
        for user_id in user_ids:
            sid = secrets.token_urlsafe(32)
            await client.set(session_key(sid), json.dumps({"user_id": user_id}))
            sessions[user_id] = sid
    finally:
        await client.aclose()
    return sessions


@dataclass
class Shopper:
    """One signed-in person: adds products, checks out every few adds, pays, comes back."""

    user_id: int
    session_id: str
    base_url: str
    shop: Shop
    standin: StandinControl
    outcomes: list[Outcome]
    acknowledged_adds: Counter[int] = field(default_factory=Counter)
    attempted_adds: Counter[int] = field(default_factory=Counter)
    paid_orders: set[int] = field(default_factory=set)

    async def run(self, stop: asyncio.Event) -> None:
        # The token is bound to the shopper's session, as a page rendered for it would carry.
        token = sign(DEVELOPMENT_SECRET, self.session_id)
        cookies = {SESSION_COOKIE: self.session_id}
        async with httpx.AsyncClient(
            base_url=self.base_url, cookies=cookies, timeout=REQUEST_TIMEOUT_SECONDS
        ) as http:
            number = 0
            while not stop.is_set():
                product_id = self.shop.product_ids[number % len(self.shop.product_ids)]
                number += 1
                await self._add(http, token, product_id)
                if number % ADDS_PER_CHECKOUT == 0:
                    await self._check_out(http, token)

    async def _add(self, http: httpx.AsyncClient, token: str, product_id: int) -> None:
        self.attempted_adds[product_id] += 1
        response = await self._send(
            http, "add", "POST", f"/add/{product_id}/", data={"csrf_token": token}
        )
        if response is not None and response.status_code == 303:
            self.acknowledged_adds[product_id] += 1

    async def _check_out(self, http: httpx.AsyncClient, token: str) -> None:
        response = await self._send(
            http,
            "checkout",
            "POST",
            f"/{PAGE_SLUG}/checkout/",
            # A signed-in shopper's form has no address; a guest's must.
            data={"csrf_token": token, "email": "shopper@example.org"},
        )
        if response is None or response.status_code != 303:
            return
        match = CHECKOUT_ID.search(response.headers.get("location", ""))
        if match is None:
            return  # a notice page (prices changed) or an order already paid
        paid = await self.standin.pay(match.group(1))
        reference = REFERENCE.search(str(paid.get("checkout_reference", "")))
        assert reference is not None, paid
        order_id = int(reference.group(1))
        self.paid_orders.add(order_id)
        await self._send(http, "return", "GET", f"/checkout/return/{order_id}/")

    async def _send(
        self, http: httpx.AsyncClient, kind: str, method: str, path: str, **kwargs: Any
    ) -> httpx.Response | None:
        started = time.monotonic()
        try:
            response: httpx.Response | None = await http.request(method, path, **kwargs)
        except httpx.TransportError:
            response = None
        outcome = Outcome(
            shopper=self.user_id,
            kind=kind,
            started=started,
            ended=time.monotonic(),
            status=None if response is None else response.status_code,
        )
        self.outcomes.append(outcome)
        if outcome.failed:
            await asyncio.sleep(PAUSE_AFTER_FAILURE_SECONDS)
        return response


def shoppers_for(
    sessions: dict[int, str],
    *,
    base_url: str,
    shop: Shop,
    standin: StandinControl,
    outcomes: list[Outcome],
) -> list[Shopper]:
    """A shopper per signed-in session (`sign_in_shoppers`), all keeping their outcomes in one
    list."""
    return [
        Shopper(
            user_id=user_id,
            session_id=sid,
            base_url=base_url,
            shop=shop,
            standin=standin,
            outcomes=outcomes,
        )
        for user_id, sid in sessions.items()
    ]


def successes_since(outcomes: Sequence[Outcome], moment: float) -> Counter[int]:
    """Per shopper, the requests started at or after `moment` that succeeded."""
    return Counter(o.shopper for o in outcomes if o.started >= moment and not o.failed)


async def wait_for_successes(
    outcomes: Sequence[Outcome],
    shoppers: Sequence[Shopper],
    *,
    since: float,
    each: int,
    seconds: float,
    what: str,
) -> None:
    """Poll until every shopper had `each` successful requests started since `since`."""
    deadline = time.monotonic() + seconds
    while True:
        done = successes_since(outcomes, since)
        if all(done[s.user_id] >= each for s in shoppers):
            return
        if time.monotonic() > deadline:
            late = [o for o in outcomes if o.started >= since]
            raise AssertionError(
                f"{what}: not every shopper succeeded {each} times within {seconds:g}s "
                f"({dict(done)}); since then: {[(o.kind, o.status) for o in late][-20:]}"
            )
        await asyncio.sleep(0.05)


def unexplained_failures(outcomes: Sequence[Outcome], outages: Sequence[Outage]) -> list[Outcome]:
    """Failed requests that did not overlap any outage: a 5xx while every server was up, or
    one started after the server came back."""
    return [
        o
        for o in outcomes
        if o.failed and not any(o.ended >= x.down_at and o.started < x.back_at for x in outages)
    ]


async def check_the_data(database_url: str, shoppers: Sequence[Shopper]) -> None:
    """Every acknowledged add is in the database (at most the adds tried), and no order was
    paid twice.

    An add is kept either in the shopper's live cart or in a paid order: the settlement takes
    what an order bought out of the cart, and a line that grew after its checkout keeps only
    the difference, so its bought part is found in the order's items, not in any cart row."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            live = await session.execute(
                select(CartItem.user_id, CartItem.product_id, func.sum(CartItem.quantity))
                .where(CartItem.deleted_at.is_(None))
                .group_by(CartItem.user_id, CartItem.product_id)
            )
            bought = await session.execute(
                select(Order.user_id, OrderItem.ref_id, func.sum(OrderItem.quantity))
                .join(Order, Order.id == OrderItem.order_id)
                .where(Order.status == "paid", OrderItem.kind == "product")
                .group_by(Order.user_id, OrderItem.ref_id)
            )
            stored = Counter[tuple[int, int]]()
            for user, product, total in [*live, *bought]:
                stored[(user, product)] += int(total)
            paid_events = Counter(
                await session.scalars(
                    select(OutboxEvent.object_id).where(OutboxEvent.event_type == "order.paid")
                )
            )
            paid_orders = set(await session.scalars(select(Order.id).where(Order.status == "paid")))
    finally:
        await engine.dispose()
    for shopper in shoppers:
        for product_id, acknowledged in shopper.acknowledged_adds.items():
            kept = stored.get((shopper.user_id, product_id), 0)
            assert acknowledged <= kept <= shopper.attempted_adds[product_id], (
                f"user {shopper.user_id}, product {product_id}: {acknowledged} adds "
                f"acknowledged, {shopper.attempted_adds[product_id]} tried, {kept} stored"
            )
    assert all(count == 1 for count in paid_events.values()), paid_events
    assert {int(order_id) for order_id in paid_events} == paid_orders


async def paid_twice_at_sumup(standin: StandinControl) -> list[int]:
    """Orders with more than one PAID checkout at SumUp."""
    paid = Counter(_order_of(c) for c in await standin.checkouts() if c["status"] == "PAID")
    return [order for order, count in paid.items() if count > 1]


def _order_of(checkout: dict[str, Any]) -> int:
    match = REFERENCE.search(checkout["checkout_reference"])
    assert match is not None
    return int(match.group(1))
