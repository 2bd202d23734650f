"""Shoppers at a given width, for the tests that look at a page on a desktop and on a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, FloatRect, Locator, Page, ViewportSize

from tests.browser.conftest import Shopper

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}


@contextmanager
def shopper_at(
    browser: Browser,
    name: str,
    viewport: ViewportSize,
    *,
    javascript: bool = True,
    expected_console: re.Pattern[str] | None = None,
) -> Iterator[Shopper]:
    """A fresh shopper (own cookies) at this width; console errors fail the test, except the
    ones the test expects (Chromium logs every 4xx answer, refused values included)."""
    phone = viewport["width"] < DESKTOP["width"] // 2
    context = browser.new_context(
        viewport=viewport, is_mobile=phone, has_touch=phone, java_script_enabled=javascript
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    who = Shopper(page=page, name=name)
    page.on("console", lambda m: who.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: who.console_errors.append(str(error)))
    try:
        yield who
    finally:
        context.close()
    unexpected = [
        m for m in who.console_errors if expected_console is None or not expected_console.search(m)
    ]
    assert unexpected == [], f"browser console errors: {unexpected}"


def in_viewport(page: Page, element: Locator) -> bool:
    """Whether the element is wholly within what the window shows now."""
    box = element.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return (
        box["y"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] >= 0
        and box["x"] + box["width"] <= size["width"]
    )


def box_of(element: Locator) -> FloatRect:
    """Where the element is drawn; it must be shown."""
    box = element.bounding_box()
    assert box is not None, f"{element} is not shown"
    return box


def overlaps(a: FloatRect, b: FloatRect) -> bool:
    """Whether two drawn boxes share any area."""
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )
