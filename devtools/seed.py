"""Demo data for the development run: pages, products, bookable slots, an event with tickets,
and the demo users' accounts (their addresses receive the order mail, caught at /dev/mail)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bp.dev.sign_in_routes import DEMO_STAFF, DEMO_USERS
from lib.db import make_engine
from models import Calendar, CalendarEntry, CalendarSlot, Page, Product, TicketType, User

PRODUCTS = {
    "bakery": [
        ("sourdough-loaf", "Sourdough loaf", "4.50", "Slow-fermented, baked this morning."),
        ("rye-bread", "Seeded rye", "3.80", "Dense, dark and full of seeds."),
        ("cinnamon-buns", "Cinnamon buns (4)", "6.00", "A box of four, still warm."),
    ],
    "garden": [
        ("seed-potatoes", "Seed potatoes, 2 kg", "5.25", "Charlotte, certified disease-free."),
        ("compost-bag", "Peat-free compost, 40 l", "7.99", "Made on site from coop green waste."),
    ],
    "hall": [
        ("tote-bag", "Rose Ash tote bag", "9.00", "Organic cotton, printed locally."),
    ],
}


async def seed_demo_data(database_url: str) -> bool:
    """Load the demo data once; return False when it was already there."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            # Every run: a data folder made before the users had addresses gets them too.
            await _seed_users(session)
            await session.commit()
            if await session.scalar(select(Page.id).where(Page.slug == "bakery")):
                return False
            await _seed(session)
            await session.commit()
            return True
    finally:
        await engine.dispose()


async def _seed_users(session: AsyncSession) -> None:
    """The development sign-in's users, as the account app would hold them (one of them staff)."""
    statement = insert(User).values(
        [
            {
                "id": user_id,
                "name": name,
                "email": f"{name.split()[0].lower()}@example.coop",
                "is_staff": user_id in DEMO_STAFF,
            }
            for user_id, name in DEMO_USERS.items()
        ]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[User.id], set_={"is_staff": statement.excluded.is_staff}
        )
    )


async def _seed(session: AsyncSession) -> None:
    pages = {
        "bakery": Page(
            slug="bakery", title="The Bakery", summary="Bread and buns from the coop ovens."
        ),
        "garden": Page(
            slug="garden", title="Garden Club", summary="Seeds, compost and allotment sessions."
        ),
        "hall": Page(slug="hall", title="Community Hall", summary="Events and gatherings."),
    }
    session.add_all(pages.values())
    await session.flush()
    for page_slug, products in PRODUCTS.items():
        for slug, title, price, description in products:
            session.add(
                Product(
                    page_id=pages[page_slug].id,
                    slug=slug,
                    title=title,
                    price=Decimal(price),
                    description=description,
                )
            )
    tomorrow = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(
        days=1
    )
    garden_calendar = Calendar(
        container_type="page", container_id=pages["garden"].id, name="Allotment sessions"
    )
    hall_calendar = Calendar(
        container_type="page", container_id=pages["hall"].id, name="Hall events"
    )
    session.add_all([garden_calendar, hall_calendar])
    await session.flush()
    for day in range(3):
        start = tomorrow + timedelta(days=day)
        session.add(
            CalendarSlot(
                calendar_id=garden_calendar.id,
                name="Allotment taster session",
                start_at=start,
                end_at=start + timedelta(hours=2),
                cost=Decimal("12.00"),
                # A small group: the last places can be seen going.
                capacity=6,
            )
        )
    concert_start = tomorrow + timedelta(days=7, hours=9)
    concert = CalendarEntry(
        calendar_id=hall_calendar.id,
        name="Winter folk night",
        start_at=concert_start,
        end_at=concert_start + timedelta(hours=3),
        state="confirmed",
        cost=Decimal("0.00"),
        ticket_price=Decimal("12.00"),
    )
    session.add(concert)
    await session.flush()
    session.add_all(
        [
            TicketType(entry_id=concert.id, name="Standard", cost=Decimal("12.00"), capacity=80),
            TicketType(entry_id=concert.id, name="Concession", cost=Decimal("8.00"), capacity=20),
        ]
    )
