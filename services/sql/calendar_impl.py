"""The events domain over the shared calendar, entry, ticket type and ticket tables.

Nothing here commits: the caller owns the transaction, so that checkout and settlement change
the cart's and the events domain's rows together.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    Update,
    any_,
    bindparam,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from lib.db import Query, execute_alone, execute_in_transaction
from lib.money import ZERO, cents
from models import (
    BOOKED_ENTRY_STATES,
    PAID_TICKET_STATES,
    SOLD_TICKET_STATES,
    Calendar,
    CalendarEntry,
    CalendarSlot,
    Ticket,
    TicketType,
)
from services.contracts.dtos import (
    AdoptionResult,
    CalendarEntryDTO,
    CancelledPending,
    CartIdentity,
    EntryConfirmation,
    TicketConfirmation,
    TicketDTO,
    TicketTypeDTO,
)
from services.contracts.ownership import owned_by, owned_by_bound, owner_params

# Entries and tickets an anonymous shopper hands over on sign-in: in the cart, or claimed by an
# order that the same adoption gives to the user (so a release puts them back in the user's cart).
ADOPTABLE_ENTRY_STATES = ("pending", "ordered")
ADOPTABLE_TICKET_STATES = ("pending", "reserved")
# A ticket's code: 16 hex digits, unguessable, printed on the ticket.
TICKET_CODE_BYTES = 8
# Namespaces the advisory lock held while one user's tickets of one type change.
PENDING_TICKETS_LOCK = "cart-pending-tickets:"

Row = type[CalendarEntry] | type[Ticket]


def ticket_cost() -> ColumnElement[Decimal]:
    """Seed 004: the ticket type's cost, else the event's ticket price."""
    return func.coalesce(TicketType.cost, CalendarEntry.ticket_price, literal(ZERO))


def entry_select() -> Select[*tuple[Any, ...]]:
    """Entries with the container (page) of their calendar, as columns in the order of
    `entry_to_dto` (always as the database has them now: no ORM object to refresh)."""
    return select(
        CalendarEntry.id,
        CalendarEntry.calendar_id,
        CalendarEntry.name,
        CalendarEntry.start_at,
        CalendarEntry.end_at,
        func.coalesce(CalendarEntry.cost, literal(ZERO)),
        CalendarEntry.state,
        Calendar.container_type,
        Calendar.container_id,
        CalendarEntry.order_id,
        CalendarEntry.slot_id,
    ).join(Calendar, Calendar.id == CalendarEntry.calendar_id)


def ticket_select() -> Select[*tuple[Any, ...]]:
    """Tickets with their event, type, cost and the container (page) of the event's calendar,
    as columns in the order of `ticket_to_dto`."""
    return (
        select(
            Ticket.id,
            Ticket.entry_id,
            CalendarEntry.name,
            CalendarEntry.start_at,
            Ticket.ticket_type_id,
            TicketType.name,
            func.coalesce(ticket_cost(), literal(ZERO)),
            Ticket.state,
            Ticket.code,
            Calendar.container_type,
            Calendar.container_id,
            Ticket.order_id,
        )
        .join(CalendarEntry, CalendarEntry.id == Ticket.entry_id)
        .join(Calendar, Calendar.id == CalendarEntry.calendar_id)
        .outerjoin(TicketType, TicketType.id == Ticket.ticket_type_id)
    )


# A cart's pending bookings (signed-in owner: True, anonymous: False) and pending tickets, the
# owner bound at execution (`owner_params`): built once, and read alone when the request has no
# transaction open.
PENDING_ENTRIES = {
    kind: Query(
        entry_select()
        .where(owned_by_bound(CalendarEntry, signed_in=kind), CalendarEntry.state == "pending")
        .order_by(CalendarEntry.start_at, CalendarEntry.id)
    )
    for kind in (True, False)
}
PENDING_TICKETS = Query(
    ticket_select()
    .where(owned_by_bound(Ticket, signed_in=True), Ticket.state == "pending")
    .order_by(CalendarEntry.start_at, Ticket.entry_id, Ticket.ticket_type_id, Ticket.id)
)

# What a paid order delivered: its confirmed bookings and its paid tickets, counted in one
# statement (the paid return page's), read alone when no transaction is open.
_ORDER_ID = bindparam("order_id", type_=BigInteger)
DELIVERED_FOR_ORDER = Query(
    select(
        select(func.count())
        .where(
            CalendarEntry.order_id == _ORDER_ID,
            CalendarEntry.state == "confirmed",
        )
        .scalar_subquery(),
        select(func.count())
        .where(
            Ticket.order_id == _ORDER_ID,
            Ticket.state == any_(bindparam("paid_states", type_=ARRAY(String))),
        )
        .scalar_subquery(),
    )
)

# Every ticket of an order (the paid return page shows their codes): alone in autocommit when
# no transaction is open, in the caller's otherwise (the fulfilment's).
TICKETS_FOR_ORDER = Query(ticket_select().where(Ticket.order_id == _ORDER_ID).order_by(Ticket.id))


def entry_to_dto(row: Any) -> CalendarEntryDTO:
    """A row of `entry_select`."""
    return CalendarEntryDTO(
        id=row[0],
        calendar_id=row[1],
        name=row[2],
        start_at=row[3],
        end_at=row[4],
        cost=cents(row[5]),
        state=row[6],
        calendar_container_type=row[7],
        calendar_container_id=row[8],
        order_id=row[9],
        slot_id=row[10],
    )


def ticket_to_dto(row: Any) -> TicketDTO:
    """A row of `ticket_select`."""
    return TicketDTO(
        id=row[0],
        entry_id=row[1],
        entry_name=row[2],
        entry_start_at=row[3],
        ticket_type_id=row[4],
        ticket_type_name=row[5],
        cost=cents(Decimal(row[6])),
        state=row[7],
        code=row[8],
        calendar_container_type=row[9],
        calendar_container_id=row[10],
        order_id=row[11],
    )


def locked_places(
    model: type[CalendarSlot] | type[TicketType],
    ids: Sequence[int] | Select[Any],
) -> Select[*tuple[Any, ...]]:
    """The ids of these slots or ticket types, their rows locked in id order
    for counting their places: every checkout and settlement that counts them queues on them,
    and two of them locking overlapping rows cannot deadlock.

    FOR NO KEY UPDATE, not FOR UPDATE: a booking or a ticket put in a cart refers to the row,
    and PostgreSQL checks the reference with a lock that FOR UPDATE would make wait, so every
    shopper adding a ticket to an event's cart waited for the checkouts and settlements of
    that event in progress. What goes in a cart is pending and takes no place, so it need not
    wait; everything that takes a place still queues.
    """
    return (
        select(model.id).where(model.id.in_(ids)).order_by(model.id).with_for_update(key_share=True)
    )


# An order's confirmation on payment, for its bookings (ordered → confirmed, per slot) and its
# tickets (reserved → confirmed, per ticket type): which places to lock, then, once they are
# held, one statement that confirms the order's claims of each place in id order while places
# are left (those other orders paid for counted; no capacity, no limit). The others stay as
# they were. It answers every booking or ticket of the order with whether it confirmed it and
# its state after it. (The order's id is not bound as `order_id`: in an UPDATE that name
# would set the column.)
_SETTLED = bindparam("settled_order_id", type_=BigInteger)


@dataclass(frozen=True)
class _Confirmation:
    place: type[CalendarSlot] | type[TicketType]
    places: Select[Any]
    confirm: Select[Any]


def _confirmation(
    model: type[CalendarEntry] | type[Ticket],
    place: type[CalendarSlot] | type[TicketType],
    place_id: InstrumentedAttribute[int | None],
    *,
    claimed: str,
    paid: Sequence[str],
) -> _Confirmation:
    mine = (model.order_id == _SETTLED, model.state == claimed)
    claims = (
        select(model.id, place_id.label("place_id")).where(*mine).with_for_update().cte("claims")
    )
    ranked = select(
        claims.c.id,
        claims.c.place_id,
        func.row_number().over(partition_by=claims.c.place_id, order_by=claims.c.id).label("n"),
    ).cte("ranked")
    taken = (
        select(place_id.label("place_id"), func.count().label("taken"))
        .where(
            place_id.in_(select(claims.c.place_id)),
            model.state.in_(paid),
            or_(model.order_id.is_(None), model.order_id != _SETTLED),
        )
        .group_by(place_id)
        .cte("taken")
    )
    fitting = (
        select(ranked.c.id)
        .outerjoin(place, place.id == ranked.c.place_id)
        .outerjoin(taken, taken.c.place_id == ranked.c.place_id)
        .where(
            or_(
                place.capacity.is_(None),
                func.coalesce(taken.c.taken, 0) + ranked.c.n <= place.capacity,
            )
        )
    )
    confirmed = (
        update(model)
        .where(model.id.in_(fitting), model.state == claimed)
        .values(state="confirmed")
        .returning(model.id)
        .cte("confirmed")
    )
    now_confirmed = confirmed.c.id.is_not(None)
    return _Confirmation(
        place=place,
        places=select(place_id).where(*mine),
        confirm=select(
            model.id, now_confirmed, case((now_confirmed, literal("confirmed")), else_=model.state)
        )
        .outerjoin(confirmed, confirmed.c.id == model.id)
        .where(model.order_id == _SETTLED)
        .order_by(model.id),
    )


_CONFIRM_ENTRIES = _confirmation(
    CalendarEntry, CalendarSlot, CalendarEntry.slot_id, claimed="ordered", paid=("confirmed",)
)
_CONFIRM_TICKETS = _confirmation(
    Ticket, TicketType, Ticket.ticket_type_id, claimed="reserved", paid=PAID_TICKET_STATES
)


async def _confirm(session: AsyncSession, confirmation: _Confirmation, order_id: int) -> list[Any]:
    """The order's places locked, then its claims confirmed (each a statement: the second
    begins after the locks are held, so it sees every confirmation committed under them, and
    every other checkout and settlement of those places waits no longer than it and the
    commit). Every booking or ticket of the order: (id, confirmed now, state after)."""
    params = {"settled_order_id": order_id}
    await session.execute(locked_places(confirmation.place, confirmation.places), params)
    return list((await session.execute(confirmation.confirm, params)).all())


def _confirmed_claims(
    model: type[CalendarEntry] | type[Ticket], *, claimed: str, is_booking: bool
) -> Select[bool, int, bool, str]:
    """The order's claims of one kind confirmed, whatever is left: every booking or ticket of
    the order, (is a booking, id, confirmed now, state after), as `_confirmation` answers."""
    confirmed = (
        update(model)
        .where(model.order_id == _SETTLED, model.state == claimed)
        .values(state="confirmed")
        .returning(model.id)
        .cte(f"confirmed_{model.__tablename__}")
    )
    now_confirmed = confirmed.c.id.is_not(None)
    return (
        select(
            literal(is_booking),
            model.id,
            now_confirmed,
            case((now_confirmed, literal("confirmed")), else_=model.state),
        )
        .outerjoin(confirmed, confirmed.c.id == model.id)
        .where(model.order_id == _SETTLED)
    )


# Both kinds in one statement, for a settlement whose commit checks that they fit
# (bp/cart/services/places_at_commit.py): no place is locked here.
_CONFIRM_CLAIMS = Query(
    union_all(
        _confirmed_claims(CalendarEntry, claimed="ordered", is_booking=True),
        _confirmed_claims(Ticket, claimed="reserved", is_booking=False),
    )
)


def _claim(
    model: type[CalendarEntry] | type[Ticket], *, ids: str, claimed: str, signed_in: bool
) -> Update:
    """pending → `claimed` for the owner's rows among those bound as `ids`, by the order
    `claiming_order_id` (not bound as `order_id`: in an UPDATE that name would set the column);
    answers their ids. Built once: every checkout claims."""
    return (
        update(model)
        .where(
            model.id == any_(bindparam(ids, type_=ARRAY(BigInteger))),
            owned_by_bound(model, signed_in=signed_in),
            model.state == "pending",
        )
        .values(state=claimed, order_id=bindparam("claiming_order_id", type_=BigInteger))
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )


# Bookings by a signed-in shopper or a guest; tickets need sign-in (seed 004).
_claim_entries = {
    signed_in: _claim(
        CalendarEntry, ids="claimed_entry_ids", claimed="ordered", signed_in=signed_in
    )
    for signed_in in (True, False)
}
_claim_tickets = _claim(Ticket, ids="claimed_ticket_ids", claimed="reserved", signed_in=True)
_CLAIM_ENTRIES = {signed_in: Query(claim) for signed_in, claim in _claim_entries.items()}
_CLAIM_TICKETS = Query(_claim_tickets)
# Both at once, each counted.
_claimed_entries = _claim_entries[True].cte("claimed_entries")
_claimed_tickets = _claim_tickets.cte("claimed_tickets")
_CLAIM_BOTH = Query(
    select(
        select(func.count()).select_from(_claimed_entries).scalar_subquery(),
        select(func.count()).select_from(_claimed_tickets).scalar_subquery(),
    )
)


class SqlCalendarService:
    """Bookings and tickets of the events domain, as the cart sees them."""

    async def pending_entries(
        self, session: AsyncSession, *, identity: CartIdentity
    ) -> list[CalendarEntryDTO]:
        """The bookings in this identity's cart, soonest first, in one query."""
        rows = await execute_alone(
            session, PENDING_ENTRIES[identity.is_user], owner_params(identity)
        )
        return [entry_to_dto(row) for row in rows]

    async def pending_tickets(self, session: AsyncSession, *, user_id: int) -> list[TicketDTO]:
        """The tickets in this user's cart (seed 004: tickets need sign-in), in one query."""
        owner = owner_params(CartIdentity(user_id=user_id))
        rows = await execute_alone(session, PENDING_TICKETS, owner)
        return [ticket_to_dto(row) for row in rows]

    async def claim_entries_for_order(
        self,
        session: AsyncSession,
        *,
        order_id: int,
        identity: CartIdentity,
        entry_ids: Sequence[int],
    ) -> int:
        """pending → ordered for exactly these entries of this identity; returns how many."""
        if not entry_ids:
            return 0
        params = {**owner_params(identity), "claiming_order_id": order_id}
        params["claimed_entry_ids"] = list(entry_ids)
        return len(await execute_in_transaction(session, _CLAIM_ENTRIES[identity.is_user], params))

    async def claim_tickets_for_order(
        self, session: AsyncSession, *, order_id: int, user_id: int, ticket_ids: Sequence[int]
    ) -> int:
        """pending → reserved for exactly these tickets of this user; returns how many."""
        if not ticket_ids:
            return 0
        params = {**owner_params(CartIdentity(user_id=user_id)), "claiming_order_id": order_id}
        params["claimed_ticket_ids"] = list(ticket_ids)
        return len(await execute_in_transaction(session, _CLAIM_TICKETS, params))

    async def claim_for_order(
        self,
        session: AsyncSession,
        *,
        order_id: int,
        identity: CartIdentity,
        entry_ids: Sequence[int],
        ticket_ids: Sequence[int],
    ) -> tuple[int, int]:
        """Both claims in one statement (two updates in one WITH) when there are both."""
        if not entry_ids or not ticket_ids:
            entries = await self.claim_entries_for_order(
                session, order_id=order_id, identity=identity, entry_ids=entry_ids
            )
            if not ticket_ids:
                return entries, 0
            assert identity.user_id is not None, "tickets need a signed-in identity"
            tickets = await self.claim_tickets_for_order(
                session, order_id=order_id, user_id=identity.user_id, ticket_ids=ticket_ids
            )
            return entries, tickets
        assert identity.user_id is not None, "tickets need a signed-in identity"
        params = {**owner_params(identity), "claiming_order_id": order_id}
        params |= {"claimed_entry_ids": list(entry_ids), "claimed_ticket_ids": list(ticket_ids)}
        row = (await execute_in_transaction(session, _CLAIM_BOTH, params)).one()
        return int(row[0]), int(row[1])

    async def checkout_availability(
        self, session: AsyncSession, *, slot_ids: Sequence[int], ticket_type_ids: Sequence[int]
    ) -> tuple[dict[int, int | None], dict[int, int | None]]:
        """One statement locks, one counts (it must begin after the locks are held, so that
        it sees what the transactions it waited for committed)."""
        slots, types = sorted(set(slot_ids)), sorted(set(ticket_type_ids))
        if not slots or not types:
            return (
                await self.slot_availability(session, slot_ids=slots, lock=True),
                await self.ticket_availability(session, ticket_type_ids=types, lock=True),
            )
        locked_slots = locked_places(CalendarSlot, slots).cte("locked_slots")
        locked_types = locked_places(TicketType, types).cte("locked_types")
        # The target list is evaluated in order: the slots are locked first.
        await session.execute(
            select(
                select(func.count()).select_from(locked_slots).scalar_subquery(),
                select(func.count()).select_from(locked_types).scalar_subquery(),
            )
        )
        booked = func.count(CalendarEntry.id).filter(CalendarEntry.state.in_(BOOKED_ENTRY_STATES))
        sold = func.count(Ticket.id).filter(Ticket.state.in_(SOLD_TICKET_STATES))
        rows = await session.execute(
            union_all(
                select(literal(True), CalendarSlot.id, CalendarSlot.capacity, booked)
                .outerjoin(CalendarEntry, CalendarEntry.slot_id == CalendarSlot.id)
                .where(CalendarSlot.id.in_(slots))
                .group_by(CalendarSlot.id, CalendarSlot.capacity),
                select(literal(False), TicketType.id, TicketType.capacity, sold)
                .outerjoin(Ticket, Ticket.ticket_type_id == TicketType.id)
                .where(TicketType.id.in_(types))
                .group_by(TicketType.id, TicketType.capacity),
            )
        )
        left: dict[bool, dict[int, int | None]] = {True: {}, False: {}}
        for is_slot, row_id, capacity, taken in rows:
            left[bool(is_slot)][row_id] = None if capacity is None else max(capacity - taken, 0)
        return left[True], left[False]

    async def confirm_entries_for_order(
        self, session: AsyncSession, *, order_id: int
    ) -> EntryConfirmation:
        """ordered → confirmed under a lock on each slot; what would overbook is not.

        As for tickets: the slot rows are locked in id order (so two settlements never
        deadlock), then the paid bookings of other orders are counted and this order's
        bookings confirmed up to the places left. Those that do not fit stay ordered.
        """
        rows = await _confirm(session, _CONFIRM_ENTRIES, order_id)
        return EntryConfirmation(
            confirmed=sum(1 for row in rows if row[1]),
            overbooked=[row[0] for row in rows if row[2] == "ordered"],
            booked=frozenset(row[0] for row in rows if row[2] == "confirmed"),
        )

    async def confirm_claims_for_order(
        self, session: AsyncSession, *, order_id: int
    ) -> tuple[EntryConfirmation, TicketConfirmation]:
        """ordered → confirmed and reserved → confirmed for every claim of the order, in one
        statement and with no lock: for a caller whose commit checks that they fit."""
        rows = (
            await execute_in_transaction(session, _CONFIRM_CLAIMS, {"settled_order_id": order_id})
        ).all()
        entries = [row[1:] for row in rows if row[0]]
        tickets = [row[1:] for row in rows if not row[0]]
        return (
            EntryConfirmation(
                confirmed=sum(1 for _, now, _ in entries if now),
                booked=frozenset(row_id for row_id, _, state in entries if state == "confirmed"),
            ),
            TicketConfirmation(
                confirmed=sum(1 for _, now, _ in tickets if now),
                paid=frozenset(
                    row_id for row_id, _, state in tickets if state in PAID_TICKET_STATES
                ),
            ),
        )

    async def cancel_entries_for_order(
        self, session: AsyncSession, *, order_id: int, entry_ids: Sequence[int]
    ) -> int:
        """Cancel these bookings of the order that were not confirmed (fully booked); how many."""
        if not entry_ids:
            return 0
        return await _update(
            session,
            CalendarEntry,
            CalendarEntry.id.in_(list(entry_ids)),
            CalendarEntry.order_id == order_id,
            CalendarEntry.state.in_(("pending", "ordered")),
            state="cancelled",
        )

    async def slot_availability(
        self, session: AsyncSession, *, slot_ids: Sequence[int], lock: bool = False
    ) -> dict[int, int | None]:
        """Places left per slot (None: unlimited); pending (in-cart) bookings take none."""
        wanted = sorted(set(slot_ids))
        if not wanted:
            return {}
        if lock:
            await session.execute(locked_places(CalendarSlot, wanted))
        booked = func.count(CalendarEntry.id).filter(CalendarEntry.state.in_(BOOKED_ENTRY_STATES))
        rows = await session.execute(
            select(CalendarSlot.id, CalendarSlot.capacity, booked)
            .outerjoin(CalendarEntry, CalendarEntry.slot_id == CalendarSlot.id)
            .where(CalendarSlot.id.in_(wanted))
            .group_by(CalendarSlot.id, CalendarSlot.capacity)
        )
        return {
            slot_id: None if capacity is None else max(capacity - count, 0)
            for slot_id, capacity, count in rows
        }

    async def confirm_tickets_for_order(
        self, session: AsyncSession, *, order_id: int
    ) -> TicketConfirmation:
        """reserved → confirmed under a lock on each ticket type; what would oversell is not.

        The ticket type rows are locked in id order (so two settlements never deadlock), then
        the paid tickets of other orders are counted and this order's tickets confirmed up to
        the capacity left. The tickets that do not fit stay reserved and are returned.
        """
        rows = await _confirm(session, _CONFIRM_TICKETS, order_id)
        paid = frozenset(row[0] for row in rows if row[2] in PAID_TICKET_STATES)
        confirmed = sum(1 for row in rows if row[1])
        oversold = [row[0] for row in rows if row[2] == "reserved"]
        oversold_dtos: list[TicketDTO] = []
        if oversold:
            found = await session.execute(
                ticket_select().where(Ticket.id.in_(oversold)).order_by(Ticket.id)
            )
            oversold_dtos = [ticket_to_dto(row) for row in found]
        return TicketConfirmation(confirmed=confirmed, oversold=oversold_dtos, paid=paid)

    async def release_claims_for_order(self, session: AsyncSession, *, order_id: int) -> int:
        """ordered/reserved → pending (back in the owner's cart); returns how many."""
        entries = await _update(
            session,
            CalendarEntry,
            CalendarEntry.order_id == order_id,
            CalendarEntry.state == "ordered",
            state="pending",
            order_id=None,
        )
        tickets = await _update(
            session,
            Ticket,
            Ticket.order_id == order_id,
            Ticket.state == "reserved",
            state="pending",
            order_id=None,
        )
        return entries + tickets

    async def entries_for_order(
        self, session: AsyncSession, *, order_id: int
    ) -> list[CalendarEntryDTO]:
        """Every entry an order claimed, whatever its state now."""
        rows = await session.execute(
            entry_select()
            .where(CalendarEntry.order_id == order_id)
            .order_by(CalendarEntry.start_at, CalendarEntry.id)
        )
        return [entry_to_dto(row) for row in rows]

    async def tickets_for_order(self, session: AsyncSession, *, order_id: int) -> list[TicketDTO]:
        """Every ticket an order claimed, whatever its state now."""
        rows = await execute_alone(session, TICKETS_FOR_ORDER, {"order_id": order_id})
        return [ticket_to_dto(row) for row in rows]

    async def delivered_for_order(self, session: AsyncSession, *, order_id: int) -> tuple[int, int]:
        """How many of the order's bookings are confirmed and how many of its tickets paid."""
        row = (
            await execute_alone(
                session,
                DELIVERED_FOR_ORDER,
                {"order_id": order_id, "paid_states": list(PAID_TICKET_STATES)},
            )
        ).one()
        return int(row[0]), int(row[1])

    async def remove_entry(
        self, session: AsyncSession, *, identity: CartIdentity, entry_id: int
    ) -> bool:
        """Cancel a pending booking of this identity (kept for history); False when not theirs."""
        return await _cancel_pending(session, CalendarEntry, row_id=entry_id, identity=identity)

    async def remove_ticket(
        self, session: AsyncSession, *, identity: CartIdentity, ticket_id: int
    ) -> bool:
        """Cancel a pending ticket of this identity; False when it is not theirs."""
        return await _cancel_pending(session, Ticket, row_id=ticket_id, identity=identity)

    async def ticket_type(
        self, session: AsyncSession, *, ticket_type_id: int
    ) -> TicketTypeDTO | None:
        """A ticket type with its event's name; None when there is no such type."""
        row = (
            await session.execute(
                select(TicketType.id, TicketType.name, CalendarEntry.id, CalendarEntry.name)
                .join(CalendarEntry, CalendarEntry.id == TicketType.entry_id)
                .where(TicketType.id == ticket_type_id)
            )
        ).first()
        if row is None:
            return None
        type_id, name, entry_id, entry_name = row
        return TicketTypeDTO(id=type_id, name=name, entry_id=entry_id, entry_name=entry_name)

    async def lock_pending_tickets(
        self, session: AsyncSession, *, user_id: int, ticket_type_id: int
    ) -> int:
        """How many tickets of the type are in the user's cart, held until the transaction ends.

        Row locks cannot hold a count that is still zero, so a transaction-scoped advisory lock
        on (user, type) does: two changes of one shopper's tickets of one type queue, while
        other shoppers and other types go on in parallel.
        """
        key = f"{PENDING_TICKETS_LOCK}{user_id}:{ticket_type_id}"
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
        count = await session.scalar(
            select(func.count(Ticket.id)).where(*_pending_of(user_id, ticket_type_id))
        )
        return int(count or 0)

    async def add_pending_tickets(
        self, session: AsyncSession, *, user_id: int, ticket_type_id: int, count: int
    ) -> int:
        """Put `count` new tickets of the type in the user's cart, in one statement."""
        if count <= 0:
            return 0
        entry_id = select(TicketType.entry_id).where(TicketType.id == ticket_type_id)
        added = await session.scalars(
            insert(Ticket)
            .values(
                [
                    {
                        "entry_id": entry_id.scalar_subquery(),
                        "ticket_type_id": ticket_type_id,
                        "user_id": user_id,
                        "state": "pending",
                        "code": secrets.token_hex(TICKET_CODE_BYTES).upper(),
                    }
                    for _ in range(count)
                ]
            )
            .returning(Ticket.id)
        )
        return len(list(added))

    async def remove_newest_pending_tickets(
        self, session: AsyncSession, *, user_id: int, ticket_type_id: int, count: int
    ) -> int:
        """Cancel the user's `count` newest pending tickets of the type (kept for history)."""
        if count <= 0:
            return 0
        newest = (
            select(Ticket.id)
            .where(*_pending_of(user_id, ticket_type_id))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(count)
        )
        return await _update(
            session,
            Ticket,
            Ticket.id.in_(newest),
            Ticket.state == "pending",
            state="cancelled",
        )

    async def ticket_availability(
        self, session: AsyncSession, *, ticket_type_ids: Sequence[int], lock: bool = False
    ) -> dict[int, int | None]:
        """Tickets left per type (None: unlimited); only reserved, confirmed, checked-in count."""
        wanted = sorted(set(ticket_type_ids))
        if not wanted:
            return {}
        if lock:
            await session.execute(locked_places(TicketType, wanted))
        sold = func.count(Ticket.id).filter(Ticket.state.in_(SOLD_TICKET_STATES))
        rows = await session.execute(
            select(TicketType.id, TicketType.capacity, sold)
            .outerjoin(Ticket, Ticket.ticket_type_id == TicketType.id)
            .where(TicketType.id.in_(wanted))
            .group_by(TicketType.id, TicketType.capacity)
        )
        return {
            type_id: None if capacity is None else max(capacity - count, 0)
            for type_id, capacity, count in rows
        }

    async def cancel_tickets_for_order(
        self, session: AsyncSession, *, order_id: int, ticket_ids: Sequence[int]
    ) -> int:
        """Cancel these tickets of the order that were not confirmed (sold out); how many."""
        if not ticket_ids:
            return 0
        return await _update(
            session,
            Ticket,
            Ticket.id.in_(list(ticket_ids)),
            Ticket.order_id == order_id,
            Ticket.state.in_(("pending", "reserved")),
            state="cancelled",
        )

    async def adopt(
        self, session: AsyncSession, *, session_id: str, user_id: int
    ) -> AdoptionResult:
        """Give the anonymous session's entries and tickets to the user; counts the pending ones.

        Idempotent: adopted rows no longer carry the session id, so a second run finds nothing.
        """
        entry_states = await _adopt_rows(
            session, CalendarEntry, ADOPTABLE_ENTRY_STATES, session_id=session_id, user_id=user_id
        )
        ticket_states = await _adopt_rows(
            session, Ticket, ADOPTABLE_TICKET_STATES, session_id=session_id, user_id=user_id
        )
        return AdoptionResult(
            entries=sum(1 for state in entry_states if state == "pending"),
            tickets=sum(1 for state in ticket_states if state == "pending"),
        )

    async def stale_anonymous_sessions(
        self, session: AsyncSession, *, untouched_since: datetime, limit: int
    ) -> list[str]:
        """Anonymous carts whose pending bookings and tickets were all added before the time."""
        found: list[str] = []
        for model in (CalendarEntry, Ticket):
            rows = await session.scalars(
                select(model.session_id)
                .where(
                    model.session_id.is_not(None),
                    model.user_id.is_(None),
                    model.state == "pending",
                )
                .group_by(model.session_id)
                .having(func.max(model.created_at) < untouched_since)
                .order_by(model.session_id)
                .limit(limit)
            )
            found.extend(sid for sid in rows if sid is not None and sid not in found)
        return found[:limit]

    async def active_anonymous_sessions(
        self, session: AsyncSession, *, session_ids: Sequence[str], since: datetime
    ) -> set[str]:
        """Those of the anonymous carts with a booking or ticket added at or after the time."""
        wanted = sorted(set(session_ids))
        if not wanted:
            return set()
        active: set[str] = set()
        for model in (CalendarEntry, Ticket):
            rows = await session.scalars(
                select(model.session_id)
                .where(
                    model.session_id.in_(wanted),
                    model.state == "pending",
                    model.created_at >= since,
                )
                .distinct()
            )
            active.update(sid for sid in rows if sid is not None)
        return active

    async def cancel_pending_for_sessions(
        self, session: AsyncSession, *, session_ids: Sequence[str]
    ) -> CancelledPending:
        """pending → cancelled for these anonymous carts' bookings and tickets."""
        wanted = sorted(set(session_ids))
        if not wanted:
            return CancelledPending()
        counts = [
            await _update(
                session,
                model,
                model.session_id.in_(wanted),
                model.user_id.is_(None),
                model.state == "pending",
                state="cancelled",
            )
            for model in (CalendarEntry, Ticket)
        ]
        return CancelledPending(entries=counts[0], tickets=counts[1])


