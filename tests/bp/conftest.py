"""Fixtures the blueprints' tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart

from app import create_app

# Each client may read three pages a minute: the fourth is refused.
PAGES_LIMITED = {"rate_limit_enabled": True, "rate_limit_pages": "3/minute"}


@pytest.fixture
async def limited_app(app_config: dict[str, Any], clean_state: None) -> AsyncIterator[Quart]:
    """The app with its limits counted, pages limited to PAGES_LIMITED."""
    application = create_app({**app_config, **PAGES_LIMITED})
    async with application.test_app():
        yield application
