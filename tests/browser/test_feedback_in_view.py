"""Feedback where the shopper is looking: every cart action answers with a toast in the
viewport, announced, with a way to the cart, dismissible and soon gone; the badge stays in reach."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import LiveService
from tests.browser.shoppers import WIDTHS, in_viewport, shopper_at
from tests.browser.test_shopper_journey import badge

pytestmark = [pytest.mark.browser, pytest.mark.slow]
# A refused quantity is answered 400, which Chromium logs.
REFUSED = re.compile(r"status of 400")


@pytest.mark.parametrize("width", WIDTHS)
def test_every_cart_action_answers_in_view(
    live_service: LiveService, browser: Browser, width: str
) -> None:
    with shopper_at(
        browser, f"feedback-in-view-{width}", WIDTHS[width], expected_console=REFUSED
    ) as shopper:
        page = shopper.page
        page.goto(f"{live_service.base_url}/dev/shop")
        messages, alerts = page.locator("#messages"), page.locator("#alerts")
        expect(messages).to_have_attribute("aria-live", "polite")
        expect(alerts).to_have_attribute("aria-live", "assertive")

        # "Add to cart" low on the page: the toast and the badge are both on screen.
        add = page.locator('[data-testid^="add-"]').last
        add.scroll_into_view_if_needed()
        assert page.evaluate("window.scrollY") > 0
        add.click()
        badge(page, 1)
        toast = messages.locator("[data-toast]")
        expect(toast).to_contain_text("to your cart")
        assert in_viewport(page, toast)
        assert in_viewport(page, page.locator("#cart-mini"))
        expect(toast.get_by_role("link", name="View cart")).to_have_attribute("href", "/")
        assert_accessible(page, f"added low on the page ({width})")
        shopper.screenshot("added low on the page", full_page=False)

        # Dismissed at once with its button.
        toast.get_by_role("button", name="Dismiss this message").click()
        expect(toast).to_have_count(0)

        # An error is announced at once, also in view.
        field = page.locator('input[id^="qty-"]').last
        field.fill("0")
        add.click()
        error = alerts.locator("[data-toast]")
        expect(error).to_contain_text("The quantity must be a whole number from 1 to 99.")
        assert in_viewport(page, error)
        assert_accessible(page, f"error in view ({width})")
        shopper.screenshot("error in view", full_page=False)

        # On the page cart: setting a quantity and removing answer in view too.
        page.locator("#cart-mini").click()
        page.locator('[data-testid^="open-"]').first.click()
        quantity = page.locator('input[id^="quantity-"]').first
        quantity.fill("2")
        quantity.press("Enter")
        badge(page, 2)
        changed = messages.locator("[data-toast]")
        expect(changed).to_contain_text("quantity is now 2")
        assert in_viewport(page, changed)
        # A success clears the error toast left from before.
        expect(alerts.locator("[data-toast]")).to_have_count(0)
        shopper.screenshot("quantity set", full_page=False)
        page.get_by_role("button", name="Remove").first.click()
        badge(page, 0)
        expect(messages.locator("[data-toast]")).to_contain_text("Removed")
        assert in_viewport(page, messages.locator("[data-toast]"))

        # Left alone, a toast goes by itself so it never covers the controls for long.
        expect(messages.locator("[data-toast]")).to_have_count(0, timeout=12_000)
