"""A page whose header would name the shopper from the account domain still shows when that
domain cannot be read: the header says "Signed in"."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from tests.bp.cart.helpers import text
from tests.conftest import database_url_for
from tests.support import factories as f
from tests.support.http import sign_in


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # The server answers, but refuses the connection: the database does not exist. (The pool
    # raises the driver's refusal wrapped in a DBAPI error of its own, not SQLAlchemy's.)
    return {**app_config, "database_url_account": database_url_for("cart_no_such_account")}


async def test_a_page_shows_when_the_account_domain_cannot_be_read(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    bakery = await f.page(db, "bakery", "The Bakery")
    await f.cart_item(db, await f.product(db, bakery, "Sourdough loaf", "4.50"), user_id=1)
    # Signed in by the account app, whose session carries no name this time.
    await sign_in(app, client, 1)

    page = await client.get("/bakery/")
    overview = await client.get("/")

    assert page.status_code == overview.status_code == 200
    for html in (await text(page), await text(overview)):
        assert "Sourdough loaf" in html
        assert "Signed in" in html
