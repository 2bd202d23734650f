"""Pay exactly what you saw, in Chromium at 1280 px and on a 390 px phone: a waiting order is
shown where the cart is and can be cancelled, a stale tab leads to a review instead of another
amount, a typed quantity is applied before checkout, and the amount on every checkout button
is the one SumUp's page asks for."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import LiveService, Shopper
from tests.browser.test_shopper_journey import badge, pay_on_the_hosted_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Width name → (viewport, demo user): each width shops as its own user on the same service.
WIDTHS: dict[str, tuple[ViewportSize, str]] = {
    "desktop": ({"width": 1280, "height": 900}, "Alice Baker"),
    "phone": ({"width": 390, "height": 844}, "Ben Carter"),
}


@pytest.fixture(params=list(WIDTHS))
def sized(browser: Browser, request: pytest.FixtureRequest) -> Iterator[tuple[Shopper, str]]:
    viewport, user = WIDTHS[request.param]
    phone = request.param == "phone"
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.set_default_timeout(15_000)
    name = f"{request.node.originalname.removeprefix('test_')}-{request.param}"
    who = Shopper(page=page, name=name)
    # Chromium logs the 4xx of a refused value; nothing else may be logged.
    page.on("console", lambda m: who.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: who.console_errors.append(str(error)))
    yield who, user
    context.close()
    assert who.console_errors == [], f"browser console errors: {who.console_errors}"


def sign_in_and_fill(page: Page, base_url: str, user: str, *, tickets: str = "2") -> None:
    """Sign in from the event, empty the hall's cart (an earlier test may have left things),
    then a tote bag and Standard tickets into it."""
    page.goto(f"{base_url}/dev/shop")
    signs = page.locator('[data-testid^="sign-in-to-buy-"]')
    if signs.count():
        signs.first.click()
        page.get_by_label(user).check()
        page.locator("#sign-in").click()
    page.goto(f"{base_url}/hall/")
    for kind in ("waiting-cancel-", "remove-"):
        buttons = page.locator(f'[data-testid^="{kind}"]')
        while (left := buttons.count()) > 0:
            buttons.first.click()
            expect(buttons).to_have_count(left - 1)
    expect(page.locator('[data-testid="empty-page-cart"]')).to_be_visible()
    page.goto(f"{base_url}/dev/shop")
    standard = page.locator('[data-testid^="buy-ticket-type-"]').first
    type_id = (standard.get_attribute("data-testid") or "").removeprefix("buy-ticket-type-")
    page.locator(f"#tickets-{type_id}").select_option(tickets)
    standard.click()
    expect(page.locator("#messages")).to_contain_text("ticket")
    page.locator('[data-testid="add-tote-bag"]').click()
    expect(page.locator("#messages")).to_contain_text("Rose Ash tote bag")


def checkout_button(page: Page) -> str:
    text = page.locator("#checkout").inner_text()
    found = re.search(r"£[\d.,]+", text)
    assert found is not None, text
    return found.group(0)


def bag_quantity(page: Page) -> Locator:
    line = page.locator("li[data-line-id]").filter(has_text="Rose Ash tote bag")
    return line.get_by_label("Quantity")


def test_held_items_show_and_the_button_says_what_sumup_asks(
    live_service: LiveService, sized: tuple[Shopper, str]
) -> None:
    shopper, user = sized
    page, base = shopper.page, live_service.base_url
    sign_in_and_fill(page, base, user)
    page.goto(f"{base}/hall/")
    assert checkout_button(page) == "£33.00"

    # To SumUp's page, and Back without paying: the order still holds the tickets.
    page.locator("#checkout").click()
    expect(page.locator("#amount")).to_have_text("£33.00")
    page.go_back()
    banner = page.locator('[data-testid^="waiting-order-"]')
    expect(banner).to_contain_text(
        re.compile(r"Order #\d+ is waiting for payment:\s+2 tickets, 1 product, £33\.00")
    )
    expect(page.locator('[data-testid="held-note"]')).to_contain_text("2 tickets (£24.00)")
    assert checkout_button(page) == "£33.00"
    assert_accessible(page, "page cart with a waiting order")
    shopper.screenshot("waiting order banner on the page cart")

    # Two bags, applied as the box changes (no Update pressed): the button follows at once.
    quantity = bag_quantity(page)
    quantity.fill("2")
    quantity.press("Tab")
    expect(page.locator("#checkout")).to_contain_text("£42.00")
    shopper.screenshot("quantity applied on change")

    page.locator("#checkout").click()
    expect(page.locator("#amount")).to_have_text("£42.00")
    shopper.screenshot("sumup asks what the button said")

    # The storefront and the overview say so too; cancelling puts the tickets back.
    page.goto(f"{base}/")
    expect(page.locator('[data-testid^="waiting-order-"]')).to_contain_text("£42.00")
    expect(page.locator('[data-testid="group-items"]').first).to_contain_text("Rose Ash tote bag")
    assert_accessible(page, "overview with a waiting order")
    shopper.screenshot("overview lists the items and the waiting order")
    page.goto(f"{base}/dev/shop")
    banner = page.locator('[data-testid^="waiting-order-"]')
    expect(banner).to_be_visible()
    shopper.screenshot("storefront shows the waiting order")
    banner.get_by_role("button", name=re.compile("Cancel order")).click()
    expect(page.locator("#messages")).to_contain_text("is cancelled and nothing was charged")
    expect(page.locator('[data-testid^="waiting-order-"]')).to_have_count(0)
    badge(page, 4)
    shopper.screenshot("order cancelled, tickets back in the cart")
    page.goto(f"{base}/hall/")
    expect(page.locator('[data-testid^="ticket-group-"]')).to_have_attribute("data-quantity", "2")
    assert checkout_button(page) == "£42.00"


def test_a_stale_tab_leads_to_the_review_page(
    live_service: LiveService, sized: tuple[Shopper, str]
) -> None:
    shopper, user = sized
    tab_a, base = shopper.page, live_service.base_url
    sign_in_and_fill(tab_a, base, user, tickets="1")
    tab_a.goto(f"{base}/hall/")
    before = checkout_button(tab_a)

    tab_b = tab_a.context.new_page()
    tab_b.goto(f"{base}/hall/")
    quantity = bag_quantity(tab_b)
    quantity.fill("3")
    quantity.press("Enter")
    expect(tab_b.locator("#checkout")).not_to_contain_text(before)
    after = checkout_button(tab_b)
    tab_b.close()

    tab_a.locator("#checkout").click()
    expect(tab_a).to_have_url(re.compile(r"/hall/checkout/review/"))
    changes = tab_a.locator('[data-testid="review-changes"]')
    expect(changes).to_contain_text("Rose Ash tote bag: the quantity is 3")
    expect(changes).to_contain_text(f"The total is now {after} (it was {before}).")
    assert checkout_button(tab_a) == after
    assert_accessible(tab_a, "checkout review page")
    shopper.screenshot("review page after a change in another tab")

    tab_a.locator("#checkout").click()
    expect(tab_a.locator("#amount")).to_have_text(after)
    shopper.screenshot("sumup asks the reviewed amount")

    # Not paid after all: cancelled from its page, nothing is left waiting.
    tab_a.go_back()
    tab_a.goto(f"{base}/hall/")
    tab_a.locator('[data-testid^="waiting-cancel-"]').click()
    expect(tab_a.locator("#messages")).to_contain_text("is cancelled and nothing was charged")


def test_keyboard_focus_stays_where_the_shopper_acts(
    live_service: LiveService, sized: tuple[Shopper, str]
) -> None:
    shopper, user = sized
    page, base = shopper.page, live_service.base_url
    sign_in_and_fill(page, base, user, tickets="1")
    page.goto(f"{base}/bakery/")
    if page.locator('[data-testid="empty-page-cart"]').count():
        page.goto(f"{base}/dev/shop")
        page.locator('[data-testid="add-sourdough-loaf"]').focus()
        page.keyboard.press("Enter")
        expect(page.locator("#messages")).to_contain_text("Sourdough loaf")
        assert page.evaluate("document.activeElement.id").startswith("add-button-")
        page.locator('[data-testid="add-rye-bread"]').focus()
        page.keyboard.press("Enter")
        expect(page.locator("#messages")).to_contain_text("Seeded rye")
        # Esc dismisses the toast.
        page.keyboard.press("Escape")
        expect(page.locator("#messages [data-toast]")).to_have_count(0)
        page.goto(f"{base}/bakery/")

    # Update with the keyboard: focus stays on the button.
    update = page.locator('[data-testid^="update-"]').first
    update.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#messages")).to_contain_text("quantity is now")
    assert page.evaluate("document.activeElement.dataset.testid").startswith("update-")
    # No "View cart" on the cart's own page.
    expect(page.locator('#messages [data-testid="toast-view-cart"]')).to_have_count(0)

    # Remove the first line: focus moves to the line now in its place, not to the page's top.
    first_remove = page.locator('[data-testid^="remove-line-"]').first
    first_remove.focus()
    page.keyboard.press("Enter")
    expect(page.locator("li[data-line-id]")).to_have_count(1)
    focused = page.evaluate("document.activeElement.closest('[data-row]') !== null")
    assert focused, page.evaluate("document.activeElement.outerHTML")
    assert_accessible(page, "page cart after a keyboard removal")
    shopper.screenshot("focus after remove")


def test_a_paid_order_counts_tickets_once_and_an_unpaid_one_says_not_paid(
    live_service: LiveService, sized: tuple[Shopper, str]
) -> None:
    shopper, user = sized
    page, base = shopper.page, live_service.base_url
    sign_in_and_fill(page, base, user, tickets="3")
    page.goto(f"{base}/hall/")

    # Not paid yet: the order page says so, and "Check again" is news, not a success.
    page.locator("#checkout").click()
    expect(page.locator("#amount")).to_have_text("£45.00")
    page.go_back()
    page.locator('[data-testid^="waiting-order-"] a').first.click()
    expect(page.locator("#order-payment-status")).to_contain_text("Not paid yet")
    page.locator("#check-again").click()
    toast = page.locator("#messages [data-toast]")
    expect(toast).to_have_attribute("data-tone", "info")
    expect(toast).to_contain_text("it is not paid yet")
    assert_accessible(page, "order page of an unpaid order")
    shopper.screenshot("unpaid order says not paid yet")

    # Pay it from the cart: the thank-you page lists the three tickets as one line.
    page.goto(f"{base}/hall/")
    assert checkout_button(page) == "£45.00"
    page.locator("#checkout").click()
    expect(page.locator("#amount")).to_have_text("£45.00")
    pay_on_the_hosted_page(page, shopper)
    expect(page.locator("#payment-status")).to_have_attribute("data-state", "paid", timeout=20_000)
    groups = page.locator('[data-testid="summary-ticket-group"]')
    expect(groups).to_have_count(1)
    expect(groups.first).to_have_attribute("data-quantity", "3")
    shopper.screenshot("thank-you page tickets on one line")

    # History is honest: three Backs show the cart as it is now, with nothing left to pay.
    page.go_back()
    page.go_back()
    page.go_back()
    expect(page).to_have_url(f"{base}/hall/")
    expect(page.locator('[data-testid="empty-page-cart"]')).to_be_visible()
    expect(page.locator("#checkout")).to_have_count(0)
    shopper.screenshot("back after paying shows the cart as it is")
