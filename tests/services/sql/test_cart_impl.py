"""The cart summary: one statement over the shared tables, or composed through stubbed domains."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from models import Product, utcnow
from services.contracts.cart_summary import CartSummary
from services.contracts.dtos import CartIdentity, ProductDTO
from services.sql.calendar_impl import SqlCalendarService
from services.sql.cart_impl import SUMMARY, SqlCartService
from services.sql.market_impl import SqlMarketService
from services.stubs import StubCalendarService, StubCartService, StubMarketService
from tests.support import factories as f

USER = CartIdentity(user_id=3)
ANON = CartIdentity(session_id="anon-3")


class WrappedMarket:
    """Delegates to the SQL market without being it, as another deployment's client would."""

    def __init__(self) -> None:
        self.inner = SqlMarketService()

    async def product(self, session: AsyncSession, product_id: int) -> ProductDTO | None:
        return await self.inner.product(session, product_id)

    async def products_by_ids(
        self, session: AsyncSession, ids: Sequence[int], *, include_deleted: bool = False
    ) -> dict[int, ProductDTO]:
        return await self.inner.products_by_ids(session, ids, include_deleted=include_deleted)

    async def products_for_page(self, session: AsyncSession, page_id: int) -> list[ProductDTO]:
        return await self.inner.products_for_page(session, page_id)


async def arrange(db: AsyncSession) -> None:
    page = await f.page(db)
    loaf = await f.product(db, page, "Loaf", "4.50")
    gone = await f.product(db, page, "Gone", "100.00")
    await f.cart_item(db, loaf, user_id=3, quantity=2)
    await f.cart_item(db, gone, user_id=3, quantity=1)
    await f.cart_item(db, loaf, session_id="anon-3", quantity=5)
    await db.execute(update(Product).where(Product.id == gone.id).values(deleted_at=utcnow()))
    await db.commit()
    cal = await f.calendar(db, page)
    await f.booking(db, cal, user_id=3, cost="12.00")
    await f.booking(db, cal, session_id="anon-3", cost="7.00")
    await f.booking(db, cal, user_id=3, cost="99.00", state="ordered")
    event = await f.event(db, cal)
    await f.ticket(db, await f.ticket_type(db, event, cost="8.00"), user_id=3)
    await f.ticket(db, await f.ticket_type(db, event, cost="8.00"), user_id=3, state="reserved")


async def test_summary_in_one_statement(db: AsyncSession) -> None:
    await arrange(db)
    cart = SqlCartService(currency="EUR")

    user = await cart.cart_summary(db, identity=USER)
    anon = await cart.cart_summary(db, identity=ANON)
    nobody = await cart.cart_summary(db, identity=CartIdentity(user_id=99))

    assert user == CartSummary(
        count=2,
        total=Decimal("9.00"),
        calendar_count=1,
        calendar_total=Decimal("12.00"),
        ticket_count=1,
        ticket_total=Decimal("8.00"),
        currency="EUR",
    )
    assert user.grand_total == Decimal("29.00") and user.badge_count == 4
    assert (anon.count, anon.total, anon.calendar_count, anon.ticket_count) == (
        5,
        Decimal("22.50"),
        1,
        0,
    )
    assert nobody == CartSummary(currency="EUR")


async def test_composed_summary_agrees_with_the_single_statement(db: AsyncSession) -> None:
    await arrange(db)
    # A market that is not the built-in SQL one forces the composed path.
    composed = SqlCartService(market=WrappedMarket(), calendar=SqlCalendarService())
    single = SqlCartService()

    for identity in (USER, ANON):
        assert await composed.cart_summary(db, identity=identity) == await single.cart_summary(
            db, identity=identity
        )


async def test_stubbed_domains_contribute_nothing(db: AsyncSession) -> None:
    await arrange(db)

    no_calendar = SqlCartService(calendar=StubCalendarService())
    no_market = SqlCartService(market=StubMarketService())

    summary = await no_calendar.cart_summary(db, identity=USER)
    assert (summary.count, summary.calendar_count, summary.ticket_count) == (2, 0, 0)
    summary = await no_market.cart_summary(db, identity=USER)
    assert (summary.count, summary.calendar_count, summary.ticket_count) == (0, 1, 1)
    assert await StubCartService(currency="GBP").cart_summary(db, identity=USER) == CartSummary()


def test_the_summary_statement_names_each_column_for_its_field() -> None:
    for statement in SUMMARY.values():
        labels = set(statement.statement.selected_columns.keys())  # type: ignore[attr-defined]
        assert labels | {"currency"} == set(CartSummary.model_fields)
