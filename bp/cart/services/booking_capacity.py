"""Slot capacity at checkout: bookings that no longer fit their session are refused before
payment, as tickets are (ticket_capacity.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from config.settings import Settings
from lib.error_codes import ErrorCode
from lib.errors import ServiceError
from lib.localtime import format_local_datetime
from services.contracts.dtos import CalendarEntryDTO


class SessionFullyBooked(ServiceError):
    """A booked session has fewer places left than the cart holds."""

    def __init__(self, *, session: str, available: int, wanted: int) -> None:
        super().__init__(
            409, ErrorCode.SESSION_FULLY_BOOKED, session=session, available=available, wanted=wanted
        )


def session_label(entry: CalendarEntryDTO, settings: Settings) -> str:
    """A session as a shopper knows it: “Taster session” on Sat 28 Mar 2026, 19:00 GMT."""
    when = format_local_datetime(
        entry.start_at, zone_name=settings.time_zone, locale=settings.locale
    )
    return f"“{entry.name}” on {when}"


def slots_wanted(entries: Sequence[CalendarEntryDTO]) -> Counter[int]:
    """How many places the bookings take in each slot."""
    return Counter(entry.slot_id for entry in entries if entry.slot_id is not None)


def check_booking_capacity(
    *,
    entries: Sequence[CalendarEntryDTO],
    left: Mapping[int, int | None],
    settings: Settings,
) -> None:
    """Refuse (409) bookings that no longer fit their slot's capacity: `left` is what the
    calendar counted after locking the slots (`checkout_availability`), so that two shoppers
    checking out the last place at once are told in turn, not both sent to pay for it.
    """
    wanted = slots_wanted(entries)
    for slot_id, count in sorted(wanted.items()):
        available = left.get(slot_id)
        if available is None or count <= available:
            continue
        entry = next(e for e in entries if e.slot_id == slot_id)
        raise SessionFullyBooked(
            session=session_label(entry, settings), available=available, wanted=count
        )
