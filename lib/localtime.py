"""Dates and times for people: in the coop's time zone and locale, the zone named with a time.

Timestamps are UTC in the database and in code; only what a person reads is local. A time is
always followed by its zone ("Sat, 28 Mar 2026, 19:00 GMT", "… 19:00 BST"), so that a shopper
abroad, or an order placed across a clock change, cannot be misread. The date's shape and its
day and month names follow the locale's own patterns (CLDR, through Babel).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_time

DEFAULT_ZONE = "Europe/London"
DEFAULT_LOCALE = "en_GB"
# CLDR skeletons, which each locale orders and punctuates its own way: en_GB "Sat, 3 Jul 2027"
# and "3 July 2027", de_DE "Sa., 3. Juli 2027" and "3. Juli 2027"; the time is 24-hour with
# the zone's short name ("19:00 BST").
DAY_SKELETON = "yMMMEd"
DATE_SKELETON = "yMMMMd"
TIME_PATTERN = "HH:mm zzz"


@lru_cache(maxsize=16)
def zone(name: str) -> ZoneInfo:
    """The IANA zone (validated when the settings are loaded)."""
    return ZoneInfo(name)


def to_local(moment: datetime, zone_name: str = DEFAULT_ZONE) -> datetime:
    """The moment in the coop's zone; a naive datetime is taken as UTC, as the database's are."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone(zone_name))


def format_local_datetime(
    moment: datetime | None, *, zone_name: str = DEFAULT_ZONE, locale: str = DEFAULT_LOCALE
) -> str:
    """Day, date and time in the coop's zone, with the zone: "Sat, 28 Mar 2026, 19:00 GMT"."""
    if moment is None:
        return ""
    return _local_datetime_text(moment, zone_name, locale)


def format_local_time(
    moment: datetime | None, *, zone_name: str = DEFAULT_ZONE, locale: str = DEFAULT_LOCALE
) -> str:
    """The clock time and zone in the coop's zone, for a moment within the day: "19:42 GMT"."""
    if moment is None:
        return ""
    return str(format_time(to_local(moment, zone_name), TIME_PATTERN, locale=locale))


def format_local_date(
    moment: datetime | None, *, zone_name: str = DEFAULT_ZONE, locale: str = DEFAULT_LOCALE
) -> str:
    """The date in the coop's zone (a day needs no zone): "28 March 2026"."""
    if moment is None:
        return ""
    local = to_local(moment, zone_name)
    return _local_date_text(local.date(), locale)


# Babel takes tens of µs a date, and a page shows the same few again and again (a session's
# start in every cart that books it, an order list's days): each text is made once, in a
# bounded cache (memory stays flat). A date's text is the local day's alone.
FORMATTED_MOMENTS = 4096


@lru_cache(maxsize=FORMATTED_MOMENTS)
def _local_datetime_text(moment: datetime, zone_name: str, locale: str) -> str:
    local = to_local(moment, zone_name)
    day = format_skeleton(DAY_SKELETON, local, locale=locale)
    return f"{day}, {format_time(local, TIME_PATTERN, locale=locale)}"


@lru_cache(maxsize=FORMATTED_MOMENTS)
def _local_date_text(day: date, locale: str) -> str:
    return str(format_skeleton(DATE_SKELETON, day, locale=locale))
