"""The storefront as the market and events apps would behave, and tickets by quantity, in
Chromium at desktop width and on a 390 px phone.

Signing in for tickets comes back to the event; booking a session and adding tickets change
the button and the count in place (no reload); the page cart shows the tickets as one line per
type with a quantity box; the paid order shows them the same way with each ticket's code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.conftest import SCREENSHOTS, LiveService, Shopper
from tests.browser.test_shopper_journey import badge, pay_on_the_hosted_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Width name → (viewport, demo user): each width shops as its own user on the same service.
WIDTHS: dict[str, tuple[ViewportSize, str]] = {
    "desktop": ({"width": 1280, "height": 900}, "Alice Baker"),
    "phone": ({"width": 390, "height": 844}, "Ben Carter"),
}
SAME_DOCUMENT = "window.__sameDocument === true"


@pytest.fixture(params=list(WIDTHS))
def sized_shopper(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Shopper]:
    viewport, _user = WIDTHS[request.param]
    phone = request.param == "phone"
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.set_default_timeout(15_000)
    who = Shopper(page=page, name=f"storefront-and-tickets-{request.param}")
    page.on("console", lambda m: who.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: who.console_errors.append(str(error)))
    yield who
    context.close()
    assert who.console_errors == [], f"browser console errors: {who.console_errors}"


def screenshot_of_the_view(shopper: Shopper, label: str) -> None:
    """What the shopper sees on screen (not the whole page): where a link landed."""
    shopper.step += 1
    folder = SCREENSHOTS / shopper.name
    folder.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    shopper.page.screenshot(path=str(folder / f"{shopper.step:02d}-{slug}.png"))


def number_in_testid(page: Page, selector: str, prefix: str) -> int:
    """The id at the end of the first matching element's data-testid ("book-slot-3" → 3)."""
    testid = page.locator(selector).first.get_attribute("data-testid") or ""
    return int(testid.removeprefix(prefix))


def test_storefront_follows_the_cart_and_tickets_go_by_quantity(
    live_service: LiveService, sized_shopper: Shopper, request: pytest.FixtureRequest
) -> None:
    shopper, page = sized_shopper, sized_shopper.page
    user = WIDTHS[request.node.callspec.params["sized_shopper"]][1]
    page.goto(f"{live_service.base_url}/dev/shop")

    # Sign in for tickets: back at the event, not at the top of the shop.
    standard = number_in_testid(page, '[data-testid^="sign-in-to-buy-"]', "sign-in-to-buy-")
    event = page.locator('[data-testid^="event-"]').first
    event_id = event.get_attribute("id")
    page.locator(f'[data-testid="sign-in-to-buy-{standard}"]').click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label(user).check()
    page.locator("#sign-in").click()
    expect(page).to_have_url(re.compile(rf"/dev/shop#{event_id}$"))
    expect(event).to_be_in_viewport()
    expect(page.locator(f'[data-testid="buy-ticket-type-{standard}"]')).to_be_in_viewport()
    screenshot_of_the_view(shopper, "signed in back at the event")

    # From here on nothing reloads the page: a mark left on the window stays.
    page.evaluate("window.__sameDocument = true")

    # Book a session: its button becomes "In your cart".
    slot = number_in_testid(page, '[data-testid^="book-slot-"]', "book-slot-")
    page.locator(f'[data-testid="book-slot-{slot}"]').click()
    expect(page.locator(f'[data-testid="slot-in-cart-{slot}"]')).to_have_text("In your cart")
    expect(page.locator(f'[data-testid="book-slot-{slot}"]')).to_have_count(0)
    badge(page, 1)

    # Two Standard tickets: the count beside them follows (what is left does not drop, since
    # tickets in a cart are not sold; the shopper's own are counted).
    available = page.locator(f"#available-{standard}")
    left = re.match(r"\d+ left", available.inner_text().strip())
    assert left is not None
    page.locator(f"#tickets-{standard}").select_option("2")
    page.locator(f'[data-testid="buy-ticket-type-{standard}"]').click()
    expect(available).to_have_text(f"{left.group(0)} · 2 in your cart")
    badge(page, 3)
    page.locator(f"#tickets-{standard}").select_option("1")
    page.locator(f'[data-testid="buy-ticket-type-{standard}"]').click()
    expect(available).to_have_text(f"{left.group(0)} · 3 in your cart")
    badge(page, 4)
    assert page.evaluate(SAME_DOCUMENT)
    shopper.screenshot("storefront after booking and adding tickets")

    # The hall's cart: one line for the three tickets, with a quantity box.
    page.goto(f"{live_service.base_url}/hall/")
    groups = page.locator('[data-testid^="ticket-group-"]')
    expect(groups).to_have_count(1)
    expect(groups.first).to_have_attribute("data-quantity", "3")
    expect(groups.first).to_contain_text("£36.00")
    page.evaluate("window.__sameDocument = true")
    groups.first.get_by_label("Tickets").fill("2")
    groups.first.get_by_role("button", name="Update").click()
    expect(groups.first).to_have_attribute("data-quantity", "2")
    expect(groups.first).to_contain_text("£24.00")
    expect(page.locator('[data-testid="page-subtotal"]')).to_have_text("£24.00")
    expect(page.locator("#messages")).to_contain_text("2 tickets in your cart")
    badge(page, 3)
    assert page.evaluate(SAME_DOCUMENT)
    shopper.screenshot("page cart tickets grouped")

    # Pay for them: the order shows one line of two, and each ticket's code.
    page.locator("#checkout").click()
    pay_on_the_hosted_page(page, shopper)
    expect(page.locator("#payment-status")).to_have_attribute("data-state", "paid", timeout=20_000)
    page.locator("#view-order").click()
    order_groups = page.locator('[data-testid="order-ticket-group"]')
    expect(order_groups).to_have_count(1)
    expect(order_groups.first).to_have_attribute("data-quantity", "2")
    expect(order_groups.first).to_contain_text("£24.00")
    expect(order_groups.first.get_by_text("Ticket code")).to_have_count(2)
    shopper.screenshot("order page tickets grouped")

    # Back at the shop, the booking is still in the cart and says so.
    page.goto(f"{live_service.base_url}/dev/shop")
    expect(page.locator(f'[data-testid="slot-in-cart-{slot}"]')).to_be_visible()
