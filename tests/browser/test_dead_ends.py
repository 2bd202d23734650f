"""No dead ends and no vague words: the 404 page leads back, sign-in shows the badge, a failed
payment names until when the order is kept and leads with "Pay again" (from the order and the
list), and the page cart reads well on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import LiveService
from tests.browser.shoppers import WIDTHS, shopper_at
from tests.browser.test_shopper_journey import (
    badge,
    give_email_if_asked,
    pay_on_the_hosted_page,
    sign_in_as_alice,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
# The 404 page is visited on purpose, and Chromium logs it.
NOT_FOUND = re.compile(r"status of 404")


@pytest.mark.parametrize("width", WIDTHS)
def test_no_dead_ends_and_no_vague_words(
    live_service: LiveService, browser: Browser, width: str
) -> None:
    base = live_service.base_url
    with shopper_at(
        browser, f"dead-ends-{width}", WIDTHS[width], expected_console=NOT_FOUND
    ) as shopper:
        page = shopper.page

        # A 404 says it once and leads back to the shop.
        page.goto(f"{base}/no/such/page")
        expect(page.get_by_role("heading", level=1)).to_have_text("We could not find that page.")
        expect(page.get_by_text("We could not find that page")).to_have_count(1)
        assert_accessible(page, f"not found ({width})")
        shopper.screenshot("not found")
        page.get_by_role("link", name="Go to the shop").click()
        expect(page).to_have_url(f"{base}/dev/shop")

        # The sign-in page shows what is in the cart.
        page.locator('[data-testid="add-rye-bread"]').click()
        badge(page, 1)
        page.get_by_role("link", name="Sign in").first.click()
        badge(page, 1)
        assert_accessible(page, f"sign in with the badge ({width})")
        shopper.screenshot("sign in with the badge")
        sign_in_as_alice(page)
        badge(page, 1)

        # The page cart: the line total sits with its line, the checkout button is wide.
        page.goto(f"{base}/bakery/")
        line = page.locator('[data-testid^="line-"][data-line-id]').first
        title = line.locator("p.font-medium").first.bounding_box()
        line_total = line.locator('[data-testid^="line-total-"]').bounding_box()
        remove = line.get_by_role("button", name="Remove").bounding_box()
        assert title and line_total and remove
        assert abs(line_total["y"] - title["y"]) < title["height"], "the total left its line"
        checkout = page.locator("#checkout").bounding_box()
        panel = page.get_by_role("region", name="Total and checkout").bounding_box()
        assert checkout and panel
        if width == "phone":
            assert remove["y"] > line_total["y"] + line_total["height"]
            assert checkout["width"] > panel["width"] - 60, "the checkout button is not full width"
        expect(page.locator('[data-testid="page-counts"]')).to_contain_text("1 product")
        assert_accessible(page, f"page cart ({width})")
        shopper.screenshot("page cart")

        # A failed payment: kept until a named time, "Pay again" first.
        give_email_if_asked(page)
        page.locator("#checkout").click()
        pay_on_the_hosted_page(page, shopper, fail=True)
        status = page.locator("#payment-status")
        expect(status).to_have_attribute("data-state", "failed", timeout=20_000)
        expect(page.locator("#kept-until")).to_contain_text(
            re.compile(r"kept until \d\d:\d\d (GMT|BST) \(30 minutes")
        )
        expect(status).not_to_contain_text("a little while")
        assert_accessible(page, f"return page failed ({width})")
        shopper.screenshot("return page failed")

        page.get_by_role("link", name="View the order").click()
        pay_again, check_again = page.locator("#pay-again"), page.locator("#check-again")
        expect(pay_again).to_be_visible()
        expect(check_again).to_be_visible()
        pay_box, check_box = pay_again.bounding_box(), check_again.bounding_box()
        assert pay_box and check_box and pay_box["y"] < check_box["y"]
        expect(page.locator("#order-payment")).not_to_contain_text("Paid but still shown")
        assert_accessible(page, f"failed order ({width})")
        shopper.screenshot("failed order")

        # The orders list offers "Pay again" for the failed order, and it works.
        page.goto(f"{base}/orders/")
        row_pay_again = page.get_by_role("button", name=re.compile(r"^Pay again for order #"))
        expect(row_pay_again).to_have_count(1)
        assert_accessible(page, f"orders list with pay again ({width})")
        shopper.screenshot("orders list with pay again")
        row_pay_again.click()
        pay_on_the_hosted_page(page, shopper)
        expect(page.locator("#payment-status")).to_have_attribute(
            "data-state", "paid", timeout=20_000
        )
