"""Which SumUp merchant a page is paid to, and the sealing of page API keys at rest."""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import BigInteger, String, Table, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.payment_errors import MerchantNotConfigured
from bp.cart.services.references import valid_prefix
from config.settings import Settings
from lib.db import Query, execute_alone
from models import PageConfig
from services.sumup import SumUpCredentials

# Mixed into the development key so it never equals anything else derived from the secret.
DEVELOPMENT_KEY_CONTEXT = b"rose-ash-cart/page-config-encryption/v1:"
MAX_MERCHANT_CODE_LENGTH = 64

log = logging.getLogger(__name__)


class MerchantOrder(Protocol):
    """What finding an order's merchant reads of it (an Order, or an order read as a row)."""

    @property
    def id(self) -> int: ...

    @property
    def page_id(self) -> int | None: ...

    @property
    def merchant_code(self) -> str | None: ...


@dataclass(frozen=True)
class MerchantAccount:
    """Who an order is paid to: the credentials to call SumUp with and the reference prefix."""

    credentials: SumUpCredentials
    checkout_prefix: str

    @property
    def merchant_code(self) -> str:
        return self.credentials.merchant_code


def page_config_cipher(settings: Settings) -> MultiFernet:
    """The keys sealing page API keys: PAGE_CONFIG_ENCRYPTION_KEY's (the first seals, each one
    opens, so that a key can be rotated), or in development and tests a fixed key derived from
    the secret key (production refuses to start without one)."""
    keys = settings.page_config_encryption_keys
    if keys:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    if settings.is_production or settings.secret_key is None:
        raise RuntimeError("PAGE_CONFIG_ENCRYPTION_KEY is required in production")
    digest = hashlib.sha256(
        DEVELOPMENT_KEY_CONTEXT + settings.secret_key.get_secret_value().encode()
    ).digest()
    return MultiFernet([Fernet(base64.urlsafe_b64encode(digest))])


def seal_api_key(settings: Settings, api_key: str) -> bytes:
    """Encrypt an API key for page_configs.sumup_api_key_encrypted."""
    return page_config_cipher(settings).encrypt(api_key.encode())


def open_api_key(settings: Settings, sealed: bytes) -> str:
    """Decrypt a sealed API key; InvalidToken when it was sealed with another key."""
    return page_config_cipher(settings).decrypt(sealed).decode()


async def page_config(session: AsyncSession, page_id: int) -> PageConfig | None:
    """The page's own payment settings, if it has any."""
    return await session.scalar(select(PageConfig).where(PageConfig.page_id == page_id))


@dataclass(frozen=True, slots=True)
class _ConfigRow:
    page_id: int
    sumup_merchant_code: str | None
    sumup_api_key_encrypted: bytes | None
    checkout_prefix: str | None


_CONFIGS = cast(Table, PageConfig.__table__)
# A page's own settings, as `_ConfigRow` reads them.
_SETTINGS = (
    _CONFIGS.c.page_id,
    _CONFIGS.c.sumup_merchant_code,
    _CONFIGS.c.sumup_api_key_encrypted,
    _CONFIGS.c.checkout_prefix,
)
# The settings of the order's page and of every page paid to its merchant, those with their
# own key first: all that finding the order's credentials reads, in one statement built once.
CONFIGS_FOR_ORDER = Query(
    select(*_SETTINGS)
    .where(
        or_(
            _CONFIGS.c.page_id == bindparam("page_id", type_=BigInteger),
            _CONFIGS.c.sumup_merchant_code == bindparam("code", type_=String),
        )
    )
    .order_by(_CONFIGS.c.sumup_api_key_encrypted.is_(None), _CONFIGS.c.page_id)
)


# One page's own settings.
PAGE_SETTINGS = Query(
    select(*_SETTINGS).where(_CONFIGS.c.page_id == bindparam("page_id", type_=BigInteger))
)


class MerchantSettings(Protocol):
    """A page's own payment settings (a PageConfig, or its row)."""

    @property
    def sumup_merchant_code(self) -> str | None: ...

    @property
    def sumup_api_key_encrypted(self) -> bytes | None: ...

    @property
    def checkout_prefix(self) -> str | None: ...


async def merchant_for_page(
    session: AsyncSession,
    *,
    settings: Settings,
    page_id: int | None,
    page_title: str | None = None,
) -> MerchantAccount:
    """The page's merchant, each setting falling back to the site's; raise when none is set.

    Its settings are read as a row (every checkout reads them, in its transaction): on the
    driver, not as a PageConfig through the session."""
    config = None
    if page_id is not None:
        found = (await execute_alone(session, PAGE_SETTINGS, {"page_id": page_id})).first()
        config = _ConfigRow(*found) if found is not None else None
    return merchant_of(settings=settings, page_id=page_id, config=config, page_title=page_title)


