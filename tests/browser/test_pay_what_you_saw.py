"""Pay exactly what you saw, in Chromium at 1280 px and on a 390 px phone: a waiting order is
shown where the cart is and can be cancelled, a stale tab leads to a review instead of another
amount, a typed quantity is applied before checkout, and the amount on every checkout button
is the one SumUp's page asks for.

Each point the shopper reported, and the browser test that shows it fixed (both widths,
screenshots under artifacts/screenshots/<test>-<width>/, axe-core on the pages it reaches);
"holds" is test_cart_says_what_it_holds.py:
   1. held items vanish, then come back on the bill (page cart, overview, and the storefront
      through the waiting-order fragment): test_held_items_show_and_the_button_says_what_sumup_asks
   2. a stale tab names the wrong amount (two tabs): test_a_stale_tab_leads_to_the_review_page
   3. a typed quantity is silently dropped: test_a_typed_quantity_is_charged_not_dropped
   4. Back after paying: test_a_paid_order_counts_tickets_once_and_an_unpaid_one_says_not_paid
   5. out-of-date pages after an error (two tabs):
      holds: test_a_line_removed_in_another_tab_goes_and_quantity_messages_agree
   6. focus lost, Esc (keyboard only): test_keyboard_focus_stays_where_the_shopper_acts
   7. tickets counted three ways:
      test_a_paid_order_counts_tickets_once_and_an_unpaid_one_says_not_paid
   8. a waiting order never paid: wording and "check again" as news in
      test_a_paid_order_counts_tickets_once_and_an_unpaid_one_says_not_paid; Cancel order puts
      the items back in test_held_items_show_and_the_button_says_what_sumup_asks
   9. phone: test_one_toast_at_a_time_clear_of_the_total_and_lines_share_one_layout
  10. quantity messages: test_a_quantity_is_applied_once_typing_stops_with_one_wording, and
      holds: test_a_line_removed_in_another_tab_goes_and_quantity_messages_agree
  11. the overview and sign-in:
      holds: test_the_overview_lists_items_and_sign_in_says_what_became_of_each_line
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import LiveService, Shopper
from tests.browser.shoppers import box_of, overlaps
from tests.browser.test_shopper_journey import badge, pay_on_the_hosted_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]
# What Chromium logs of a refused value's 400 answer.
REFUSED = re.compile(r"status of 400")

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


def settled(page: Page) -> None:
    """Wait until no htmx request, swap or settle is under way on the page."""
    busy = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"
    expect(page.locator(busy)).to_have_count(0)


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
    """Point 1, and point 8's Cancel order: items a waiting order holds are shown on the page
    cart, the overview and the storefront, and counted in the button's amount."""
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
    # Back on the page that embeds the waiting-order fragment.
    expect(page).to_have_url(f"{base}/dev/shop")
    expect(page.locator('[data-testid^="waiting-order-"]')).to_have_count(0)
    badge(page, 4)
    shopper.screenshot("order cancelled, tickets back in the cart")
    page.goto(f"{base}/hall/")
    expect(page.locator('[data-testid^="ticket-group-"]')).to_have_attribute("data-quantity", "2")
    assert checkout_button(page) == "£42.00"


