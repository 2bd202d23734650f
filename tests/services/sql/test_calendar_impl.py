"""The events domain as the cart sees it: pending bookings and tickets, claims, settlement."""

from __future__ import annotations

import asyncio
import secrets
from decimal import Decimal

from quart import Quart
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from models import CalendarEntry, Ticket
from services.contracts.dtos import CartIdentity
from services.sql.calendar_impl import SqlCalendarService
from tests.support import factories as f

calendar = SqlCalendarService()
ALICE = CartIdentity(user_id=1)
BEN = CartIdentity(user_id=2)
ANON = CartIdentity(session_id="anon-session-1")


async def states(db: AsyncSession, model: type[CalendarEntry] | type[Ticket]) -> dict[int, str]:
    rows = await db.execute(select(model.id, model.state))
    return {row_id: state for row_id, state in rows}


async def session_ticket(db: AsyncSession, ticket_type_id: int, entry_id: int, sid: str) -> Ticket:
    ticket = Ticket(
        entry_id=entry_id,
        ticket_type_id=ticket_type_id,
        session_id=sid,
        state="pending",
        code=secrets.token_hex(8),
    )
    db.add(ticket)
    await db.commit()
    return ticket


async def test_pending_entries_are_those_of_the_identity_with_their_page(db: AsyncSession) -> None:
    page = await f.page(db)
    cal = await f.calendar(db, page)
    mine = await f.booking(db, cal, user_id=1, cost="12.50")
    await f.booking(db, cal, user_id=2)
    await f.booking(db, cal, user_id=1, state="confirmed")
    anon = await f.booking(db, cal, session_id=ANON.session_id)

    entries = await calendar.pending_entries(db, identity=ALICE)
    anonymous = await calendar.pending_entries(db, identity=ANON)

    assert [e.id for e in entries] == [mine.id]
    assert entries[0].cost == Decimal("12.50")
    assert (entries[0].calendar_container_type, entries[0].calendar_container_id) == (
        "page",
        page.id,
    )
    assert [e.id for e in anonymous] == [anon.id]


async def test_pending_tickets_cost_falls_back_to_the_event_price(db: AsyncSession) -> None:
    page = await f.page(db)
    event = await f.event(db, await f.calendar(db, page))
    priced = await f.ticket_type(db, event, "Standard", cost="12.00")
    unpriced = await f.ticket_type(db, event, "Friends", cost=None)
    a = await f.ticket(db, priced, user_id=1)
    b = await f.ticket(db, unpriced, user_id=1)
    await f.ticket(db, priced, user_id=1, state="confirmed")
    await f.ticket(db, priced, user_id=2)

    tickets = await calendar.pending_tickets(db, user_id=1)

    assert {t.id: t.cost for t in tickets} == {a.id: Decimal("12.00"), b.id: Decimal("10.00")}
    assert {t.entry_id for t in tickets} == {event.id}
    assert all(t.calendar_container_id == page.id for t in tickets)
    assert {t.ticket_type_name for t in tickets} == {"Standard", "Friends"}


async def test_claims_take_exactly_the_given_rows_of_the_owner(db: AsyncSession) -> None:
    page = await f.page(db)
    cal = await f.calendar(db, page)
    e1 = await f.booking(db, cal, user_id=1)
    e2 = await f.booking(db, cal, user_id=1)
    other = await f.booking(db, cal, user_id=2)
    tt = await f.ticket_type(db, await f.event(db, cal))
    t1 = await f.ticket(db, tt, user_id=1)
    t2 = await f.ticket(db, tt, user_id=1)
    foreign = await f.ticket(db, tt, user_id=2)

    claimed = await calendar.claim_entries_for_order(
        db, order_id=7, identity=ALICE, entry_ids=[e1.id, other.id]
    )
    claimed_tickets = await calendar.claim_tickets_for_order(
        db, order_id=7, user_id=1, ticket_ids=[t1.id, foreign.id]
    )
    await db.commit()

    assert (claimed, claimed_tickets) == (1, 1)
    entry_states = await states(db, CalendarEntry)
    assert entry_states[e1.id] == "ordered" and entry_states[e2.id] == "pending"
    assert entry_states[other.id] == "pending"
    ticket_states = await states(db, Ticket)
    assert ticket_states[t1.id] == "reserved" and ticket_states[t2.id] == "pending"
    assert ticket_states[foreign.id] == "pending"
    assert [e.id for e in await calendar.entries_for_order(db, order_id=7)] == [e1.id]
    assert [t.id for t in await calendar.tickets_for_order(db, order_id=7)] == [t1.id]
    # A second claim of the same rows changes nothing.
    again = await calendar.claim_entries_for_order(
        db, order_id=8, identity=ALICE, entry_ids=[e1.id]
    )
    assert again == 0


