"""A live service run as `python3 dev.py serve` runs it, and Debian's chromium under Playwright.

The service process uses the machine's (or the test command's) PostgreSQL and Redis with a
database of its own, and serves the SumUp stand-in beside it, exactly as the development run.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from redis.asyncio import Redis

from lib.redis import url_with_db
from tests.conftest import database_url_for, recreate_database, redis_url
from tests.support.processes import ROOT, free_port, start, stop, wait_for_http

CHROMIUM = "/usr/bin/chromium"
# Without these switches Chromium tries to reach Google's hosts, which this machine refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A run may name its own database and Redis indexes, so that two runs side by side on one
# machine (which both recreate and flush them) never share them.
DATABASE = os.environ.get("TEST_BROWSER_DATABASE_NAME", "cart_browser_test")
AUTH_DB = int(os.environ.get("TEST_BROWSER_REDIS_AUTH_DB", "10"))
CART_DB = int(os.environ.get("TEST_BROWSER_REDIS_CART_DB", "9"))
SCREENSHOTS = ROOT / "artifacts" / "screenshots"


@dataclass
class LiveService:
    base_url: str
    standin_url: str


async def _flush_redis() -> None:
    for db in (AUTH_DB, CART_DB):
        client = Redis.from_url(url_with_db(redis_url(), db))
        await client.flushdb()
        await client.aclose()


# Module scope: sync Playwright drives its own event loop in this thread, which must be gone
# before the asyncio tests of other modules run.
@pytest.fixture(scope="module")
def live_service() -> Iterator[LiveService]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is not installed: .ci/run installs it")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    asyncio.run(recreate_database(DATABASE))
    asyncio.run(_flush_redis())
    port, standin_port = free_port(), free_port()
    env = {
        "APP_ENV": "development",
        "DATABASE_URL": database_url_for(DATABASE),
        "REDIS_URL": redis_url(),
        "REDIS_AUTH_DB": str(AUTH_DB),
        "REDIS_CART_DB": str(CART_DB),
        "SUMUP_API_KEY": "",
        "PORT": str(port),
        "SUMUP_STANDIN_PORT": str(standin_port),
        "MAIL_CATCHER_PORT": str(free_port()),
        "RECONCILER_INTERVAL_SECONDS": "5",
        # Every shopper of a module is one browser on one address, 127.0.0.1: the limits per
        # address are made for one person, and a module's shoppers together check out more
        # than ten times a minute on a quick machine. The limits have tests of their own.
        "RATE_LIMIT_CHECKOUT": "1000/minute",
        "RATE_LIMIT_WRITES": "10000/minute",
        "RATE_LIMIT_PAGES": "10000/minute",
    }
    # The service's output goes to a file, not a pipe: nobody reads a pipe while the tests run,
    # and once its 64 KiB buffer is full the service would stop at its next log line.
    (ROOT / "artifacts").mkdir(exist_ok=True)
    with (ROOT / "artifacts" / "browser-service.log").open("wb") as log:
        process = start([sys.executable, "-m", "devtools.serve"], env, output=log)
        try:
            assert wait_for_http(f"http://127.0.0.1:{port}/readyz", process, timeout=120) == 200
            yield LiveService(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{standin_port}")
        finally:
            stop(process)


@dataclass
class Shopper:
    """One browser context (one shopper), collecting console errors and taking screenshots."""

    page: Page
    name: str
    console_errors: list[str] = field(default_factory=list)
    step: int = 0

    def screenshot(self, label: str, *, full_page: bool = True) -> None:
        """The page (or, with full_page=False, what the viewport shows) under artifacts/."""
        self.step += 1
        folder = SCREENSHOTS / self.name
        folder.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        path = str(folder / f"{self.step:02d}-{slug}.png")
        self.page.screenshot(path=path, full_page=full_page)


@pytest.fixture(scope="module")
def browser(live_service: LiveService) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def shopper(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Shopper]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    who = Shopper(page=page, name=request.node.name)
    page.on(
        "console",
        lambda m: (
            who.console_errors.append(f"{m.text} at {m.location.get('url')}")
            if m.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: who.console_errors.append(str(error)))
    yield who
    context.close()
    assert who.console_errors == [], f"browser console errors: {who.console_errors}"
