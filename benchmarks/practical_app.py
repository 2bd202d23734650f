"""The practical limit of the badge: bare Quart running the badge's one statement on asyncpg.

Served like the bare app (`hypercorn benchmarks.practical_app:app`), it answers
`GET /internal/fragments/cart-mini?user_id=N` with the fragment of `benchmarks/bare_app.py`
for the count that the service's own statement (`services/sql/cart_impl.SUMMARY`, the same
text, prepared once per pooled connection by asyncpg as the service's is) finds for user N.
No request pipeline, no session, no template: what the badge cannot do without, the
framework and one round trip to PostgreSQL. The service's badge is measured against it.
"""

from __future__ import annotations

import os

import asyncpg
from quart import Quart, Response, jsonify, request

from benchmarks.bare_app import BASE_URL, FRAGMENT, badge_response
from services.contracts.dtos import CartIdentity
from services.contracts.ownership import owner_params
from services.sql.cart_impl import SUMMARY

# The service's pool size (DATABASE_POOL_SIZE's default), so that neither waits for more
# connections than the other has.
POOL_SIZE = 10
STATEMENT = SUMMARY[True]
# The counts the badge adds up, by the statement's column labels.
COUNTED = ("count", "calendar_count", "ticket_count")

app = Quart(__name__)


def driver_url(url: str) -> str:
    """asyncpg's URL for the service's DATABASE_URL (SQLAlchemy's driver name left out)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@app.before_serving
async def open_pool() -> None:
    url = driver_url(os.environ["DATABASE_URL"])
    app.config["pool"] = await asyncpg.create_pool(url, min_size=POOL_SIZE, max_size=POOL_SIZE)


@app.after_serving
async def close_pool() -> None:
    await app.config["pool"].close()


def fragment(count: int) -> str:
    """The bare app's fragment, for `count` items."""
    return (
        FRAGMENT.replace('data-count="7"', f'data-count="{count}"')
        .replace("Cart, 7 items", f"Cart, {count} item{'' if count == 1 else 's'}")
        .replace(">7</span>", f">{count}</span>")
    )


@app.get("/internal/fragments/cart-mini")
async def cart_mini() -> Response:
    """The badge of `?user_id=`: the service's statement, then the fragment."""
    user_id = int(request.args["user_id"])
    arguments = STATEMENT.arguments(owner_params(CartIdentity(user_id=user_id)))
    row = await app.config["pool"].fetchrow(STATEMENT.sql, *arguments)
    count = sum(int(row[name] or 0) for name in COUNTED)
    return badge_response(fragment(count))


@app.get("/healthz")
async def healthz() -> Response:
    """Alive: the benchmark waits for this before measuring."""
    return jsonify({"status": "ok"})


__all__ = ["BASE_URL", "app"]
