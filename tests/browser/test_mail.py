"""The order confirmation in Chromium: a signed-in shopper pays, and the development run's
caught mail at /dev/mail shows it (lines, booking time, ticket codes, total, transaction code),
at desktop width and on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveService, Shopper
from tests.browser.test_phone_and_keyboard import PHONE
from tests.browser.test_shopper_journey import badge, pay_on_the_hosted_page, sign_in_as_alice

pytestmark = [pytest.mark.browser, pytest.mark.slow]
# The mail sender runs every RELAY_INTERVAL_SECONDS (5 by default).
MAIL_WAIT_MS = 30_000


def open_newest_mail(page: Page, base_url: str, subject: str) -> None:
    """Open /dev/mail until the message arrives, then open it."""
    page.goto(f"{base_url}/dev/mail")
    link = page.get_by_role("link", name=re.compile(re.escape(subject)))
    for _ in range(MAIL_WAIT_MS // 1000):
        if link.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(link).to_be_visible()


def test_a_paid_order_is_mailed_and_shown_at_dev_mail(
    live_service: LiveService, shopper: Shopper, browser: Browser
) -> None:
    page, base = shopper.page, live_service.base_url
    page.goto(f"{base}/dev/shop")
    sign_in_as_alice(page)
    page.locator('[data-testid="add-sourdough-loaf"]').click()
    badge(page, 1)
    page.locator('[data-testid^="book-slot-"]').first.click()
    badge(page, 2)
    page.locator('select[id^="tickets-"]').first.select_option("2")
    page.locator('[data-testid^="buy-ticket-type-"]').first.click()
    badge(page, 4)

    page.goto(f"{base}/")
    page.locator("#checkout-all").click()
    pay_on_the_hosted_page(page, shopper)
    expect(page.locator("#payment-status")).to_have_attribute("data-state", "paid", timeout=20_000)
    order_id = re.search(r"/checkout/return/(\d+)/", page.url)
    assert order_id is not None
    page.locator("#view-order").click()
    codes = page.locator("#order-tickets code").all_inner_texts()
    assert len(codes) == 2
    transaction = page.locator("#order-transaction-code").inner_text()
    total = page.locator("#order-total").inner_text()

    subject = f"Order #{order_id.group(1)} is paid: thank you"
    open_newest_mail(page, base, subject)
    expect(page.locator("li[data-message-id]").first).to_contain_text(subject)
    expect(page.locator("li[data-message-id]").first).to_contain_text("alice@example.coop")
    shopper.screenshot("dev mail list")

    page.get_by_role("link", name=re.compile(re.escape(subject))).first.click()
    expect(page.get_by_role("heading", name=subject)).to_be_visible()
    text = page.locator('[data-testid="mail-text"]')
    expect(text).to_contain_text("Sourdough loaf")
    expect(text).to_contain_text(re.compile(r"\d\d:\d\d (GMT|BST)"))
    for code in codes:
        expect(text).to_contain_text(code)
    expect(text).to_contain_text(total)
    frame = page.frame_locator('iframe[title="The message\'s HTML part"]')
    expect(frame.get_by_role("heading", name=subject)).to_be_visible()
    expect(frame.locator("body")).to_contain_text(codes[0])
    expect(frame.locator("body")).to_contain_text(transaction)
    expect(frame.locator("#total")).to_have_text(total)
    shopper.screenshot("dev mail message")

    # The same two pages on a phone: readable without sideways scrolling.
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        phone = Shopper(page=context.new_page(), name=shopper.name + "-phone")
        phone.page.goto(f"{base}/dev/mail")
        expect(phone.page.locator("li[data-message-id]").first).to_contain_text(subject)
        phone.screenshot("dev mail list phone")
        phone.page.get_by_role("link", name=re.compile(re.escape(subject))).first.click()
        expect(phone.page.locator('[data-testid="mail-text"]')).to_contain_text(codes[0])
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width}px wide on a phone"
        phone.screenshot("dev mail message phone")
    finally:
        context.close()