def test_a_stale_tab_leads_to_the_review_page(
    live_service: LiveService, sized: tuple[Shopper, str]
) -> None:
    """Point 2, with two tabs: a checkout from a tab that shows an old cart opens no payment."""
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
    """Point 6, keyboard only: Enter on Add to cart, Update and Remove leaves focus on the
    control or the line now in its place, never on <body>; Esc dismisses a toast."""
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
    # Once htmx has taken up the forms the answer brought: pressed sooner (within milliseconds,
    # as no person can), the form is posted without htmx and the whole page loads again.
    settled(page)
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
    """Points 8, 7 and 4: an unpaid order says so and "check again" is news; once paid, the
    thank-you page, the order page and the orders list count the tickets one way, with their
    codes; Back after paying shows no live checkout, and an old page's checkout posted again
    goes to the paid order."""
    shopper, user = sized
    page, base = shopper.page, live_service.base_url
    sign_in_and_fill(page, base, user, tickets="3")
    response = page.goto(f"{base}/hall/")
    assert response is not None
    assert response.headers["cache-control"] == "private, no-store"

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
    # The checkout form as this page shows it, to post again once paid (as a page kept by the
    # browser would: the cart's pages are no-store, so Back fetches them afresh).
    old_checkout = page.locator("#checkout").evaluate("b => b.form.outerHTML")
    page.locator("#checkout").click()
    expect(page.locator("#amount")).to_have_text("£45.00")
    pay_on_the_hosted_page(page, shopper)
    expect(page.locator("#payment-status")).to_have_attribute("data-state", "paid", timeout=20_000)
    groups = page.locator('[data-testid="summary-ticket-group"]')
    expect(groups).to_have_count(1)
    expect(groups.first).to_have_attribute("data-quantity", "3")
    expect(groups.first).to_contain_text("\u00d7 3")
    codes = sorted(re.findall(r"Ticket code ([0-9A-F]{16})", groups.first.inner_text()))
    assert len(codes) == 3, groups.first.inner_text()
    assert_accessible(page, "thank-you page with ticket codes")
    shopper.screenshot("thank-you page tickets on one line with their codes")
    order_path = page.locator("#view-order").get_attribute("href")
    assert order_path is not None

    # The order page and the orders list count them the same way.
    page.goto(f"{base}{order_path}")
    on_order = page.locator('[data-testid="order-ticket-group"]')
    expect(on_order).to_have_count(1)
    expect(on_order).to_have_attribute("data-quantity", "3")
    assert sorted(re.findall(r"Ticket code ([0-9A-F]{16})", on_order.inner_text())) == codes
    page.goto(f"{base}/orders/")
    row = page.locator(f'#orders-rows a[href="{order_path}"]')
    expect(row).to_contain_text(re.compile("\\(Standard\\) \u00d7 3"))
    shopper.screenshot("orders list counts the tickets once")
    page.go_back()
    page.go_back()

    # History is honest: three Backs show the cart as it is now, with nothing left to pay.
    page.go_back()
    page.go_back()
    page.go_back()
    expect(page).to_have_url(f"{base}/hall/")
    expect(page.locator('[data-testid="empty-page-cart"]')).to_be_visible()
    expect(page.locator("#checkout")).to_have_count(0)
    shopper.screenshot("back after paying shows the cart as it is")

    # The old page's checkout posted again: the paid order's page says nothing more was charged.
    page.locator("#main").evaluate(
        "(main, html) => main.insertAdjacentHTML('beforeend', html)", old_checkout
    )
    page.locator("#checkout").click()
    expect(page).to_have_url(f"{base}{order_path}")
    expect(page.locator("body")).to_contain_text("is already paid, so nothing more was charged")
    assert_accessible(page, "paid order after an old checkout")
    shopper.screenshot("an old checkout lands on the paid order")


def test_a_typed_quantity_is_charged_not_dropped(
    live_service: LiveService, sized: tuple[Shopper, str]
) -> None:
    """Point 3: a quantity typed and checkout pressed at once, with no Update: the checkout
    waits for the cart to take the quantity, and SumUp asks for what was typed, never 1."""
    shopper, user = sized
    page, base = shopper.page, live_service.base_url
    sign_in_and_fill(page, base, user, tickets="1")
    page.goto(f"{base}/hall/")
    assert checkout_button(page) == "£21.00"

    quantity = bag_quantity(page)
    quantity.fill("4")
    # Typing holds the checkout back until the cart has answered.
    expect(page.locator("#checkout")).to_be_disabled()
    expect(page.locator('[data-testid="checkout-wait"]')).to_be_visible()
    shopper.screenshot("checkout waits for the typed quantity")
    # The shopper presses checkout straight away: the press takes focus from the box, which
    # applies the quantity; the button then names what was typed.
    box = page.locator("#checkout").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#checkout")).to_be_enabled()
    expect(page.locator("#checkout")).to_contain_text("£48.00")
    expect(bag_quantity(page)).to_have_value("4")
    assert_accessible(page, "page cart once the typed quantity is applied")
    shopper.screenshot("typed quantity applied, the button names it")

    page.locator("#checkout").click()
    expect(page.locator("#amount")).to_have_text("£48.00")
    shopper.screenshot("sumup asks for what was typed")

    # Not paid: cancelled, nothing is left waiting for the next test.
    page.goto(f"{base}/hall/")
    page.locator('[data-testid^="waiting-cancel-"]').click()
    expect(page.locator("#messages")).to_contain_text("is cancelled and nothing was charged")


def expect_refusals_logged(shopper: Shopper) -> None:
    """Chromium logs the 400 of each refused value this test provokes: those, and only those,
    are expected in the console."""
    refused = [m for m in shopper.console_errors if REFUSED.search(m)]
    assert refused, "no refusal was answered"
    shopper.console_errors[:] = [m for m in shopper.console_errors if m not in refused]


REMOVE_STYLE = (
    "color",
    "backgroundColor",
    "borderTopColor",
    "borderTopWidth",
    "borderRadius",
    "fontSize",
    "fontWeight",
    "paddingLeft",
)


