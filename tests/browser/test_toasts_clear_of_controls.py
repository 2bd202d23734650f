"""Feedback never hides what it is about: on a phone, the toasts sit at the bottom of the
viewport, where the form the shopper just used may be; the refused field, its message and the
button must end up in view and clear of the toast."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import LiveService
from tests.browser.shoppers import PHONE, box_of, in_viewport, overlaps, shopper_at

pytestmark = [pytest.mark.browser, pytest.mark.slow]
# A refused quantity is answered 400, which Chromium logs.
REFUSED = re.compile(r"status of 400")


def _hidden_or_covered(page: Page, controls: dict[str, Locator], toasts: Locator) -> list[str]:
    """The controls out of the viewport or under a visible toast, with why."""
    toast_boxes = [box_of(toasts.nth(i)) for i in range(toasts.count())]
    problems = []
    for name, control in controls.items():
        box = box_of(control)
        if not in_viewport(page, control):
            problems.append(f"{name} out of the viewport at {box}")
        problems += [
            f"{name} at {box} under the toast at {toast}"
            for toast in toast_boxes
            if overlaps(box, toast)
        ]
    return problems


def test_a_refused_quantity_low_in_the_viewport_is_not_hidden_by_its_toast(
    live_service: LiveService, browser: Browser
) -> None:
    with shopper_at(browser, "toasts-clear-phone", PHONE, expected_console=REFUSED) as shopper:
        page = shopper.page
        page.goto(f"{live_service.base_url}/dev/shop")
        form = page.locator('form[id^="add-form-"]').last
        # The last add form at the very bottom of the viewport, where the toasts appear.
        form.evaluate("f => window.scrollBy(0, f.getBoundingClientRect().bottom - innerHeight)")
        bottom = box_of(form)["y"] + box_of(form)["height"]
        assert abs(bottom - PHONE["height"]) <= 1, f"the form ends at {bottom}, not at the bottom"

        field = form.locator('input[id^="qty-"]')
        button = form.locator('[data-testid^="add-"]')
        field.fill("0")
        button.click()
        error = page.locator("#alerts [data-toast]")
        expect(error).to_contain_text("The quantity must be a whole number from 1 to 99.")
        expect(field).to_have_attribute("aria-invalid", "true")
        message = form.get_by_test_id("field-error")
        expect(message).to_have_text("The quantity must be a whole number from 1 to 99.")

        controls = {"the refused field": field, "its message": message, "the button": button}
        toasts = page.locator("#toasts [data-toast]")
        # The page makes room once the answer has settled: a moment, on a busy machine.
        deadline = time.monotonic() + 5
        while (problems := _hidden_or_covered(page, controls, toasts)) and (
            time.monotonic() < deadline
        ):
            page.wait_for_timeout(100)
        shopper.screenshot("refused low in the viewport", full_page=False)
        assert problems == [], problems
        assert in_viewport(page, error)
        assert_accessible(page, "refused low in the viewport (phone)")
