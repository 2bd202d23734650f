"""The registry of domain services: `services.calendar`, `.market`, `.blog`, `.cart`.

Code reaches another domain only through `from services.registry import services`, so that a
deployment without that domain (or a test) swaps in its stub in one place.
"""

from __future__ import annotations

from config.settings import Settings
from services.contracts.protocols import BlogService, CalendarService, CartService, MarketService
from services.sql.blog_impl import SqlBlogService
from services.sql.calendar_impl import SqlCalendarService
from services.sql.cart_impl import SqlCartService
from services.sql.market_impl import SqlMarketService
from services.stubs import StubBlogService, StubCalendarService, StubCartService, StubMarketService


class DomainServices:
    """One implementation per domain; SQL ones until `register_domain_services` decides."""

    def __init__(self) -> None:
        self.blog: BlogService = SqlBlogService()
        self.market: MarketService = SqlMarketService()
        self.calendar: CalendarService = SqlCalendarService()
        self.cart: CartService = SqlCartService(market=self.market, calendar=self.calendar)


services = DomainServices()


def register_domain_services(settings: Settings) -> None:
    """Wire each domain's SQL implementation, or its stub where the deployment lacks it."""
    enabled = set(settings.domains)
    services.blog = SqlBlogService() if "blog" in enabled else StubBlogService()
    services.market = SqlMarketService() if "market" in enabled else StubMarketService()
    services.calendar = SqlCalendarService() if "calendar" in enabled else StubCalendarService()
    currency = settings.currency
    services.cart = (
        SqlCartService(market=services.market, calendar=services.calendar, currency=currency)
        if "cart" in enabled
        else StubCartService(currency=currency)
    )