async def _update(
    session: AsyncSession, model: Row, *where: ColumnElement[bool], **values: Any
) -> int:
    """Change the rows `where` selects (loaded objects are left alone); how many changed."""
    result: Any = await session.execute(
        update(model).where(*where).values(**values).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def _pending_of(user_id: int, ticket_type_id: int) -> tuple[ColumnElement[bool], ...]:
    """The user's tickets of the type that are in the cart."""
    return (
        owned_by(Ticket, CartIdentity(user_id=user_id)),
        Ticket.ticket_type_id == ticket_type_id,
        Ticket.state == "pending",
    )


async def _cancel_pending(
    session: AsyncSession, model: Row, *, row_id: int, identity: CartIdentity
) -> bool:
    """pending → cancelled for one row of this identity; False when it is not theirs (or gone)."""
    cancelled = await _update(
        session,
        model,
        model.id == row_id,
        owned_by(model, identity),
        model.state == "pending",
        state="cancelled",
    )
    return cancelled == 1


async def _adopt_rows(
    session: AsyncSession, model: Row, states: Sequence[str], *, session_id: str, user_id: int
) -> list[str]:
    """Move the session's rows in these states to the user; the states of the rows moved."""
    rows = await session.scalars(
        update(model)
        .where(
            owned_by(model, CartIdentity(session_id=session_id)),
            model.state.in_(states),
        )
        .values(user_id=user_id, session_id=None)
        .returning(model.state)
        .execution_options(synchronize_session=False)
    )
    return list(rows)
