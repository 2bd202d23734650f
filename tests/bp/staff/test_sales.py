"""Sales for the coop's accounts: totals by day and by line, and CSV exports a spreadsheet
(and Python's csv module) reads back to the database's figures."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from models import Order
from tests.support import factories as f
from tests.support.checkout import text
from tests.support.http import sign_in

STAFF = 41
# 23:30 UTC on 1 July is already 2 July in London (BST): the day is the coop's.
LATE_EVENING = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)


async def paid(
    db: AsyncSession,
    items: list[tuple[str, int, str]],
    *,
    page_id: int,
    refunded: str | None = None,
) -> Order:
    order = await f.order(db, user_id=7, status="paid", page_id=page_id, items=items)
    order.paid_at = LATE_EVENING
    order.sumup_transaction_code = "TX=FORMULA"
    if refunded is not None:
        order.refunded_amount = Decimal(refunded)
        order.refunded_at = LATE_EVENING
    await db.commit()
    return order


async def staff(app: Quart, db: AsyncSession) -> Any:
    await f.user(db, STAFF, is_staff=True)
    await db.commit()
    client = app.test_client()
    await sign_in(app, client, STAFF)
    return client


def parse(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


async def test_sales_by_day_and_line_and_the_csv_exports_agree_with_the_database(
    app: Quart, db: AsyncSession
) -> None:
    bakery = await f.page(db, "bakery", "Bakery")
    first = await paid(
        db, [("Sourdough loaf", 2, "4.50"), ('=HYPERLINK("x")', 1, "1.00")], page_id=bakery.id
    )
    second = await paid(db, [("Sourdough loaf", 1, "4.50")], page_id=bakery.id, refunded="4.50")
    await f.order(db, user_id=7, status="pending", page_id=bakery.id)
    await db.commit()
    client = await staff(app, db)
    days = "from=2026-07-02&to=2026-07-02"

    report = await text(await client.get(f"/staff/sales/?{days}&page_slug=bakery"))
    assert "2026-07-02" in report
    assert 'data-total="sold">£14.50<' in report and 'data-total="refunded">£4.50<' in report
    assert 'data-total="net">£10.00<' in report
    assert "Product: Sourdough loaf" in report
    assert "No sales in this range" in await text(
        await client.get("/staff/sales/?from=2026-07-01&to=2026-07-01")
    )

    orders_csv = await client.get(f"/staff/sales/orders.csv?{days}")
    assert orders_csv.mimetype == "text/csv"
    assert "attachment" in orders_csv.headers["Content-Disposition"]
    raw = await orders_csv.get_data(as_text=True)
    rows = parse(raw)
    assert [int(row["order"]) for row in rows] == [first.id, second.id]
    assert [Decimal(row["total"]) for row in rows] == [first.total_amount, second.total_amount]
    assert [Decimal(row["refunded"]) for row in rows] == [Decimal("0.00"), Decimal("4.50")]
    assert [Decimal(row["net"]) for row in rows] == [Decimal("10.00"), Decimal("0.00")]
    assert rows[0]["paid_at"] == "2026-07-02T00:30:00+01:00"
    assert rows[0]["sumup_transaction_code"] == "TX=FORMULA" and rows[0]["page"] == "bakery"
    # Text is quoted, amounts are bare numbers.
    assert f'{first.id},"2026-' in raw and ",10.00,0.00,10.00," in raw

    lines = parse(
        await (await client.get(f"/staff/sales/order-lines.csv?{days}")).get_data(as_text=True)
    )
    assert [(row["title"], int(row["quantity"]), Decimal(row["line_total"])) for row in lines] == [
        ("Sourdough loaf", 2, Decimal("9.00")),
        ('\'=HYPERLINK("x")', 1, Decimal("1.00")),
        ("Sourdough loaf", 1, Decimal("4.50")),
    ]


async def test_bad_sales_input_is_a_clear_400(app: Quart, db: AsyncSession) -> None:
    client = await staff(app, db)
    backwards = await client.get("/staff/sales/?from=2026-07-02&to=2026-07-01")
    not_a_day = await client.get("/staff/sales/orders.csv?from=yesterday")
    no_page = await client.get("/staff/sales/orders.csv?page_slug=nowhere")
    assert backwards.status_code == 400 and "before the start date" in await text(backwards)
    assert not_a_day.status_code == 400 and "2026-12-05" in await text(not_a_day)
    assert no_page.status_code == 404 and "no page" in await text(no_page)


async def test_bad_order_search_input_is_a_clear_400(app: Quart, db: AsyncSession) -> None:
    client = await staff(app, db)
    for query, message in [
        ("status=lost", "no order status"),
        ("flag=everything", "no filter"),
        ("from=2026-13-01", "must be a day"),
        ("page=0", "must be a number"),
        ("q=" + "x" * 101, "at most 100"),
    ]:
        response = await client.get(f"/staff/orders/?{query}")
        assert response.status_code == 400, query
        assert message in await text(response), query