async def test_confirm_and_release(db: AsyncSession) -> None:
    page = await f.page(db)
    cal = await f.calendar(db, page)
    e1 = await f.booking(db, cal, user_id=1)
    tt = await f.ticket_type(db, await f.event(db, cal))
    t1 = await f.ticket(db, tt, user_id=1)
    await calendar.claim_entries_for_order(db, order_id=3, identity=ALICE, entry_ids=[e1.id])
    await calendar.claim_tickets_for_order(db, order_id=3, user_id=1, ticket_ids=[t1.id])
    assert await calendar.release_claims_for_order(db, order_id=3) == 2
    await db.commit()
    assert (await states(db, CalendarEntry))[e1.id] == "pending"
    assert (await states(db, Ticket))[t1.id] == "pending"
    assert await calendar.tickets_for_order(db, order_id=3) == []

    await calendar.claim_entries_for_order(db, order_id=4, identity=ALICE, entry_ids=[e1.id])
    await calendar.claim_tickets_for_order(db, order_id=4, user_id=1, ticket_ids=[t1.id])
    bookings = await calendar.confirm_entries_for_order(db, order_id=4)
    assert (bookings.confirmed, bookings.overbooked) == (1, [])
    assert bookings.booked == {e1.id}
    confirmation = await calendar.confirm_tickets_for_order(db, order_id=4)
    await db.commit()
    assert (confirmation.confirmed, confirmation.oversold) == (1, [])
    assert (await states(db, CalendarEntry))[e1.id] == "confirmed"
    assert (await states(db, Ticket))[t1.id] == "confirmed"
    # Settling twice confirms nothing more; releasing a paid order releases nothing.
    assert (await calendar.confirm_tickets_for_order(db, order_id=4)).confirmed == 0
    assert await calendar.release_claims_for_order(db, order_id=4) == 0


async def test_confirm_tickets_stops_at_capacity_and_reports_the_rest(db: AsyncSession) -> None:
    page = await f.page(db)
    event = await f.event(db, await f.calendar(db, page))
    small = await f.ticket_type(db, event, "Front row", capacity=3)
    unlimited = await f.ticket_type(db, event, "Standing", capacity=None)
    await f.ticket(db, small, user_id=2, state="confirmed", order_id=99)
    await f.ticket(db, small, user_id=2, state="checked_in", order_id=99)
    # Reserved by another unpaid order and pending in a cart: not sold.
    await f.ticket(db, small, user_id=3, state="reserved", order_id=98)
    await f.ticket(db, small, user_id=3, state="pending")
    mine = [await f.ticket(db, small, user_id=1) for _ in range(3)]
    standing = await f.ticket(db, unlimited, user_id=1)
    await calendar.claim_tickets_for_order(
        db, order_id=5, user_id=1, ticket_ids=[t.id for t in [*mine, standing]]
    )

    confirmation = await calendar.confirm_tickets_for_order(db, order_id=5)
    await db.commit()

    assert confirmation.confirmed == 2
    assert [t.id for t in confirmation.oversold] == [mine[1].id, mine[2].id]
    assert all(t.state == "reserved" for t in confirmation.oversold)
    ticket_states = await states(db, Ticket)
    assert ticket_states[mine[0].id] == "confirmed"
    assert ticket_states[standing.id] == "confirmed"
    assert ticket_states[mine[1].id] == ticket_states[mine[2].id] == "reserved"


async def test_two_settlements_racing_for_the_last_seat_sell_it_once(
    app: Quart, db: AsyncSession
) -> None:
    page = await f.page(db)
    event = await f.event(db, await f.calendar(db, page))
    last_seat = await f.ticket_type(db, event, capacity=1)
    a = await f.ticket(db, last_seat, user_id=1)
    b = await f.ticket(db, last_seat, user_id=2)
    await calendar.claim_tickets_for_order(db, order_id=11, user_id=1, ticket_ids=[a.id])
    await calendar.claim_tickets_for_order(db, order_id=12, user_id=2, ticket_ids=[b.id])
    await db.commit()

    async def settle(order_id: int) -> int:
        async with runtime(app).databases.sessionmaker() as session:
            result = await calendar.confirm_tickets_for_order(session, order_id=order_id)
            await asyncio.sleep(0.05)  # hold the lock while the other settlement waits
            await session.commit()
            return result.confirmed

    results = await asyncio.gather(settle(11), settle(12))

    assert sorted(results) == [0, 1]
    assert sorted((await states(db, Ticket)).values()) == ["confirmed", "reserved"]


