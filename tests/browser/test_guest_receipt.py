"""A guest's purchase in Chromium, end to end: the page cart asks for an address, the payment
is made on SumUp's page (the stand-in), the receipt arrives over real SMTP (the development
run's catcher, shown at /dev/mail) with the order's link, and the link opens the order in a
fresh browser (no cookies) at desktop width and on a phone. "Find my orders" and the order's
pages are axe-clean at both widths, and a ticket's QR code, drawn by Chromium, reads back as
its code."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import LiveService, Shopper
from tests.browser.shoppers import WIDTHS, shopper_at
from tests.browser.test_mail import open_newest_mail
from tests.browser.test_shopper_journey import badge, pay_on_the_hosted_page, sign_in_as_alice
from tests.support.qr import decode

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GUEST = "ann.guest@example.org"
LINK = re.compile(r"https?://\S+/orders/(\d+)/([0-9a-f]{64})/")
# Chromium draws the QR code's SVG as the page has it, into a canvas, and hands back its grey
# pixels: what a camera pointed at the screen would see.
DRAW_QR = """
async (holder) => {
  const svg = holder.querySelector('svg');
  const xml = new XMLSerializer().serializeToString(svg);
  const image = new Image();
  image.src = 'data:image/svg+xml;base64,' + btoa(xml);
  await image.decode();
  const width = image.width * 2, height = image.height * 2;
  const canvas = document.createElement('canvas');
  canvas.width = width; canvas.height = height;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0, width, height);
  const rgba = context.getImageData(0, 0, width, height).data;
  const grey = [];
  for (let i = 0; i < rgba.length; i += 4) {
    grey.push(Math.round((rgba[i] + rgba[i + 1] + rgba[i + 2]) / 3));
  }
  return {width, height, grey};
}
"""


def drawn_qr_text(page: Page, holder_selector: str) -> list[str]:
    drawn = page.locator(holder_selector).evaluate(DRAW_QR)
    return decode(bytes(drawn["grey"]), drawn["width"], drawn["height"])


def test_a_guest_buys_gets_the_receipt_and_opens_the_order_from_its_link(
    live_service: LiveService, shopper: Shopper, browser: Browser
) -> None:
    page, base = shopper.page, live_service.base_url
    page.goto(f"{base}/dev/shop")
    page.locator('[data-testid="add-sourdough-loaf"]').click()
    badge(page, 1)

    # The page cart asks a guest for the address the receipt goes to.
    page.goto(f"{base}/bakery/")
    email = page.locator("#checkout-email")
    expect(email).to_have_attribute("type", "email")
    expect(email).to_have_attribute("autocomplete", "email")
    expect(page.get_by_label("Email for your receipt")).to_be_visible()
    assert_accessible(page, "page cart with the guest's email field")
    email.fill(GUEST)
    email.scroll_into_view_if_needed()
    shopper.screenshot("guest email field", full_page=False)
    page.locator("#checkout").click()
    pay_on_the_hosted_page(page, shopper)

    status = page.locator("#payment-status")
    expect(status).to_have_attribute("data-state", "paid", timeout=20_000)
    expect(page.locator("#receipt-sent")).to_contain_text(GUEST)
    link_on_page = page.locator("#order-link").get_attribute("href")
    assert link_on_page is not None
    assert_accessible(page, "thank-you page with the order link")
    shopper.screenshot("thank you with the order link")
    order_id = re.search(r"/checkout/return/(\d+)/", page.url)
    assert order_id is not None

    # The receipt, received over SMTP by the development run's catcher.
    subject = f"Order #{order_id.group(1)} is paid: thank you"
    open_newest_mail(page, base, subject)
    page.get_by_role("link", name=re.compile(re.escape(subject))).first.click()
    expect(page.locator('[data-testid="mail-to"]')).to_contain_text(GUEST)
    text = page.locator('[data-testid="mail-text"]')
    expect(text).to_contain_text("Sourdough loaf")
    found = LINK.search(text.inner_text())
    assert found is not None and found.group(1) == order_id.group(1)
    assert found.group(0).endswith(link_on_page)
    frame = page.frame_locator('iframe[title="The message\'s HTML part"]')
    expect(
        frame.get_by_role("link", name=f"See your order #{order_id.group(1)}")
    ).to_have_attribute("href", found.group(0))
    shopper.screenshot("guest receipt")

    # The link, in browsers that never saw the checkout: the order, read-only.
    for width, viewport in WIDTHS.items():
        with shopper_at(browser, f"{shopper.name}-link-{width}", viewport) as elsewhere:
            other = elsewhere.page
            # No cookie at all: nothing of the guest's session.
            assert other.context.cookies() == []
            other.goto(f"{base}{link_on_page}")
            expect(other.locator("#order-status")).to_contain_text("Paid")
            expect(other.locator("#order-detail")).to_contain_text("Sourdough loaf")
            expect(other.locator("#order-link-note")).to_be_visible()
            expect(other.locator("#pay-again")).to_have_count(0)
            assert_accessible(other, f"order opened by its link ({width})")
            elsewhere.screenshot("order opened by its link")
            # Only this order: the browser's own list has none.
            other.goto(f"{base}/orders/")
            expect(other.locator("body")).not_to_contain_text(f"#{order_id.group(1)}")


def test_find_my_orders_answers_alike_and_mails_the_known_address(
    live_service: LiveService, browser: Browser
) -> None:
    base = live_service.base_url
    for width, viewport in WIDTHS.items():
        with shopper_at(browser, f"find-orders-{width}", viewport) as who:
            page = who.page
            page.goto(f"{base}/orders/")
            page.get_by_role("link", name="Find your orders by email").click()
            expect(page.get_by_role("heading", name="Find your orders")).to_be_visible()
            assert_accessible(page, f"find my orders ({width})")
            who.screenshot("find my orders")
            answers = []
            for address in (GUEST, f"nobody-{width}@example.org"):
                page.goto(f"{base}/orders/find/")
                page.get_by_label("Email address").fill(address)
                page.locator("#find-submit").click()
                expect(page.locator("#find-sent")).to_be_visible()
                answers.append(page.locator("main").inner_text())
            assert answers[0] == answers[1]
            assert_accessible(page, f"find my orders, sent ({width})")
            who.screenshot("find my orders sent")

    with shopper_at(browser, "find-orders-mail", WIDTHS["desktop"]) as who:
        open_newest_mail(who.page, base, "Your orders at the Rose Ash cooperative")
        items = who.page.locator("li[data-message-id]").filter(
            has_text="Your orders at the Rose Ash cooperative"
        )
        # One mail for the known address, asked twice (once per width), none for the others.
        expect(items).to_have_count(1)
        expect(items.first).to_contain_text(GUEST)


def test_a_tickets_qr_code_on_the_order_page_reads_back_as_its_code(
    live_service: LiveService, shopper: Shopper, browser: Browser
) -> None:
    page, base = shopper.page, live_service.base_url
    page.goto(f"{base}/dev/shop")
    sign_in_as_alice(page)
    page.locator('[data-testid^="buy-ticket-type-"]').first.click()
    badge(page, 1)
    # One page in the cart: the overview offers that page's own checkout, not "everything".
    page.goto(f"{base}/")
    expect(page.locator("#checkout-all")).to_have_count(0)
    page.get_by_role("button", name=re.compile(r"^Check out and pay ")).click()
    pay_on_the_hosted_page(page, shopper)
    expect(page.locator("#payment-status")).to_have_attribute("data-state", "paid", timeout=20_000)
    page.locator("#view-order").click()

    holders = page.locator('[data-testid="ticket-qr"]')
    expect(holders.first).to_be_visible()
    codes = holders.evaluate_all("nodes => nodes.map(n => n.dataset.code)")
    for index, code in enumerate(codes):
        assert drawn_qr_text(page, f'[data-testid="ticket-qr"] >> nth={index}') == [code]
        expect(page.locator("#order-tickets")).to_contain_text(code)
    expect(page.locator('[data-testid="calendar-files"] a').first).to_have_attribute(
        "href", re.compile(r"/orders/\d+/[0-9a-f]{64}/calendar/event-\d+\.ics$")
    )
    assert_accessible(page, "order page with QR codes")
    holders.first.scroll_into_view_if_needed()
    shopper.screenshot("ticket qr codes", full_page=False)

    # The receipt's HTML part on a 320 px screen: no sideways scrolling, each QR code shown,
    # and with images off every code still there as text.
    order_id = re.search(r"/orders/(\d+)/", page.url)
    assert order_id is not None
    subject = f"Order #{order_id.group(1)} is paid: thank you"
    open_newest_mail(page, base, subject)
    page.get_by_role("link", name=re.compile(re.escape(subject))).first.click()
    expect(page.locator('[data-testid="mail-attachments"]')).to_contain_text(".ics")
    html_url = page.locator('iframe[title="The message\'s HTML part"]').get_attribute("src")
    assert html_url is not None
    with shopper_at(browser, f"{shopper.name}-mail-320", {"width": 320, "height": 640}) as narrow:
        narrow.page.goto(f"{base}{html_url}")
        width = narrow.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"the mail is {width}px wide on a 320 px screen"
        for code in codes:
            expect(narrow.page.locator(f'img[alt="QR code of ticket {code}"]')).to_be_visible()
        narrow.screenshot("receipt at 320 px")
        narrow.page.evaluate("document.querySelectorAll('img').forEach(i => i.remove())")
        for code in codes:
            expect(narrow.page.locator("body")).to_contain_text(f"Ticket code {code}")
