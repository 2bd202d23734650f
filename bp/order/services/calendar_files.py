"""Calendar files (RFC 5545) of a paid order: one per booking and one per event it has tickets
for, attached to the mail and downloadable from the order's page.

Times are written in the coop's zone (with its VTIMEZONE), so a calendar shows the time the
coop means wherever the shopper is. Each event's UID is stable: a booking's names the booked
calendar entry, an event's names the event, so importing a file again (or the same event from
two orders) updates one calendar event instead of adding another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from bp.order.services.get_order import DELIVERED_STATES, OrderLineView, OrderView
from config.settings import Settings

PRODUCT_ID = "-//Rose Ash cooperative//cart//EN"
MAX_NAME_WORDS_LENGTH = 40
# The zone's rules are written for the years a coop event can fall in.
ZONE_RULES_FROM, ZONE_RULES_UNTIL = date(2020, 1, 1), date(2040, 1, 1)


@dataclass(frozen=True)
class CalendarFile:
    """One .ics file: its key in the download's URL, its file name, and its content."""

    key: str
    filename: str
    title: str
    starts_at: datetime
    content: bytes


def calendar_files(view: OrderView, *, settings: Settings, link: str) -> list[CalendarFile]:
    """The paid order's bookings and events with tickets, each as a calendar file; none for an
    order not paid (nothing in it is the shopper's yet)."""
    if not view.is_paid:
        return []
    files: list[CalendarFile] = []
    for line in view.bookings:
        if line.state in DELIVERED_STATES and line.entry_id is not None and line.starts_at:
            files.append(
                _file(
                    f"booking-{line.entry_id}",
                    lines=[line],
                    view=view,
                    settings=settings,
                    link=link,
                    what="Booking",
                )
            )
    events: dict[int, list[OrderLineView]] = {}
    for line in view.tickets:
        if line.state in DELIVERED_STATES and line.entry_id is not None and line.starts_at:
            events.setdefault(line.entry_id, []).append(line)
    for entry_id, tickets in events.items():
        files.append(
            _file(
                f"event-{entry_id}",
                lines=tickets,
                view=view,
                settings=settings,
                link=link,
                what="Tickets",
            )
        )
    return files


def calendar_file_or_none(
    view: OrderView, *, settings: Settings, link: str, key: str
) -> CalendarFile | None:
    """The order's calendar file named `key` ("booking-12", "event-3"), if it has one."""
    return next(
        (file for file in calendar_files(view, settings=settings, link=link) if file.key == key),
        None,
    )


def _file(
    key: str,
    *,
    lines: list[OrderLineView],
    view: OrderView,
    settings: Settings,
    link: str,
    what: str,
) -> CalendarFile:
    first = lines[0]
    assert first.starts_at is not None
    zone = ZoneInfo(settings.time_zone)
    domain = urlsplit(settings.public_base_url).hostname or "localhost"
    title = _event_title(first)
    event = Event()
    event.add("uid", f"{key}@{domain}")
    event.add("dtstamp", view.paid_at or view.created_at)
    event.add("dtstart", first.starts_at.astimezone(zone))
    if first.ends_at is not None and first.ends_at > first.starts_at:
        event.add("dtend", first.ends_at.astimezone(zone))
    event.add("summary", title)
    codes = [line.ticket_code for line in lines if line.ticket_code]
    details = [f"{what} of order #{view.id}."]
    if codes:
        details.append(("Ticket codes: " if len(codes) > 1 else "Ticket code: ") + ", ".join(codes))
    details.append(f"Your order: {link}")
    event.add("description", "\n".join(details))
    event.add("url", link)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    calendar.add_missing_timezones(first_date=ZONE_RULES_FROM, last_date=ZONE_RULES_UNTIL)
    return CalendarFile(
        key=key,
        filename=f"{_slug(title)}-{first.starts_at.astimezone(zone):%Y-%m-%d}.ics",
        title=title,
        starts_at=first.starts_at,
        content=calendar.to_ical(),
    )


def _event_title(line: OrderLineView) -> str:
    """A ticket's line reads "Supper (Standard)": the calendar names the event alone."""
    if line.kind == "ticket" and line.ticket_type and line.title.endswith(f" ({line.ticket_type})"):
        return line.title.removesuffix(f" ({line.ticket_type})")
    return line.title


def _slug(title: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return words[:MAX_NAME_WORDS_LENGTH].strip("-") or "event"