async def test_remove_only_pending_rows_of_the_identity(db: AsyncSession) -> None:
    page = await f.page(db)
    cal = await f.calendar(db, page)
    mine = await f.booking(db, cal, user_id=1)
    ordered = await f.booking(db, cal, user_id=1, state="ordered")
    anon = await f.booking(db, cal, session_id=ANON.session_id)
    tt = await f.ticket_type(db, await f.event(db, cal))
    ticket = await f.ticket(db, tt, user_id=1)

    assert not await calendar.remove_entry(db, identity=BEN, entry_id=mine.id)
    assert not await calendar.remove_entry(db, identity=ALICE, entry_id=ordered.id)
    assert not await calendar.remove_entry(db, identity=ALICE, entry_id=anon.id)
    assert not await calendar.remove_ticket(db, identity=BEN, ticket_id=ticket.id)
    assert await calendar.remove_entry(db, identity=ALICE, entry_id=mine.id)
    assert await calendar.remove_entry(db, identity=ANON, entry_id=anon.id)
    assert await calendar.remove_ticket(db, identity=ALICE, ticket_id=ticket.id)
    await db.commit()

    entry_states = await states(db, CalendarEntry)
    assert entry_states[mine.id] == entry_states[anon.id] == "cancelled"
    assert entry_states[ordered.id] == "ordered"
    assert (await states(db, Ticket))[ticket.id] == "cancelled"
    assert not await calendar.remove_ticket(db, identity=ALICE, ticket_id=ticket.id)


async def test_adopt_moves_the_session_rows_once(db: AsyncSession) -> None:
    page = await f.page(db)
    cal = await f.calendar(db, page)
    sid = "anon-to-adopt"
    pending = await f.booking(db, cal, session_id=sid)
    ordered = await f.booking(db, cal, session_id=sid, state="ordered")
    cancelled = await f.booking(db, cal, session_id=sid, state="cancelled")
    event = await f.event(db, cal)
    tt = await f.ticket_type(db, event)
    ticket = await session_ticket(db, tt.id, event.id, sid)

    first = await calendar.adopt(db, session_id=sid, user_id=1)
    second = await calendar.adopt(db, session_id=sid, user_id=2)
    await db.commit()

    assert (first.entries, first.tickets) == (1, 1)
    assert (second.entries, second.tickets) == (0, 0)
    assert {e.id for e in await calendar.pending_entries(db, identity=ALICE)} == {pending.id}
    assert [t.id for t in await calendar.pending_tickets(db, user_id=1)] == [ticket.id]
    owners = dict((await db.execute(select(CalendarEntry.id, CalendarEntry.user_id))).all())
    assert owners[ordered.id] == 1
    assert owners[cancelled.id] is None


async def test_availability_counts_only_sold_tickets(db: AsyncSession) -> None:
    page = await f.page(db)
    event = await f.event(db, await f.calendar(db, page))
    limited = await f.ticket_type(db, event, capacity=5)
    unlimited = await f.ticket_type(db, event, "Standing", capacity=None)
    for state in ("pending", "reserved", "confirmed", "checked_in", "cancelled"):
        await f.ticket(db, limited, user_id=1, state=state)

    availability = await calendar.ticket_availability(
        db, ticket_type_ids=[limited.id, unlimited.id]
    )

    assert availability == {limited.id: 2, unlimited.id: None}


async def test_a_locked_availability_check_waits_for_the_other_checkout(
    app: Quart, db: AsyncSession
) -> None:
    page = await f.page(db)
    event = await f.event(db, await f.calendar(db, page))
    last_seat = await f.ticket_type(db, event, capacity=1)
    maker = runtime(app).databases.sessionmaker
    async with maker() as first, maker() as second:
        assert await calendar.ticket_availability(
            first, ticket_type_ids=[last_seat.id], lock=True
        ) == {last_seat.id: 1}
        waiting = asyncio.create_task(
            calendar.ticket_availability(second, ticket_type_ids=[last_seat.id], lock=True)
        )
        await asyncio.sleep(0.3)
        assert not waiting.done()  # held by the first transaction
        first.add(
            Ticket(
                entry_id=event.id,
                ticket_type_id=last_seat.id,
                user_id=1,
                state="reserved",
                code=secrets.token_hex(8),
            )
        )
        await first.commit()
        assert await asyncio.wait_for(waiting, 5) == {last_seat.id: 0}
        await second.rollback()


