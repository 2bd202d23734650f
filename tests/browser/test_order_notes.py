"""What the order page tells the shopper about money and holds: until when an unpaid order
holds its tickets (and how many attempts it has), and a second payment owed back; at desktop
width and on a phone, axe-core clean."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import DATABASE, LiveService
from tests.browser.shoppers import WIDTHS, shopper_at
from tests.browser.test_shopper_journey import badge, pay_on_the_hosted_page, sign_in_as_alice
from tests.conftest import database_url_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ORDER_URL = re.compile(r"/orders/(\d+)/$")


def record_second_payment(order_id: int) -> None:
    """What settlement records when another checkout of the paid order is found paid."""

    async def record() -> None:
        connection = await asyncpg.connect(database_url_for(DATABASE))
        try:
            await connection.execute(
                "UPDATE orders SET second_payment_at = now(), second_payment_amount = "
                "total_amount, second_payment_checkout_id = 'second' WHERE id = $1",
                order_id,
            )
        finally:
            await connection.close()

    # Playwright drives its own event loop in this thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, record()).result()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_order_page_says_how_long_tickets_are_held_and_what_a_second_payment_means(
    live_service: LiveService, browser: Browser, width: str
) -> None:
    base = live_service.base_url
    with shopper_at(browser, f"order-notes-{width}", WIDTHS[width]) as shopper:
        page = shopper.page
        page.goto(f"{base}/dev/shop")
        sign_in_as_alice(page)
        page.goto(f"{base}/dev/shop")
        page.locator('[data-testid^="buy-ticket-type-"]').first.click()
        badge(page, 1)
        page.goto(f"{base}/hall/")
        page.locator("#checkout").click()
        pay_on_the_hosted_page(page, shopper, fail=True)
        expect(page.locator("#payment-status")).to_have_attribute(
            "data-state", "failed", timeout=20_000
        )
        page.get_by_role("link", name="View the order").click()

        hold = page.locator("#order-hold")
        expect(hold).to_contain_text(re.compile(r"held for you until .*\d\d:\d\d"))
        expect(hold).to_contain_text("at most 5 payment attempts (this is attempt 1)")
        expect(hold).to_contain_text("released for others")
        assert_accessible(page, f"order page holding tickets ({width})")
        shopper.screenshot("order page holding tickets")

        page.locator("#pay-again").click()
        pay_on_the_hosted_page(page, shopper)
        expect(page.locator("#payment-status")).to_have_attribute(
            "data-state", "paid", timeout=20_000
        )
        page.locator("#view-order").click()
        expect(page.locator("#order-hold")).to_have_count(0)
        found = ORDER_URL.search(page.url)
        assert found is not None, page.url
        record_second_payment(int(found.group(1)))
        page.reload()

        note = page.locator("#order-second-payment")
        expect(note).to_contain_text("This order was paid twice")
        expect(note).to_contain_text("owed back to you in full")
        assert_accessible(page, f"order page paid twice ({width})")
        shopper.screenshot("order page paid twice")
