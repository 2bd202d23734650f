"""Errors by the field: a refused quantity is shown next to its box, marked and described, with
what was typed kept; with HTMX (swapped in place) and without JavaScript (303 to the page)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import LiveService
from tests.browser.shoppers import WIDTHS, shopper_at
from tests.browser.test_shopper_journey import badge

pytestmark = [pytest.mark.browser, pytest.mark.slow]
REFUSED = re.compile(r"status of 400")


def marked_with(page: Page, field: Locator, message: str) -> None:
    """The box is invalid and described by the message shown next to it."""
    expect(field).to_have_attribute("aria-invalid", "true")
    described = (field.get_attribute("aria-describedby") or "").split()
    assert any(page.locator(f"#{ident}").inner_text() == message for ident in described), (
        f"{message!r} does not describe the field ({described})"
    )
    expect(page.locator(f"#{described[0]}")).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_refused_quantity_is_shown_by_its_field(
    live_service: LiveService, browser: Browser, width: str
) -> None:
    with shopper_at(
        browser, f"field-errors-{width}", WIDTHS[width], expected_console=REFUSED
    ) as shopper:
        page = shopper.page
        page.goto(f"{live_service.base_url}/dev/shop")

        # Adding: 1 to 99, as the box's min and max say.
        field = page.locator('input[id^="qty-"]').first
        expect(field).to_have_attribute("min", "1")
        expect(field).to_have_attribute("max", "99")
        field.fill("0")
        page.locator('[data-testid^="add-"]').first.click()
        field = page.locator('input[id^="qty-"]').first
        marked_with(page, field, "The quantity must be a whole number from 1 to 99.")
        expect(field).to_have_value("0")
        badge(page, 0)
        assert_accessible(page, f"add refused by the field ({width})")
        shopper.screenshot("add refused by the field")

        # A good value clears the mark.
        field.fill("2")
        page.locator('[data-testid^="add-"]').first.click()
        badge(page, 2)
        expect(page.locator('input[id^="qty-"]').first).not_to_have_attribute(
            "aria-invalid", "true"
        )

        # Setting a line: 0 to 99, and 0 removes the line, as the help text says.
        page.locator("#cart-mini").click()
        page.locator('[data-testid^="open-"]').first.click()
        quantity = page.locator('input[id^="quantity-"]').first
        expect(quantity).to_have_attribute("min", "0")
        expect(quantity).to_have_attribute("max", "99")
        expect(page.locator("#page-cart")).to_contain_text("0 removes the line")
        quantity.fill("150")
        quantity.press("Enter")
        quantity = page.locator('input[id^="quantity-"]').first
        marked_with(page, quantity, "The quantity must be a whole number from 0 to 99.")
        expect(quantity).to_have_value("150")
        badge(page, 2)
        assert_accessible(page, f"set quantity refused by the field ({width})")
        shopper.screenshot("set quantity refused by the field")


@pytest.mark.parametrize("width", WIDTHS)
def test_without_javascript_the_page_returned_to_shows_the_field_error(
    live_service: LiveService, browser: Browser, width: str
) -> None:
    with shopper_at(
        browser, f"field-errors-no-js-{width}", WIDTHS[width], javascript=False
    ) as shopper:
        page = shopper.page
        page.goto(f"{live_service.base_url}/dev/shop")
        page.locator('[data-testid^="add-"]').first.click()
        page.goto(f"{live_service.base_url}/")
        page.locator('[data-testid^="open-"]').first.click()
        cart_url = page.url

        quantity = page.locator('input[id^="quantity-"]').first
        quantity.fill("-1")
        page.locator('[data-testid^="update-"]').first.click()

        # The form post was answered 303 to the page cart, which shows why by the box.
        assert page.url == cart_url
        quantity = page.locator('input[id^="quantity-"]').first
        marked_with(page, quantity, "The quantity must be a whole number from 0 to 99.")
        expect(quantity).to_have_value("-1")
        expect(page.locator("#alerts")).to_contain_text(
            "The quantity must be a whole number from 0 to 99."
        )
        shopper.screenshot("set quantity refused without javascript")

        # A reload shows the page as it is: the problem was shown once.
        page.reload()
        expect(page.locator('input[id^="quantity-"]').first).to_have_value("1")