def merchant_of(
    *,
    settings: Settings,
    page_id: int | None,
    config: MerchantSettings | None,
    page_title: str | None = None,
) -> MerchantAccount:
    """The merchant of a page with these settings (None: none of its own), each setting
    falling back to the site's; raise when none is set."""
    merchant_code = (config.sumup_merchant_code if config else None) or settings.sumup_merchant_code
    api_key: str | None = None
    if config is not None and config.sumup_api_key_encrypted:
        try:
            api_key = open_api_key(settings, config.sumup_api_key_encrypted)
        except InvalidToken:
            # Sealed with a key PAGE_CONFIG_ENCRYPTION_KEY no longer lists.
            log.error(
                "page %s: its SumUp API key cannot be opened with any key of "
                "PAGE_CONFIG_ENCRYPTION_KEY",
                page_id,
            )
            raise MerchantNotConfigured(page_title) from None
    if api_key is None and settings.sumup_api_key is not None:
        api_key = settings.sumup_api_key.get_secret_value()
    if not merchant_code or not api_key:
        log.warning("page %s has no SumUp merchant and the site has none either", page_id)
        raise MerchantNotConfigured(page_title)
    prefix = (
        config.checkout_prefix
        if config is not None and config.checkout_prefix is not None
        else settings.sumup_checkout_prefix
    )
    return MerchantAccount(
        credentials=SumUpCredentials(api_key=api_key, merchant_code=merchant_code),
        checkout_prefix=prefix,
    )


async def merchant_for_pages(
    session: AsyncSession, *, settings: Settings, page_ids: Sequence[int | None]
) -> dict[int | None, MerchantAccount]:
    """Each page's merchant (None stands for the site), raising for a page without one."""
    return {
        page_id: await merchant_for_page(session, settings=settings, page_id=page_id)
        for page_id in dict.fromkeys(page_ids)
    }


async def credentials_for_order(
    session: AsyncSession, *, settings: Settings, order: MerchantOrder
) -> SumUpCredentials:
    """The credentials that can read the order's checkouts: those of the merchant it is paid to."""
    code = order.merchant_code
    if not code:
        raise MerchantNotConfigured()
    # Read-only: alone in autocommit when the caller has no transaction open.
    rows = await execute_alone(session, CONFIGS_FOR_ORDER, {"page_id": order.page_id, "code": code})
    configs = {row[0]: _ConfigRow(*row) for row in rows}
    candidates: list[int | None] = [order.page_id] if order.page_id is not None else []
    # A cart-wide order, or a page whose merchant changed since: find the merchant by its code.
    candidates += [
        page_id for page_id, config in configs.items() if config.sumup_merchant_code == code
    ]
    candidates.append(None)
    for page_id in dict.fromkeys(candidates):
        try:
            account = merchant_of(
                settings=settings,
                page_id=page_id,
                config=configs.get(page_id) if page_id is not None else None,
            )
        except MerchantNotConfigured:
            continue
        if account.merchant_code == code:
            return account.credentials
    log.error("order %s: no API key for its merchant %s", order.id, code)
    raise MerchantNotConfigured()


async def reseal_api_keys(session: AsyncSession, *, settings: Settings) -> tuple[int, list[int]]:
    """Seal every stored page API key again with the first key; commits.

    Answers how many were sealed again and the pages whose key none of the keys opens (left
    as they are). Each row is locked while it changes, so a concurrent `set_page_merchant`
    is never overwritten with the old key.
    """
    cipher = page_config_cipher(settings)
    resealed, unreadable = 0, []
    configs = await session.scalars(
        select(PageConfig)
        .where(PageConfig.sumup_api_key_encrypted.is_not(None))
        .order_by(PageConfig.page_id)
        .with_for_update()
    )
    for config in configs:
        assert config.sumup_api_key_encrypted is not None
        try:
            config.sumup_api_key_encrypted = cipher.rotate(config.sumup_api_key_encrypted)
        except InvalidToken:
            unreadable.append(config.page_id)
            continue
        resealed += 1
    await session.commit()
    return resealed, unreadable


async def set_page_merchant(
    session: AsyncSession,
    *,
    settings: Settings,
    page_id: int,
    merchant_code: str,
    api_key: str,
    checkout_prefix: str | None,
) -> PageConfig:
    """Create or update the page's SumUp merchant, sealing its API key; commits."""
    merchant_code = merchant_code.strip()
    if not merchant_code or len(merchant_code) > MAX_MERCHANT_CODE_LENGTH:
        raise ValueError("the merchant code must be 1 to 64 characters")
    if not api_key.strip():
        raise ValueError("the API key is empty")
    if checkout_prefix is not None and not valid_prefix(checkout_prefix):
        raise ValueError(
            "the checkout prefix must be at most 20 letters, digits, '-', '_' or '.', "
            "and must not end in a digit"
        )
    config = await page_config(session, page_id)
    if config is None:
        config = PageConfig(page_id=page_id)
        session.add(config)
    config.sumup_merchant_code = merchant_code
    config.sumup_api_key_encrypted = seal_api_key(settings, api_key.strip())
    config.checkout_prefix = checkout_prefix
    await session.commit()
    return config
