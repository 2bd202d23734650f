"""The cart says what it holds, in Chromium at 1280 px and on a 390 px phone: the overview
lists each page's items with one checkout each, sign-in says what became of each line, a line
another tab removed disappears with its message, one wording for a quantity's rule with the
checkout held back meanwhile, and the order page's contact line is a link."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import LiveService, Shopper

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 390, "height": 844},
}
USERS = {"desktop": "Alice Baker", "phone": "Ben Carter"}
# Chromium logs the 4xx answers the tests provoke on purpose.
EXPECTED_CONSOLE = re.compile(r"status of 40[04]")


@pytest.fixture(params=list(WIDTHS))
def sized(browser: Browser, request: pytest.FixtureRequest) -> Iterator[tuple[Shopper, str]]:
    phone = request.param == "phone"
    context = browser.new_context(viewport=WIDTHS[request.param], is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.set_default_timeout(15_000)
    name = f"{request.node.originalname.removeprefix('test_')}-{request.param}"
    who = Shopper(page=page, name=name)
    page.on("console", lambda m: who.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: who.console_errors.append(str(error)))
    yield who, USERS[request.param]
    context.close()
    unexpected = [m for m in who.console_errors if not EXPECTED_CONSOLE.search(m)]
    assert unexpected == [], f"browser console errors: {unexpected}"


def add(page: Page, base: str, slug: str) -> None:
    page.goto(f"{base}/dev/shop")
    page.locator(f'[data-testid="add-{slug}"]').click()
    expect(page.locator("#messages")).to_contain_text("Added")


def sign_in(page: Page, user: str) -> None:
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label(user).check()
    page.locator("#sign-in").click()


def test_the_overview_lists_items_and_sign_in_says_what_became_of_each_line(
    live_service: LiveService, sized: tuple[Shopper, str]
) -> None:
    """Point 11: the overview lists the items with one checkout per page, sign-in says what
    became of each line, and the contact line is a link."""
    shopper, user = sized
    page, base = shopper.page, live_service.base_url

    # Signed in: potatoes in the cart. Signed out (a new browser session): potatoes and rye.
    page.goto(f"{base}/dev/shop")
    sign_in(page, user)
    add(page, base, "seed-potatoes")
    page.context.clear_cookies()
    add(page, base, "seed-potatoes")
    add(page, base, "rye-bread")
    sign_in(page, user)
    messages = page.locator("#messages")
    expect(messages).to_contain_text("Added to your cart: Seeded rye (1).")
    expect(messages).to_contain_text(
        re.compile(r"Seed potatoes, 2 kg was already in your cart: the 1 from before you signed in")
    )
    shopper.screenshot("sign-in says what became of each line")

    page.goto(f"{base}/")
    garden = page.locator('[data-testid="group-garden"]')
    expect(garden.locator('[data-testid="group-items"]')).to_contain_text("Seed potatoes, 2 kg")
    expect(garden.get_by_role("button", name=re.compile("Check out and pay"))).to_have_count(1)
    expect(page.locator("#checkout-all")).to_contain_text("Check out everything")
    assert_accessible(page, "overview with items listed")
    shopper.screenshot("overview lists items with one checkout per page")

    # With one page left, there is one checkout: no "check out everything".
    bakery = page.locator('[data-testid="group-bakery"]')
    page.goto(f"{base}/bakery/")
    page.locator('[data-testid^="remove-line-"]').first.click()
    expect(page.locator('[data-testid="empty-page-cart"]')).to_be_visible()
    page.goto(f"{base}/")
    expect(bakery).to_have_count(0)
    expect(page.locator("#checkout-all")).to_have_count(0)
    shopper.screenshot("overview with one page has one checkout")

    # An order's page links to the coop for questions.
    garden.get_by_role("button", name=re.compile("Check out and pay")).click()
    expect(page.locator("#amount")).to_be_visible()
    page.go_back()
    page.locator('[data-testid^="waiting-order-"] a').first.click()
    expect(page.locator('[data-testid="order-contact"] a')).to_have_attribute(
        "href", re.compile(r"^mailto:coop@example\.org")
    )
    shopper.screenshot("order page contact link")


def test_a_line_removed_in_another_tab_goes_and_quantity_messages_agree(
    live_service: LiveService, sized: tuple[Shopper, str]
) -> None:
    """Points 5 and 10, with two tabs: acting on a line another tab removed refreshes the
    line, the total and the badge; -1, 1000 and 2.5 get one wording and hold the checkout back."""
    shopper, user = sized
    page, base = shopper.page, live_service.base_url
    page.goto(f"{base}/dev/shop")
    if page.get_by_role("link", name="Sign in").count():
        sign_in(page, user)
    add(page, base, "cinnamon-buns")
    add(page, base, "sourdough-loaf")
    page.goto(f"{base}/bakery/")
    lines = page.locator("li[data-line-id]")
    count = lines.count()

    other = page.context.new_page()
    other.goto(f"{base}/bakery/")
    other.locator('[data-testid^="remove-line-"]').first.click()
    expect(other.locator("li[data-line-id]")).to_have_count(count - 1)
    badge_now = other.locator("#cart-mini").get_attribute("data-count")
    total_now = other.locator('[data-testid="page-subtotal"]').inner_text()
    other.close()

    # This tab still shows the line: acting on it says why, and the line goes, with the
    # total and the badge as the cart now is (point 5).
    page.locator('[data-testid^="update-"]').first.click()
    expect(page.locator("#alerts")).to_contain_text("not in your cart")
    expect(lines).to_have_count(count - 1)
    expect(page.locator('[data-testid="page-subtotal"]')).to_have_text(total_now)
    expect(page.locator("#cart-mini")).to_have_attribute("data-count", badge_now or "")
    shopper.screenshot("a line removed in another tab goes")

    # One rule, one wording; the checkout waits while the box is refused.
    quantity = page.locator('input[id^="quantity-"]').first
    for typed in ("-1", "1000", "2.5"):
        quantity.fill(typed)
        quantity.press("Enter")
        expect(page.locator("#alerts")).to_contain_text(
            "The quantity must be a whole number from 0 to 99."
        )
        quantity = page.locator('input[id^="quantity-"]').first
    expect(page.locator("#messages [data-toast]")).to_have_count(0)
    expect(page.locator("#checkout")).to_be_disabled()
    expect(page.locator('[data-testid="checkout-blocked"]')).to_be_visible()
    toast = page.locator("#alerts [data-toast]").first
    assert not _covers(toast, page.locator("#checkout"))
    assert not _covers(toast, page.locator('[data-testid="page-subtotal"]'))
    assert_accessible(page, "page cart with a refused quantity")
    shopper.screenshot("refused quantity holds the checkout back")


def _covers(toast: Locator, control: Locator) -> bool:
    """Whether the toast lies over the control on screen."""
    a, b = toast.bounding_box(), control.bounding_box()
    if a is None or b is None:
        return False
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )
