"""The requests of each hot path, as wrk scripts and as raw bytes for the fixed-rate generator.

Every request is a different shopper: another user's badge or summary, another signed-in
browser's page cart or overview, another product added, another line's quantity set. Browsers
send their own cookies and, for HTMX posts, their CSRF token in `X-CSRF-Token` as HTMX does from
`<body hx-headers>`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from benchmarks.browser import BrowserCredentials
from benchmarks.wrk import LuaValue

FORM = "application/x-www-form-urlencoded"
CART_MINI = "/internal/fragments/cart-mini?user_id="
# The badge a shopper's own browser asks for, from its session cookie (no token, no user id).
CART_MINI_OWN = "/internal/fragments/cart-mini"
SUMMARY = "/internal/cart/summary?user_id="
LINE = re.compile(r'data-testid="line-\d+"')


@dataclass(frozen=True)
class Browser:
    """A signed-in browser of the benchmark, and the cart it can address."""

    user_id: int
    credentials: BrowserCredentials
    home_slug: str
    home_item_ids: tuple[int, ...]

    def lua(self) -> dict[str, LuaValue]:
        return {
            "cookie": self.credentials.cookie_header(),
            "token": self.credentials.csrf_token,
            "slug": self.home_slug,
            "items": list(self.home_item_ids),
        }


# One builder per path; a script's request() is one of them, or a weighted mix.
LUA_BUILDERS = r"""
local function pick(list) return list[math.random(#list)] end
local function htmx(browser)
  return {Cookie = browser.cookie, ["HX-Request"] = "true", ["X-CSRF-Token"] = browser.token,
          ["Content-Type"] = FORM}
end
local builders = {}
builders.healthz = function()
  return wrk.format("GET", "/healthz")
end
builders.cart_mini_cookie = function()
  return wrk.format("GET", CART_MINI_OWN, {Cookie = pick(READERS).cookie})
end
builders.orders_list = function()
  return wrk.format("GET", "/orders/", {Cookie = pick(READERS).cookie})
end
builders.cart_mini = function()
  return wrk.format("GET", CART_MINI .. pick(USERS), AUTH)
end
builders.summary = function()
  return wrk.format("GET", SUMMARY .. pick(USERS), AUTH)
end
builders.page_cart = function()
  local browser = pick(READERS)
  return wrk.format("GET", "/" .. browser.slug .. "/", {Cookie = browser.cookie})
end
builders.overview = function()
  return wrk.format("GET", "/", {Cookie = pick(READERS).cookie})
end
builders.add_to_cart = function()
  local browser = pick(WRITERS)
  return wrk.format("POST", "/add/" .. pick(PRODUCTS) .. "/", htmx(browser), "quantity=1")
end
builders.set_quantity = function()
  local browser = pick(WRITERS)
  local body = "quantity=" .. math.random(1, 9) .. "&view=" .. browser.slug
  return wrk.format("POST", "/items/" .. pick(browser.items) .. "/quantity/", htmx(browser), body)
end

local names, bounds = {}, {}
do
  local total, sum = 0, 0
  for _, entry in ipairs(MIX) do total = total + entry[2] end
  for _, entry in ipairs(MIX) do
    sum = sum + entry[2]
    table.insert(names, entry[1])
    table.insert(bounds, sum / total)
  end
end

function request()
  local r = math.random()
  for i, bound in ipairs(bounds) do
    if r <= bound then return builders[names[i]]() end
  end
  return builders[names[#names]]()
end
"""

PATH_NAMES = (
    "healthz",
    "cart_mini",
    "cart_mini_cookie",
    "summary",
    "page_cart",
    "overview",
    "orders_list",
    "add_to_cart",
    "set_quantity",
)
# The memory run's mix: badges dominate, as on the coop's pages; writes are a fifth.
MEMORY_MIX = (
    ("cart_mini", 40),
    ("summary", 15),
    ("page_cart", 15),
    ("overview", 10),
    ("add_to_cart", 12),
    ("set_quantity", 8),
)


def script_data(
    *,
    token: str,
    users: list[int],
    products: list[int],
    readers: list[Browser],
    writers: list[Browser],
    mix: tuple[tuple[str, int], ...],
) -> dict[str, LuaValue]:
    """The tables a script's builders draw from."""
    return {
        "FORM": FORM,
        "CART_MINI": CART_MINI,
        "CART_MINI_OWN": CART_MINI_OWN,
        "SUMMARY": SUMMARY,
        "AUTH": {"Authorization": f"Bearer {token}"},
        "USERS": users,
        "PRODUCTS": products,
        "READERS": [browser.lua() for browser in readers] or [{"cookie": "", "slug": ""}],
        "WRITERS": [browser.lua() for browser in writers] or [{"cookie": "", "slug": ""}],
        "MIX": [[name, weight] for name, weight in mix],
    }


def single(path: str) -> tuple[tuple[str, int], ...]:
    if path not in PATH_NAMES:
        raise ValueError(f"unknown path {path}")
    return ((path, 1),)


def raw_add_to_cart(
    host: str, writers: list[Browser], products: list[int], rng: random.Random
) -> Callable[[], bytes]:
    """Raw HTTP/1.1 add-to-cart requests, as the wrk script sends them, for the fixed-rate run."""

    def build() -> bytes:
        browser = rng.choice(writers)
        body = b"quantity=1"
        head = (
            f"POST /add/{rng.choice(products)}/ HTTP/1.1\r\n"
            f"Host: {host}\r\n"
            f"Cookie: {browser.credentials.cookie_header()}\r\n"
            "HX-Request: true\r\n"
            f"X-CSRF-Token: {browser.credentials.csrf_token}\r\n"
            f"Content-Type: {FORM}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    return build


class PathCheckFailed(RuntimeError):
    """A path did not answer as a shopper would see it: the benchmark must not measure errors."""


async def check_path(
    http: httpx.AsyncClient,
    path: str,
    *,
    token: str,
    user_id: int,
    reader: Browser,
    writer: Browser,
    product_id: int,
) -> None:
    """One request of the path, checked for what a shopper or another app would see."""
    auth = {"Authorization": f"Bearer {token}"}
    if path == "healthz":
        response = await http.get("/healthz")
        expected = '"ok"'
    elif path == "cart_mini_cookie":
        response = await http.get(CART_MINI_OWN, headers=reader.credentials.headers())
        expected = 'id="cart-mini"'
        if response.status_code == 200 and 'data-count="0"' in response.text:
            raise PathCheckFailed(f"the badge of user {reader.user_id}'s cookie shows 0 items")
    elif path == "orders_list":
        response = await http.get("/orders/", headers=reader.credentials.headers())
        expected = 'id="orders-list"'
        if response.status_code == 200 and 'id="orders-sign-in"' in response.text:
            raise PathCheckFailed(f"the orders list of user {reader.user_id} asks to sign in")
    elif path == "cart_mini":
        response = await http.get(f"{CART_MINI}{user_id}", headers=auth)
        expected = 'id="cart-mini"'
    elif path == "summary":
        response = await http.get(f"{SUMMARY}{user_id}", headers=auth)
        expected = '"grand_total"'
    elif path == "page_cart":
        response = await http.get(f"/{reader.home_slug}/", headers=reader.credentials.headers())
        expected = 'id="page-cart"'
        lines = len(LINE.findall(response.text))
        if response.status_code == 200 and lines != len(reader.home_item_ids):
            raise PathCheckFailed(f"page cart of user {reader.user_id} shows {lines} lines")
    elif path == "overview":
        response = await http.get("/", headers=reader.credentials.headers())
        expected = 'id="cart-overview"'
    elif path == "add_to_cart":
        response = await http.post(
            f"/add/{product_id}/",
            headers=writer.credentials.headers(htmx=True) | {"Content-Type": FORM},
            content=b"quantity=1",
        )
        expected = "Added"
    elif path == "set_quantity":
        body = f"quantity=2&view={writer.home_slug}"
        response = await http.post(
            f"/items/{writer.home_item_ids[0]}/quantity/",
            headers=writer.credentials.headers(htmx=True) | {"Content-Type": FORM},
            content=body.encode(),
        )
        expected = 'id="page-cart"'
    else:
        raise ValueError(path)
    if response.status_code != 200 or expected not in response.text:
        raise PathCheckFailed(
            f"{path}: {response.request.method} {response.request.url.raw_path.decode()} "
            f"answered {response.status_code}: {response.text[:400]}"
        )
