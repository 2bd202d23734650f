"""The staff console in Chromium, at desktop width and on a phone: a member of the coop's staff
signs in, finds a shopper's order by address, refunds part of it at the SumUp stand-in, sees the
refund and the audit on the timeline, cancels another order left waiting for payment (its SumUp
checkout closed at the stand-in), resolves a payment mismatch, retries a dead letter, sets a
page's merchant after a failing and a passing connection test, and downloads a CSV that reads
back to the database's figures. A shopper gets 404. axe-core checks every staff page."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import DATABASE, LiveService, Shopper
from tests.browser.shoppers import WIDTHS, shopper_at
from tests.browser.test_shopper_journey import badge, pay_on_the_hosted_page
from tests.conftest import database_url_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]
# The shopper and the page whose merchant is set, per width (one database for both runs).
RUNS = {
    "desktop": ("Alice Baker", "alice@example.coop", "hall"),
    "phone": ("Ben Carter", "ben@example.coop", "garden"),
}
STAFF_NAME = "Cleo Dunn"
# Chromium logs every 4xx answer; the shopper's 404 and the refused connection are on purpose.
EXPECTED_CONSOLE = re.compile(r"status of 404")


def _query(sql: str, *args: Any) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(database_url_for(DATABASE))
        try:
            return list(await connection.fetch(sql, *args))
        finally:
            await connection.close()

    # Sync Playwright runs an event loop in this thread: the query runs in another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


def sign_in_as(page: Page, base: str, name: str, next_path: str = "/dev/shop") -> None:
    page.goto(f"{base}/dev/sign-in?next={next_path}")
    page.get_by_label(name).check()
    page.locator("#sign-in").click()


def buy_rye_bread(page: Page, shopper: Shopper, base: str) -> int:
    """The shopper buys a rye bread on the bakery page and pays; answers the order's id."""
    page.goto(f"{base}/dev/shop")
    page.locator('[data-testid="add-rye-bread"]').click()
    badge(page, 1)
    page.locator('[data-testid="add-rye-bread"]').click()
    badge(page, 2)
    page.goto(f"{base}/bakery/")
    page.locator("#checkout").click()
    pay_on_the_hosted_page(page, shopper)
    expect(page.locator("#payment-status")).to_have_attribute("data-state", "paid", timeout=20_000)
    match = re.search(r"/checkout/return/(\d+)/", page.url)
    assert match is not None
    return int(match.group(1))


def leave_rye_bread_waiting(page: Page, base: str) -> int:
    """The shopper checks out a rye bread and leaves SumUp's page unpaid; answers the order."""
    page.goto(f"{base}/dev/shop")
    page.locator('[data-testid="add-rye-bread"]').click()
    badge(page, 1)
    page.goto(f"{base}/bakery/")
    page.locator("#checkout").click()
    expect(page.locator("#pay")).to_be_visible()
    match = re.search(r"/pay/c-([^/?#]+)", page.url)
    assert match is not None, page.url
    found = _query("SELECT id FROM orders WHERE sumup_checkout_id = $1", match.group(1))
    return int(found[0]["id"])


def stuck_rows(user_id: int) -> tuple[int, int]:
    """An order whose payment did not match it, and a dead-lettered event, as the reconciler
    and the relay leave them."""
    order = _query(
        "INSERT INTO orders (user_id, status, currency, total_amount, description,"
        " payment_mismatch_at, payment_mismatch_reason, closed_at)"
        " VALUES ($1, 'expired', 'GBP', 4.50, 'Mismatched', now(), $2, now()) RETURNING id",
        user_id,
        "SumUp reported 9.99 GBP, the order is 4.50 GBP",
    )[0]["id"]
    event = _query(
        "INSERT INTO event_outbox (activity_id, event_type, activity_type, object_type,"
        " object_id, payload, failures, last_error, dead_lettered_at)"
        " VALUES ($1, 'order.created', 'Create', 'rose:Order', $2, '{}'::jsonb, 10, $3, now())"
        " RETURNING id",
        uuid.uuid4(),
        str(order),
        "the federation store refused it: value too long",
    )[0]["id"]
    return order, event


