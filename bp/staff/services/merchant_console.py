"""Page merchants for the staff: each page's SumUp merchant, a connection test that asks
SumUp before anything is saved, and the change itself (through the same function as
`manage.py set-page-merchant`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.merchants import set_page_merchant
from bp.cart.services.payment_errors import PaymentProviderUnavailable
from bp.staff.services.audit import Act, audited
from config.settings import Settings
from lib.error_codes import ErrorCode
from lib.errors import BadRequest, NotFound, ServiceError
from models import PageConfig
from services.contracts.dtos import PageDTO
from services.registry import DomainServices
from services.sumup import PaymentGateway, SumUpCredentials, SumUpError

# A transaction code no merchant has: SumUp answers 404 for it when the key may read the
# merchant's transactions, and 401 or 403 when it may not.
PROBE_TRANSACTION_CODE = "ROSEASHCONNECTIONTEST"


@dataclass(frozen=True, slots=True)
class PageMerchant:
    page: PageDTO
    merchant_code: str | None
    has_api_key: bool
    checkout_prefix: str | None


@dataclass(frozen=True, slots=True)
class MerchantForm:
    merchant_code: str
    api_key: str = ""
    checkout_prefix: str | None = None


async def page_merchants(session: AsyncSession, *, domains: DomainServices) -> list[PageMerchant]:
    """Every page, with the merchant it is paid to (None: the site's)."""
    pages = await domains.blog.list_pages(session)
    configs = {
        config.page_id: config
        for config in await session.scalars(
            select(PageConfig).where(PageConfig.page_id.in_([page.id for page in pages]))
        )
    }
    await session.commit()
    merchants = []
    for page in pages:
        config = configs.get(page.id)
        merchants.append(
            PageMerchant(
                page=page,
                merchant_code=config.sumup_merchant_code if config else None,
                has_api_key=bool(config and config.sumup_api_key_encrypted),
                checkout_prefix=config.checkout_prefix if config else None,
            )
        )
    return merchants


async def page_merchant_or_raise(
    session: AsyncSession, *, page_slug: str, domains: DomainServices
) -> PageMerchant:
    page = await domains.blog.page_by_slug(session, page_slug)
    if page is None:
        raise NotFound(ErrorCode.UNKNOWN_PAGE, slug=page_slug)
    config = await session.scalar(select(PageConfig).where(PageConfig.page_id == page.id))
    await session.commit()
    return PageMerchant(
        page=page,
        merchant_code=config.sumup_merchant_code if config else None,
        has_api_key=bool(config and config.sumup_api_key_encrypted),
        checkout_prefix=config.checkout_prefix if config else None,
    )


def parse_merchant_form(
    *, merchant_code: str, api_key: str, checkout_prefix: str = ""
) -> MerchantForm:
    merchant_code = merchant_code.strip()
    api_key = api_key.strip()
    if not merchant_code:
        raise BadRequest(ErrorCode.MERCHANT_CODE_REQUIRED)
    if not api_key:
        raise BadRequest(ErrorCode.API_KEY_REQUIRED)
    return MerchantForm(merchant_code, api_key, checkout_prefix.strip() or None)


async def check_connection(gateway: PaymentGateway, form: MerchantForm) -> str:
    """Ask SumUp whether the key may act for the merchant; answers what SumUp said, or
    raises a 422 naming the refusal (503 when SumUp could not be asked)."""
    credentials = SumUpCredentials(api_key=form.api_key, merchant_code=form.merchant_code)
    try:
        await gateway.get_transaction(
            credentials=credentials, transaction_code=PROBE_TRANSACTION_CODE
        )
    except SumUpError as error:
        if error.is_not_found:
            return f"SumUp accepted the key for merchant {form.merchant_code}."
        if error.is_retryable:
            raise PaymentProviderUnavailable(ErrorCode.MERCHANT_CONNECTION_UNTESTED) from error
        raise ServiceError(
            422,
            ErrorCode.MERCHANT_CONNECTION_FAILED,
            merchant_code=form.merchant_code,
            reason=f"{error.status}: {error.message or error.code}",
        ) from error
    return f"SumUp accepted the key for merchant {form.merchant_code}."


async def staff_test_connection(
    session: AsyncSession,
    *,
    staff_user_id: int,
    page_slug: str,
    form: MerchantForm,
    gateway: PaymentGateway,
) -> str:
    """Test the key and merchant code with SumUp; nothing is saved."""
    act = Act(
        staff_user_id, "test_merchant", f"page {page_slug}", detail=f"merchant {form.merchant_code}"
    )

    async def run() -> str:
        return await check_connection(gateway, form)

    return await audited(session, act, run, describe=lambda said: said)


async def staff_set_page_merchant(
    session: AsyncSession,
    *,
    staff_user_id: int,
    page_slug: str,
    form: MerchantForm,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
) -> PageConfig:
    """Test the connection, then pay the page to this merchant (the key sealed at rest)."""
    act = Act(
        staff_user_id, "set_merchant", f"page {page_slug}", detail=f"merchant {form.merchant_code}"
    )

    async def run() -> PageConfig:
        page = await domains.blog.page_by_slug(session, page_slug)
        if page is None:
            raise NotFound(ErrorCode.UNKNOWN_PAGE, slug=page_slug)
        await session.commit()
        await check_connection(gateway, form)
        try:
            return await set_page_merchant(
                session,
                settings=settings,
                page_id=page.id,
                merchant_code=form.merchant_code,
                api_key=form.api_key,
                checkout_prefix=form.checkout_prefix,
            )
        except ValueError as error:
            message = str(error)
            raise BadRequest(
                ErrorCode.INVALID_MERCHANT, detail=message[:1].upper() + message[1:]
            ) from None

    return await audited(
        session,
        act,
        run,
        describe=lambda _: f"page paid to merchant {form.merchant_code} from now on",
    )
