"""The seeds' settings: DATABASE_URL_ASYNC, the coop's app names in DOMAINS (as the README shows
them), the coop's time zone, locale and currency."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from bp.runtime import runtime
from config.settings import ConfigError, load_settings
from services.sql.account_impl import SqlAccountService
from services.sql.blog_impl import SqlBlogService
from services.sql.calendar_impl import SqlCalendarService
from services.sql.cart_impl import SqlCartService
from services.sql.market_impl import SqlMarketService
from tests.config.test_settings import PRODUCTION

README = Path(__file__).resolve().parents[2] / "README.md"
DOMAINS_ROW = re.compile(r"^\| `DOMAINS` \|.*?`(\[[^`]*\])`", re.MULTILINE)


def production_without_database_url(**extra: Any) -> dict[str, Any]:
    settings = {key: value for key, value in PRODUCTION.items() if key != "database_url"}
    return {**settings, **extra}


def readme_domains_example() -> list[str]:
    """The DOMAINS example of the README's configuration table, as an operator would copy it."""
    found = DOMAINS_ROW.search(README.read_text())
    assert found is not None, "the README's configuration table has no DOMAINS example"
    example = json.loads(found.group(1))
    assert isinstance(example, list)
    return example


def test_production_starts_with_only_the_seeds_database_url_async(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL_ASYNC", "postgresql+asyncpg://user:pass@db/coop")

    settings = load_settings(production_without_database_url())

    assert settings.database_url == "postgresql+asyncpg://user:pass@db/coop"


def test_both_database_urls_may_name_the_same_database_with_other_drivers() -> None:
    settings = load_settings(
        {
            **PRODUCTION,
            "database_url": "postgresql://user:pass@db/coop",
            "database_url_async": "postgresql+asyncpg://user:pass@db/coop",
        }
    )
    assert settings.database_url == "postgresql://user:pass@db/coop"


def test_two_database_urls_naming_different_databases_are_refused() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL and DATABASE_URL_ASYNC name different"):
        load_settings(
            {
                **PRODUCTION,
                "database_url": "postgresql://db/cart",
                "database_url_async": "postgresql+asyncpg://db/other",
            }
        )


def test_production_still_names_the_database_when_neither_url_is_set() -> None:
    with pytest.raises(ConfigError, match="required in production but not set: DATABASE_URL"):
        load_settings(production_without_database_url())


def test_domains_accept_the_coops_app_names() -> None:
    settings = load_settings({"domains": ["blog", "market", "events", "cart", "federation"]})
    assert settings.domains == ["blog", "market", "calendar", "cart"]


def test_an_unknown_domain_is_refused_with_the_names_that_work() -> None:
    with pytest.raises(ConfigError, match=r"unknown domain 'shop'.*events"):
        load_settings({"domains": ["blog", "shop"]})


async def test_the_readme_domains_example_starts_the_app(
    app_config: dict[str, Any], clean_state: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = readme_domains_example()
    assert "events" in example
    monkeypatch.setenv("DOMAINS", json.dumps(example))
    application = create_app(app_config)
    async with application.test_app():
        domains = runtime(application).domains
        response = await application.test_client().get("/")

    assert isinstance(domains.blog, SqlBlogService)
    assert isinstance(domains.market, SqlMarketService)
    assert isinstance(domains.calendar, SqlCalendarService)
    assert isinstance(domains.cart, SqlCartService)
    assert isinstance(domains.account, SqlAccountService)
    assert response.status_code == 200


def test_the_coops_zone_and_locale_default_to_london() -> None:
    settings = load_settings()
    assert settings.time_zone == "Europe/London"
    assert settings.locale == "en_GB"


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("time_zone", "Europe/Atlantis", "unknown time zone 'Europe/Atlantis'"),
        ("locale", "xx_YY", "unknown locale 'xx_YY'"),
        ("currency", "CHF", "CURRENCY"),
    ],
)
def test_an_unknown_zone_locale_or_currency_is_refused(
    setting: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({setting: value})


def test_euro_is_a_supported_currency() -> None:
    assert load_settings({"currency": "EUR"}).currency == "EUR"
