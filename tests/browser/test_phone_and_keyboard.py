"""On a phone, with the keyboard only: add, change and remove, with messages and a live badge."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ViewportSize, expect

from tests.browser.conftest import LiveService, Shopper
from tests.browser.test_shopper_journey import badge

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def phone_shopper(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Shopper]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    who = Shopper(page=page, name=request.node.name)
    page.on("console", lambda m: who.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: who.console_errors.append(str(error)))
    yield who
    context.close()
    assert who.console_errors == [], f"browser console errors: {who.console_errors}"


def no_sideways_scrolling(shopper: Shopper) -> None:
    width = shopper.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"


def test_a_phone_shopper_uses_the_cart_with_the_keyboard_alone(
    live_service: LiveService, phone_shopper: Shopper
) -> None:
    page = phone_shopper.page
    page.goto(f"{live_service.base_url}/dev/shop")
    no_sideways_scrolling(phone_shopper)

    # Type a quantity into the labelled field, then Tab to "Add to cart" and press Enter.
    quantity = page.get_by_label("Quantity").first
    quantity.focus()
    quantity.fill("3")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert "Add to cart" in focused
    page.keyboard.press("Enter")
    badge(page, 3)
    expect(page.locator("#messages")).to_contain_text("Added")
    phone_shopper.screenshot("phone storefront added")

    page.locator("#cart-mini").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#cart-overview")).to_be_visible()
    no_sideways_scrolling(phone_shopper)
    phone_shopper.screenshot("phone cart overview")

    page.locator('[data-testid^="open-"]').first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#page-cart")).to_be_visible()
    no_sideways_scrolling(phone_shopper)

    # Change the quantity: the line, the totals and the badge follow without a reload.
    line_quantity = page.locator('input[id^="quantity-"]').first
    line_quantity.focus()
    line_quantity.fill("1")
    line_quantity.press("Enter")
    badge(page, 1)
    expect(page.locator("#messages")).not_to_be_empty()
    phone_shopper.screenshot("phone page cart")

    # Remove it: a friendly empty state, and a badge of zero.
    remove = page.get_by_role("button", name="Remove").first
    remove.focus()
    page.keyboard.press("Enter")
    expect(page.locator('[data-testid="empty-page-cart"]')).to_be_visible()
    badge(page, 0)
    phone_shopper.screenshot("phone page cart empty")