def check(who: Shopper, label: str) -> None:
    assert_accessible(who.page, f"{label} ({who.name})")
    who.screenshot(label)


@pytest.mark.parametrize("width", list(WIDTHS))
def test_staff_console(live_service: LiveService, browser: Browser, width: str) -> None:
    base = live_service.base_url
    shopper_name, email, merchant_page = RUNS[width]
    viewport = WIDTHS[width]

    with shopper_at(browser, f"staff-{width}-shopper", viewport) as shopper:
        sign_in_as(shopper.page, base, shopper_name)
        order_id = buy_rye_bread(shopper.page, shopper, base)
        waiting_order = leave_rye_bread_waiting(shopper.page, base)
    user_id = _query("SELECT id FROM users WHERE email = $1", email)[0]["id"]
    mismatch_order, dead_event = stuck_rows(user_id)

    with shopper_at(
        browser, f"staff-{width}-outsider", viewport, expected_console=EXPECTED_CONSOLE
    ) as outsider:
        sign_in_as(outsider.page, base, shopper_name)
        for path in ("/staff/", "/staff/orders/", f"/staff/orders/{order_id}/", "/staff/sales/"):
            answer = outsider.page.goto(f"{base}{path}")
            assert answer is not None and answer.status == 404, path
        outsider.screenshot("a shopper finds no staff console")

    with shopper_at(
        browser, f"staff-{width}", viewport, expected_console=EXPECTED_CONSOLE
    ) as staff:
        page = staff.page
        sign_in_as(page, base, STAFF_NAME, "/staff/")
        expect(page.get_by_role("heading", name="Orders", exact=True)).to_be_visible()
        check(staff, "orders")

        # Find the order by the shopper's address.
        page.locator("#staff-q").fill(email)
        page.locator("#staff-search").click()
        row = page.locator(f'[data-order-id="{order_id}"]')
        expect(row).to_be_visible()
        expect(page.locator("#staff-order-rows")).to_contain_text(email)
        check(staff, "orders found by address")
        row.click()
        expect(page.locator("#order-shopper")).to_have_text(email)
        check(staff, "order")

        # Refund part of it at the stand-in.
        page.locator("#refund-link").click()
        page.locator("#refund-amount").fill("1.50")
        page.locator("#refund-reason").fill("One loaf was stale")
        check(staff, "refund confirmation")
        page.locator("#confirm-refund").click()
        expect(page.locator("#messages")).to_contain_text("The refund was made")
        timeline = page.locator("#timeline")
        expect(timeline.locator('[data-kind="refund"]').first).to_contain_text("Refund made")
        expect(timeline.locator('[data-kind="refund"]').first).to_contain_text("£1.50")
        staff_entry = timeline.locator('[data-kind="staff"]').first
        expect(staff_entry).to_contain_text(f"refund by {STAFF_NAME}")
        expect(staff_entry).to_contain_text("One loaf was stale")
        expect(page.locator("#refund-state")).to_contain_text("Refunded £1.50")
        check(staff, "order refunded with its audit")
        refunded = _query("SELECT refunded_amount FROM orders WHERE id = $1", order_id)
        assert refunded[0]["refunded_amount"] == Decimal("1.50")

        # Cancel the order left waiting: SumUp's checkout is closed first.
        page.goto(f"{base}/staff/orders/{waiting_order}/")
        check(staff, "waiting order")
        page.locator("#cancel-link").click()
        expect(page.locator("#confirm-cancel")).to_be_visible()
        check(staff, "cancel confirmation")
        page.locator("#confirm-cancel").click()
        expect(page.locator("#messages")).to_contain_text("The order is cancelled")
        expect(page.locator("#timeline [data-kind='staff']").first).to_contain_text(
            f"cancel order by {STAFF_NAME}"
        )
        expect(page.locator("#cancel-link")).to_have_count(0)
        check(staff, "order cancelled with its audit")
        cancelled = _query(
            "SELECT status, sumup_checkout_id FROM orders WHERE id = $1", waiting_order
        )[0]
        assert cancelled["status"] == "cancelled"
        hosted = httpx.get(
            f"{live_service.standin_url}/_standin/checkouts/{cancelled['sumup_checkout_id']}"
        )
        assert hosted.json()["status"] == "EXPIRED"

        # Resolve the payment mismatch.
        page.goto(f"{base}/staff/orders/?flag=mismatch")
        page.locator(f'[data-order-id="{mismatch_order}"]').click()
        page.locator("#resolve-link").click()
        check(staff, "mismatch confirmation")
        page.locator("#confirm-resolve").click()
        expect(page.locator("#messages")).to_contain_text("recorded as resolved")
        expect(page.locator("#timeline")).to_contain_text("Mismatch resolved")
        check(staff, "mismatch resolved")

        # Retry the dead letter.
        page.get_by_role("link", name=re.compile("^Queues")).click()
        check(staff, "queues")
        page.locator(f'[data-event-id="{dead_event}"] a').click()
        check(staff, "dead letter confirmation")
        page.locator("#confirm-retry").click()
        expect(page.locator("#messages")).to_contain_text("back in the relay's queue")
        expect(page.locator(f'[data-event-id="{dead_event}"]')).to_have_count(0)
        check(staff, "dead letter retried")

        # A page's merchant: a key SumUp refuses, then one it accepts.
        revoked = f"sup_sk_revoked_{width}"
        httpx.post(
            f"{live_service.standin_url}/_standin/keys/revoke", json={"api_key": revoked}
        ).raise_for_status()
        page.get_by_role("link", name="Merchants").click()
        check(staff, "merchants")
        page.locator(f'[data-page="{merchant_page}"] a').click()
        page.locator("#merchant-code").fill(f"M{width.upper()}1")
        page.locator("#merchant-key").fill(revoked)
        page.locator("#test-connection").click()
        expect(page.locator('[data-connection="failed"]')).to_be_visible()
        check(staff, "connection test failed")
        page.locator("#merchant-key").fill(f"sup_sk_{width}")
        page.locator("#test-connection").click()
        expect(page.locator('[data-connection="passed"]')).to_be_visible()
        check(staff, "connection test passed")
        page.locator("#save-merchant").click()
        expect(page.locator("#messages")).to_contain_text("merchant is saved")
        expect(page.locator(f'[data-testid="merchant-of-{merchant_page}"]')).to_contain_text(
            f"M{width.upper()}1"
        )
        assert f"sup_sk_{width}" not in page.content()
        check(staff, "merchant saved")

        # Sales, and the orders' CSV read back to the database's figures.
        page.get_by_role("link", name="Sales").click()
        check(staff, "sales")
        with page.expect_download() as download_info:
            page.locator("#export-orders").click()
        downloaded = download_info.value.path()
        rows = list(csv.DictReader(io.StringIO(downloaded.read_text())))
        paid = _query(
            "SELECT id, total_amount, coalesce(refunded_amount, 0) AS refunded FROM orders"
            " WHERE status = 'paid' AND paid_at >= now() - interval '30 days' ORDER BY paid_at, id"
        )
        assert [int(row["order"]) for row in rows] == [record["id"] for record in paid]
        assert [Decimal(row["total"]) for row in rows] == [r["total_amount"] for r in paid]
        assert [Decimal(row["refunded"]) for row in rows] == [r["refunded"] for r in paid]
        mine = next(row for row in rows if int(row["order"]) == order_id)
        assert Decimal(mine["refunded"]) == Decimal("1.50")
        assert Decimal(mine["net"]) == Decimal(mine["total"]) - Decimal("1.50")

        page.get_by_role("link", name="Activity").click()
        expect(page.locator("#activity")).to_contain_text("Refund")
        check(staff, "activity")
