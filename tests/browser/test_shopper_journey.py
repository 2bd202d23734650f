"""The whole shopper journey in Chromium, on the development run with the SumUp stand-in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveService, Shopper

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def badge(page: Page, count: int) -> None:
    """The cart-mini in the header shows `count` without a reload."""
    label = f"Cart, {count} item" + ("" if count == 1 else "s")
    expect(page.locator("#cart-mini")).to_have_attribute("aria-label", label)


def sign_in_as_alice(page: Page) -> None:
    page.get_by_role("link", name="Sign in").first.click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Alice Baker").check()
    page.locator("#sign-in").click()


def give_email_if_asked(page: Page, email: str = "guest@example.org") -> None:
    """A guest's checkout asks for the address the receipt goes to; a signed-in one does not."""
    field = page.locator("#checkout-email")
    if field.count():
        field.fill(email)


def pay_on_the_hosted_page(page: Page, shopper: Shopper, *, fail: bool = False) -> None:
    """On the stand-in's hosted page: pay (or fail), then follow the link back to the shop."""
    expect(page.locator("#pay")).to_be_visible()
    shopper.screenshot("sumup hosted checkout")
    page.locator("#fail" if fail else "#pay").click()
    shopper.screenshot("sumup " + ("failed" if fail else "paid"))
    page.locator("#back-to-merchant").click()


def test_anonymous_shopper_fills_a_cart_signs_in_and_pays_for_one_page(
    live_service: LiveService, shopper: Shopper
) -> None:
    page = shopper.page
    page.goto(f"{live_service.base_url}/dev/shop")
    shopper.screenshot("storefront anonymous")

    # Products from two pages, without signing in.
    page.locator('[data-testid="add-seed-potatoes"]').click()
    badge(page, 1)
    expect(page.locator("#messages")).to_contain_text("Seed potatoes")
    page.locator('[data-testid="add-sourdough-loaf"]').click()
    badge(page, 2)

    # Tickets ask an anonymous shopper to sign in first.
    expect(page.locator('[data-testid^="sign-in-to-buy-"]').first).to_be_visible()

    # Sign in: the anonymous cart is kept.
    sign_in_as_alice(page)
    expect(page.locator("#messages")).to_contain_text("We kept")
    badge(page, 2)
    shopper.screenshot("signed in cart kept")

    # A booking on the garden page and two tickets for the hall's event.
    page.locator('[data-testid^="book-slot-"]').first.click()
    badge(page, 3)
    ticket_form = page.locator('[data-testid^="buy-ticket-type-"]').first
    page.locator('select[id^="tickets-"]').first.select_option("2")
    ticket_form.click()
    badge(page, 5)
    shopper.screenshot("storefront with booking and tickets")

    # The overview groups by page; the garden page holds the potatoes and the booking.
    page.locator("#cart-mini").click()
    expect(page.locator('[data-testid="group-garden"]')).to_be_visible()
    expect(page.locator('[data-testid="group-bakery"]')).to_be_visible()
    expect(page.locator('[data-testid="group-hall"]')).to_be_visible()
    shopper.screenshot("cart overview")
    page.goto(f"{live_service.base_url}/garden/")
    expect(page.locator("#page-cart")).to_contain_text("Seed potatoes")
    expect(page.locator("#page-cart")).to_contain_text("Allotment taster session")
    expect(page.locator('[data-testid="page-subtotal"]')).to_contain_text("£17.25")
    shopper.screenshot("garden page cart")

    # Check out the garden page and pay on SumUp's hosted page.
    page.locator("#checkout").click()
    pay_on_the_hosted_page(page, shopper)

    # Back on the shop: paid.
    status = page.locator("#payment-status")
    expect(status).to_have_attribute("data-state", "paid", timeout=20_000)
    expect(status).to_contain_text("Thank you")
    shopper.screenshot("return page paid")
    order_url_match = re.search(r"/checkout/return/(\d+)/", page.url)
    assert order_url_match is not None
    order_id = order_url_match.group(1)

    page.locator("#view-order").click()
    expect(page.locator("#order-status")).to_contain_text("Paid")
    expect(page.locator("#order-detail")).to_contain_text("Seed potatoes")
    expect(page.locator("#order-detail")).to_contain_text("£17.25")
    expect(page.locator("#order-transaction-code")).to_be_visible()
    shopper.screenshot("order paid")

    # The garden cart is empty; the other pages' lines are untouched.
    page.goto(f"{live_service.base_url}/garden/")
    expect(page.locator('[data-testid="empty-page-cart"]')).to_be_visible()
    badge(page, 3)

    # The order is found in the list by a product title.
    page.goto(f"{live_service.base_url}/orders/")
    page.locator("#orders-search").fill("potatoes")
    page.locator("#orders-search").press("Enter")
    expect(page.locator("#orders-list")).to_contain_text(f"#{order_id}")
    shopper.screenshot("orders search")


def test_a_failed_payment_then_pay_again(live_service: LiveService, shopper: Shopper) -> None:
    page = shopper.page
    page.goto(f"{live_service.base_url}/dev/shop")
    page.locator('[data-testid="add-rye-bread"]').click()
    badge(page, 1)
    page.goto(f"{live_service.base_url}/bakery/")
    give_email_if_asked(page)
    page.locator("#checkout").click()

    pay_on_the_hosted_page(page, shopper, fail=True)
    status = page.locator("#payment-status")
    expect(status).to_have_attribute("data-state", "failed", timeout=20_000)
    expect(status).to_contain_text("did not go through")
    shopper.screenshot("return page failed")

    page.locator("#pay-again").click()
    pay_on_the_hosted_page(page, shopper)
    expect(page.locator("#payment-status")).to_have_attribute("data-state", "paid", timeout=20_000)
    shopper.screenshot("return page paid after retry")

    page.goto(f"{live_service.base_url}/bakery/")
    expect(page.locator('[data-testid="empty-page-cart"]')).to_be_visible()
