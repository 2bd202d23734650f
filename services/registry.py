"""The domain services: `domains.calendar`, `.market`, `.blog`, `.cart` and `.account`, made for
one deployment.

Code reaches another domain only through a `DomainServices` it is given, so that a deployment
without that domain (or a test) gets its stub in one place. Each app, command or worker makes
its own (`Runtime.domains`); nothing here is shared or changed after it is made.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import Settings
from services.contracts.protocols import (
    AccountService,
    BlogService,
    CalendarService,
    CartService,
    MarketService,
)
from services.sql.account_impl import SqlAccountService
from services.sql.blog_impl import SqlBlogService
from services.sql.calendar_impl import SqlCalendarService
from services.sql.cart_impl import SqlCartService
from services.sql.market_impl import SqlMarketService
from services.stubs import (
    StubAccountService,
    StubBlogService,
    StubCalendarService,
    StubCartService,
    StubMarketService,
)


@dataclass(frozen=True, slots=True)
class DomainServices:
    """One implementation per domain."""

    blog: BlogService
    market: MarketService
    calendar: CalendarService
    cart: CartService
    # Read through the account engine's sessions only (Databases.account_sessionmaker).
    account: AccountService


def register_domain_services(settings: Settings) -> DomainServices:
    """Each domain's SQL implementation, or its stub where the deployment lacks it."""
    enabled = set(settings.domains)
    market: MarketService = SqlMarketService() if "market" in enabled else StubMarketService()
    calendar: CalendarService = (
        SqlCalendarService() if "calendar" in enabled else StubCalendarService()
    )
    return DomainServices(
        blog=SqlBlogService() if "blog" in enabled else StubBlogService(),
        market=market,
        calendar=calendar,
        cart=(
            SqlCartService(market=market, calendar=calendar, currency=settings.currency)
            if "cart" in enabled
            else StubCartService(currency=settings.currency)
        ),
        account=SqlAccountService() if "account" in enabled else StubAccountService(),
    )