def test_one_toast_at_a_time_clear_of_the_total_and_lines_share_one_layout(
    live_service: LiveService, sized: tuple[Shopper, str]
) -> None:
    """Point 9 (and 10's "a new toast replaces the old one"): a ticket line's total sits where
    a product's does, both Remove buttons look alike, and of two answers in a row only the
    newest toast is shown, covering neither the total nor the checkout button."""
    shopper, user = sized
    page, base = shopper.page, live_service.base_url
    sign_in_and_fill(page, base, user, tickets="2")
    page.goto(f"{base}/hall/")

    product_total = page.locator('[data-testid^="line-total-"]').first
    ticket_total = page.locator('[data-testid^="ticket-line-total-"]').first
    ticket_title = page.locator('[data-testid^="ticket-group-"] p.font-medium').first
    right = [box_of(t)["x"] + box_of(t)["width"] for t in (product_total, ticket_total)]
    assert abs(right[0] - right[1]) <= 1, f"line totals end at {right}"
    # The ticket's total is on its title's row, not floating mid-row.
    title, total = box_of(ticket_title), box_of(ticket_total)
    assert total["y"] < title["y"] + title["height"], f"total at {total}, title at {title}"

    styles = [
        page.locator(selector).first.evaluate(
            "(b, names) => names.map(n => getComputedStyle(b)[n])", list(REMOVE_STYLE)
        )
        for selector in ('[data-testid^="remove-line-"]', '[data-testid^="remove-tickets-"]')
    ]
    assert styles[0] == styles[1], dict(zip(REMOVE_STYLE, zip(*styles, strict=True), strict=True))
    assert_accessible(page, "page cart with a product and tickets")
    shopper.screenshot("product and ticket lines share one layout")

    # A success, then a refusal at once: one toast, the newest.
    quantity = bag_quantity(page)
    quantity.fill("2")
    quantity.press("Enter")
    expect(page.locator("#messages")).to_contain_text("quantity is now")
    settled(page)
    quantity = bag_quantity(page)
    quantity.fill("1000")
    quantity.press("Enter")
    expect(page.locator("#alerts")).to_contain_text("whole number from 0 to 99")
    toasts = page.locator("#toasts [data-toast]")
    expect(toasts).to_have_count(1)
    for name in ("#checkout", '[data-testid="page-subtotal"]'):
        control = page.locator(name)
        control.scroll_into_view_if_needed()
        assert not overlaps(box_of(toasts.first), box_of(control)), f"the toast covers {name}"
    shopper.screenshot("one toast clear of the total and checkout", full_page=False)

    # Esc dismisses it; the quantity put right, the checkout is back.
    settled(page)
    page.keyboard.press("Escape")
    expect(toasts).to_have_count(0)
    quantity = bag_quantity(page)
    quantity.fill("1")
    quantity.press("Enter")
    expect(page.locator("#checkout")).to_be_enabled()
    expect(page.locator("#checkout")).to_contain_text("£33.00")
    expect_refusals_logged(shopper)


def test_a_quantity_is_applied_once_typing_stops_with_one_wording(
    live_service: LiveService, sized: tuple[Shopper, str]
) -> None:
    """Point 10: a changed quantity is applied without Update, once changes stop (one request
    for several quick ones); an empty box gets the rule's one wording and holds the checkout
    back; no toast on the cart's own page offers "View cart"."""
    shopper, user = sized
    page, base = shopper.page, live_service.base_url
    sign_in_and_fill(page, base, user, tickets="1")
    page.goto(f"{base}/hall/")
    posted: list[str] = []
    page.on(
        "request",
        lambda r: posted.append(r.post_data or "") if "/quantity/" in r.url else None,
    )

    quantity = bag_quantity(page)
    for typed in ("2", "3", "5"):
        quantity.fill(typed)
        quantity.dispatch_event("change")
    expect(page.locator("#checkout")).to_contain_text("£57.00")
    assert len(posted) == 1 and "quantity=5" in posted[0], posted
    expect(page.locator('#messages [data-testid="toast-view-cart"]')).to_have_count(0)
    shopper.screenshot("quick changes applied once")

    quantity = bag_quantity(page)
    quantity.fill("")
    quantity.dispatch_event("change")
    expect(page.locator("#alerts")).to_contain_text(
        "The quantity must be a whole number from 0 to 99."
    )
    expect(page.locator("#checkout")).to_be_disabled()
    expect(bag_quantity(page)).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "page cart with an empty quantity")
    shopper.screenshot("an empty quantity holds the checkout back")
    expect_refusals_logged(shopper)
