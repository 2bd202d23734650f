"""Small helpers the cart's route tests share: requests as a browser or HTMX sends them."""

from __future__ import annotations

import re
from typing import Any

from quart import Quart
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CartItem
from tests.support.http import TEST_HOST, csrf_token, settings_of, sign_in, write_shared_session

BADGE = re.compile(r'aria-label="Cart, (\d+) items?"')


def htmx(app: Quart, client: Any) -> dict[str, str]:
    """Headers of an HTMX request with its CSRF token."""
    return {"HX-Request": "true", "X-CSRF-Token": csrf_token(app, client)}


def form_with_token(app: Quart, client: Any, **fields: str) -> dict[str, str]:
    """A plain form post with its CSRF field."""
    return {"csrf_token": csrf_token(app, client), **fields}


async def text(response: Any) -> str:
    return str(await response.get_data(as_text=True))


def badge_counts(html: str) -> list[int]:
    """Every cart-mini badge count in a page or fragment."""
    return [int(n) for n in BADGE.findall(html)]


async def anonymous_cart(app: Quart, client: Any, sid: str = "anon-cart-1") -> str:
    """Give the client a shared session that already holds an anonymous cart id."""
    session_id = await write_shared_session(app, {"cart_sid": sid})
    client.set_cookie(TEST_HOST, settings_of(app).session_cookie_name, session_id)
    return session_id


async def visit_as(app: Quart, client: Any, who: str) -> None:
    """Browse as user 1 (`who="user"`), or as the anonymous cart `my-cart`."""
    if who == "user":
        await sign_in(app, client, 1)
    else:
        await anonymous_cart(app, client, "my-cart")


async def lines_of(db: AsyncSession, **owner: Any) -> dict[int, int]:
    """product_id → quantity of the live lines of an owner (user_id= or session_id=)."""
    column, value = next(iter(owner.items()))
    rows = await db.execute(
        select(CartItem.product_id, CartItem.quantity).where(
            getattr(CartItem, column) == value, CartItem.deleted_at.is_(None)
        )
    )
    return {product_id: quantity for product_id, quantity in rows}


def input_tag(html: str, input_id: str) -> str:
    """The whole `<input>` tag with this id (its attributes as rendered)."""
    found = re.search(rf'<input id="{re.escape(input_id)}"[^>]*>', html)
    assert found is not None, f"no input #{input_id}"
    return found.group(0)
