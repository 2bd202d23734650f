"""The templates' time filters, in the coop's zone and locale (lib/localtime.py):
`{{ moment | local_datetime }}` ("Sat 28 Mar 2026, 19:00 GMT"), `{{ moment | local_date }}` and
`{{ moment | local_time }}` ("19:42 GMT")."""

from __future__ import annotations

from datetime import datetime

from bp.orders.blueprint import bp
from bp.runtime import current_runtime
from lib.localtime import format_local_date, format_local_datetime, format_local_time


@bp.app_template_filter("local_datetime")
def local_datetime(moment: datetime | None) -> str:
    """Day, date, time and zone in the coop's time zone."""
    settings = current_runtime().settings
    return format_local_datetime(moment, zone_name=settings.time_zone, locale=settings.locale)


@bp.app_template_filter("local_date")
def local_date(moment: datetime | None) -> str:
    """The date in the coop's time zone."""
    settings = current_runtime().settings
    return format_local_date(moment, zone_name=settings.time_zone, locale=settings.locale)


@bp.app_template_filter("local_time")
def local_time(moment: datetime | None) -> str:
    """The clock time and zone in the coop's time zone."""
    settings = current_runtime().settings
    return format_local_time(moment, zone_name=settings.time_zone, locale=settings.locale)
