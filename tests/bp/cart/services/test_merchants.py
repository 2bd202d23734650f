"""Merchants per page: sealed API keys, and the site as the fallback."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr
from quart import Quart
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bp.cart.services.merchants import (
    credentials_for_order,
    merchant_for_page,
    open_api_key,
    page_config_cipher,
    seal_api_key,
    set_page_merchant,
)
from bp.cart.services.payment_errors import MerchantNotConfigured
from config.settings import ConfigError, load_settings
from lib.db import make_engine
from models import Order, Page, PageConfig
from tests.support import factories as f
from tests.support.http import settings_of

ROOT = Path(__file__).resolve().parents[4]


def test_an_api_key_is_sealed_and_opened_with_the_configured_key() -> None:
    settings = load_settings(
        {"app_env": "test", "page_config_encryption_key": Fernet.generate_key().decode()}
    )

    sealed = seal_api_key(settings, "sup_sk_secret")

    assert b"sup_sk_secret" not in sealed
    assert open_api_key(settings, sealed) == "sup_sk_secret"


def test_development_derives_a_fixed_key_from_the_secret() -> None:
    one = load_settings({"app_env": "development"})
    two = load_settings({"app_env": "development"})
    other = load_settings({"app_env": "development", "secret_key": "another-secret-" * 3})

    sealed = seal_api_key(one, "sup_sk_secret")

    assert open_api_key(two, sealed) == "sup_sk_secret"
    with pytest.raises(InvalidToken):
        open_api_key(other, sealed)


def test_production_needs_its_own_encryption_key() -> None:
    settings = load_settings({"app_env": "test"})
    settings.app_env = "production"

    with pytest.raises(RuntimeError, match="PAGE_CONFIG_ENCRYPTION_KEY"):
        page_config_cipher(settings)


async def test_a_page_without_its_own_merchant_is_paid_to_the_site(
    app: Quart, db: AsyncSession
) -> None:
    page = await f.page(db, "bakery")

    account = await merchant_for_page(db, settings=settings_of(app), page_id=page.id)

    assert account.merchant_code == "MTEST001"
    assert account.credentials.api_key == "sup_sk_test"
    assert account.checkout_prefix == "rose-"


async def test_a_page_with_its_own_merchant_key_and_prefix(app: Quart, db: AsyncSession) -> None:
    page = await f.page(db, "bakery")
    await set_page_merchant(
        db,
        settings=settings_of(app),
        page_id=page.id,
        merchant_code="MBAKERY1",
        api_key="sup_sk_bakery",
        checkout_prefix="bake-",
    )

    account = await merchant_for_page(db, settings=settings_of(app), page_id=page.id)

    assert (account.merchant_code, account.credentials.api_key, account.checkout_prefix) == (
        "MBAKERY1",
        "sup_sk_bakery",
        "bake-",
    )
    assert "sup_sk_bakery" not in repr(account)


async def test_each_missing_page_setting_falls_back_to_the_site(
    app: Quart, db: AsyncSession
) -> None:
    page = await f.page(db, "bakery")
    db.add(PageConfig(page_id=page.id, sumup_merchant_code="MBAKERY1"))
    await db.commit()

    account = await merchant_for_page(db, settings=settings_of(app), page_id=page.id)

    assert (account.merchant_code, account.credentials.api_key) == ("MBAKERY1", "sup_sk_test")


async def test_no_merchant_anywhere_is_a_clear_error(app: Quart, db: AsyncSession) -> None:
    settings = settings_of(app).model_copy(
        update={"sumup_api_key": None, "sumup_merchant_code": None}
    )
    page = await f.page(db, "bakery", "The Bakery")

    with pytest.raises(MerchantNotConfigured) as raised:
        await merchant_for_page(db, settings=settings, page_id=page.id, page_title=page.title)

    assert raised.value.status == 409
    assert "“The Bakery” cannot take card payments yet" in raised.value.message


async def test_a_key_sealed_with_a_rotated_key_is_not_used(app: Quart, db: AsyncSession) -> None:
    page = await f.page(db, "bakery")
    other = load_settings(
        {"app_env": "test", "page_config_encryption_key": Fernet.generate_key().decode()}
    )
    db.add(
        PageConfig(
            page_id=page.id,
            sumup_merchant_code="MBAKERY1",
            sumup_api_key_encrypted=seal_api_key(other, "sup_sk_bakery"),
        )
    )
    await db.commit()

    with pytest.raises(MerchantNotConfigured):
        await merchant_for_page(db, settings=settings_of(app), page_id=page.id)


async def test_a_cart_wide_order_finds_its_merchant_by_code(app: Quart, db: AsyncSession) -> None:
    garden = await f.page(db, "garden")
    await set_page_merchant(
        db,
        settings=settings_of(app),
        page_id=garden.id,
        merchant_code="MGARDEN1",
        api_key="sup_sk_garden",
        checkout_prefix=None,
    )
    order = Order(user_id=7, page_id=None, currency="GBP", total_amount=1, merchant_code="MGARDEN1")

    credentials = await credentials_for_order(db, settings=settings_of(app), order=order)

    assert credentials.api_key == "sup_sk_garden"
    order.merchant_code = "MUNKNOWN"
    with pytest.raises(MerchantNotConfigured):
        await credentials_for_order(db, settings=settings_of(app), order=order)


async def test_set_page_merchant_refuses_bad_input(app: Quart, db: AsyncSession) -> None:
    page = await f.page(db, "bakery")

    async def configure(code: str, key: str, prefix: str | None = None) -> None:
        await set_page_merchant(
            db,
            settings=settings_of(app),
            page_id=page.id,
            merchant_code=code,
            api_key=key,
            checkout_prefix=prefix,
        )

    with pytest.raises(ValueError, match="prefix"):
        await configure("M1", "k", "a1")
    with pytest.raises(ValueError, match="empty"):
        await configure("M1", "  ")
    with pytest.raises(ValueError, match="merchant code"):
        await configure("", "k")


def test_manage_set_page_merchant_seals_the_key_from_the_environment(
    app_config: dict[str, Any], clean_state: None
) -> None:
    asyncio.run(_one_page(app_config["database_url"]))
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": app_config["database_url"],
        "REDIS_URL": app_config["redis_url"],
        "BAKERY_SUMUP_KEY": "sup_sk_from_env",
    }
    command = [sys.executable, "manage.py", "set-page-merchant", "bakery"]
    args = ["--merchant-code", "MBAKERY1", "--api-key-env", "BAKERY_SUMUP_KEY", "--prefix", "bake-"]

    done = subprocess.run(
        [*command, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    missing = subprocess.run(
        [*command, "--merchant-code", "M", "--api-key-env", "NOT_SET_ANYWHERE"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert "sup_sk_from_env" not in done.stdout + done.stderr
    config = asyncio.run(_page_config(app_config["database_url"]))
    assert config is not None
    code, sealed, prefix = config
    assert (code, prefix) == ("MBAKERY1", "bake-")
    settings = load_settings({"app_env": "test"})
    assert open_api_key(settings, sealed) == "sup_sk_from_env"
    assert missing.returncode != 0 and "NOT_SET_ANYWHERE" in missing.stderr


async def _one_page(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    async with async_sessionmaker(engine)() as session:
        session.add(Page(slug="bakery", title="The Bakery"))
        await session.commit()
    await engine.dispose()


async def _page_config(database_url: str) -> tuple[str | None, bytes, str | None] | None:
    engine = make_engine(database_url, pool_size=1)
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(
                    PageConfig.sumup_merchant_code,
                    PageConfig.sumup_api_key_encrypted,
                    PageConfig.checkout_prefix,
                )
            )
        ).first()
    await engine.dispose()
    if row is None or row[1] is None:
        return None
    return (row[0], row[1], row[2])


def test_secret_str_is_how_the_encryption_key_is_configured() -> None:
    key = Fernet.generate_key().decode()
    settings = load_settings({"app_env": "test", "page_config_encryption_key": key})

    assert isinstance(settings.page_config_encryption_key, SecretStr)
    assert key not in repr(settings)


def test_a_new_key_in_front_seals_and_the_old_one_still_opens() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = load_settings({"app_env": "test", "page_config_encryption_key": old})
    during = load_settings({"app_env": "test", "page_config_encryption_key": f"{new}, {old}"})
    after = load_settings({"app_env": "test", "page_config_encryption_key": new})

    sealed_before = seal_api_key(before, "sup_sk_old")
    sealed_during = seal_api_key(during, "sup_sk_new")

    assert open_api_key(during, sealed_before) == "sup_sk_old"
    assert open_api_key(after, sealed_during) == "sup_sk_new"
    with pytest.raises(InvalidToken):
        open_api_key(after, sealed_before)


def test_a_malformed_second_key_is_named_at_start() -> None:
    good = Fernet.generate_key().decode()
    with pytest.raises(ConfigError, match=r"must be a Fernet key.*key 2 is not one"):
        load_settings({"app_env": "test", "page_config_encryption_key": f"{good},not-a-key"})


def test_manage_reseal_page_keys_seals_every_key_with_the_first(
    app_config: dict[str, Any], clean_state: None
) -> None:
    old, new, lost = (Fernet.generate_key().decode() for _ in range(3))
    asyncio.run(
        _pages_sealed(app_config["database_url"], {"bakery": old, "garden": old, "gone": lost})
    )
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": app_config["database_url"],
        "REDIS_URL": app_config["redis_url"],
        "PAGE_CONFIG_ENCRYPTION_KEY": f"{new},{old}",
    }

    done = subprocess.run(
        [sys.executable, "manage.py", "reseal-page-keys"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert "sealed 2 page API key(s) again" in done.stdout
    # The page sealed with a key no longer listed is named, and the command says it failed.
    assert done.returncode != 0 and "page(s) 3" in done.stderr
    only_new = load_settings({"app_env": "test", "page_config_encryption_key": new})
    sealed = asyncio.run(_sealed_keys(app_config["database_url"]))
    assert open_api_key(only_new, sealed["bakery"]) == "sup_sk_bakery"
    assert open_api_key(only_new, sealed["garden"]) == "sup_sk_garden"
    with pytest.raises(InvalidToken):
        open_api_key(only_new, sealed["gone"])


async def _pages_sealed(database_url: str, keys: dict[str, str]) -> None:
    engine = make_engine(database_url, pool_size=1)
    async with async_sessionmaker(engine)() as session:
        for slug, key in keys.items():
            page = Page(slug=slug, title=slug)
            session.add(page)
            await session.flush()
            session.add(
                PageConfig(
                    page_id=page.id,
                    sumup_merchant_code=f"M{slug.upper()}",
                    sumup_api_key_encrypted=Fernet(key.encode()).encrypt(f"sup_sk_{slug}".encode()),
                )
            )
        await session.commit()
    await engine.dispose()


async def _sealed_keys(database_url: str) -> dict[str, bytes]:
    engine = make_engine(database_url, pool_size=1)
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(Page.slug, PageConfig.sumup_api_key_encrypted).join(
                    PageConfig, PageConfig.page_id == Page.id
                )
            )
        ).all()
    await engine.dispose()
    return {slug: sealed for slug, sealed in rows if sealed is not None}