async def test_a_shopper_adding_to_a_cart_does_not_wait_for_a_checkout_counting_places(
    app: Quart, db: AsyncSession
) -> None:
    page = await f.page(db)
    cal = await f.calendar(db, page)
    event = await f.event(db, cal)
    seats = await f.ticket_type(db, event, capacity=10)
    session = await f.slot(db, cal, capacity=10)
    maker = runtime(app).databases.sessionmaker
    async with maker() as checkout, maker() as shopper:
        # A checkout of the event, between counting its places and committing.
        assert await calendar.checkout_availability(
            checkout, slot_ids=[session.id], ticket_type_ids=[seats.id]
        ) == ({session.id: 10}, {seats.id: 10})
        await shopper.execute(text("SET LOCAL lock_timeout = '2s'"))

        added = await calendar.add_pending_tickets(
            shopper, user_id=2, ticket_type_id=seats.id, count=2
        )
        await f.slot_booking(shopper, session, user_id=2)

        assert added == 2
        # What goes in a cart takes no place: the checkout's count stands.
        assert await calendar.ticket_availability(checkout, ticket_type_ids=[seats.id]) == {
            seats.id: 10
        }
        await checkout.commit()
    # And a checkout still queues behind another checkout of the same places.
    async with maker() as first, maker() as second:
        await calendar.checkout_availability(first, slot_ids=[session.id], ticket_type_ids=[])
        waiting = asyncio.create_task(
            calendar.checkout_availability(second, slot_ids=[session.id], ticket_type_ids=[])
        )
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await first.commit()
        assert await asyncio.wait_for(waiting, 5) == ({session.id: 10}, {})
        await second.rollback()


async def test_cancel_tickets_for_order_takes_only_its_unconfirmed_tickets(
    db: AsyncSession,
) -> None:
    page = await f.page(db)
    standard = await f.ticket_type(db, await f.event(db, await f.calendar(db, page)))
    oversold = await f.ticket(db, standard, user_id=1, state="reserved", order_id=10)
    confirmed = await f.ticket(db, standard, user_id=1, state="confirmed", order_id=10)
    other_order = await f.ticket(db, standard, user_id=2, state="reserved", order_id=11)

    ids = [oversold.id, confirmed.id, other_order.id]
    assert await calendar.cancel_tickets_for_order(db, order_id=10, ticket_ids=ids) == 1
    await db.commit()

    assert await states(db, Ticket) == {
        oversold.id: "cancelled",
        confirmed.id: "confirmed",
        other_order.id: "reserved",
    }


async def test_ticket_type_names_its_event(db: AsyncSession) -> None:
    event = await f.event(db, await f.calendar(db, await f.page(db)), "Folk night")
    standard = await f.ticket_type(db, event, "Standard")

    found = await calendar.ticket_type(db, ticket_type_id=standard.id)

    assert found is not None
    assert (found.name, found.entry_id, found.entry_name) == ("Standard", event.id, "Folk night")
    assert await calendar.ticket_type(db, ticket_type_id=424242) is None


async def test_pending_tickets_of_a_type_are_counted_added_and_removed_newest_first(
    db: AsyncSession,
) -> None:
    event = await f.event(db, await f.calendar(db, await f.page(db)))
    standard = await f.ticket_type(db, event, "Standard")
    other_type = await f.ticket_type(db, event, "Concession")
    mine = [await f.ticket(db, standard, user_id=1) for _ in range(2)]
    paid = await f.ticket(db, standard, user_id=1, state="confirmed")
    other = await f.ticket(db, other_type, user_id=1)
    theirs = await f.ticket(db, standard, user_id=2)

    counted = await calendar.lock_pending_tickets(db, user_id=1, ticket_type_id=standard.id)
    added = await calendar.add_pending_tickets(db, user_id=1, ticket_type_id=standard.id, count=3)
    removed = await calendar.remove_newest_pending_tickets(
        db, user_id=1, ticket_type_id=standard.id, count=4
    )
    await db.commit()

    assert (counted, added, removed) == (2, 3, 4)
    rows = (
        await db.execute(
            select(Ticket.id, Ticket.state, Ticket.entry_id).where(
                Ticket.user_id == 1, Ticket.ticket_type_id == standard.id
            )
        )
    ).all()
    pending = [row_id for row_id, state, _ in rows if state == "pending"]
    # The oldest stays; the three added and the second are taken out; the paid one is kept.
    assert pending == [mine[0].id]
    assert {entry_id for _, _, entry_id in rows} == {event.id}
    ticket_states = await states(db, Ticket)
    assert ticket_states[mine[1].id] == "cancelled"
    assert ticket_states[paid.id] == "confirmed"
    assert ticket_states[other.id] == ticket_states[theirs.id] == "pending"
