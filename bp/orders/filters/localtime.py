"""The templates' time filters, in the coop's zone and locale (lib/localtime.py):
`{{ moment | local_datetime }}` ("Sat 28 Mar 2026, 19:00 GMT"), `{{ moment | local_date }}` and
`{{ moment | local_time }}` ("19:42 GMT")."""

from __future__ import annotations

from datetime import datetime

from jinja2 import Environment, pass_environment

from bp.orders.blueprint import bp
from bp.runtime import template_settings
from lib.localtime import format_local_date, format_local_datetime, format_local_time


@bp.app_template_filter("local_datetime")
@pass_environment
def local_datetime(environment: Environment, moment: datetime | None) -> str:
    """Day, date, time and zone in the coop's time zone."""
    settings = template_settings(environment)
    return format_local_datetime(moment, zone_name=settings.time_zone, locale=settings.locale)


@bp.app_template_filter("local_date")
@pass_environment
def local_date(environment: Environment, moment: datetime | None) -> str:
    """The date in the coop's time zone."""
    settings = template_settings(environment)
    return format_local_date(moment, zone_name=settings.time_zone, locale=settings.locale)


@bp.app_template_filter("local_time")
@pass_environment
def local_time(environment: Environment, moment: datetime | None) -> str:
    """The clock time and zone in the coop's time zone."""
    settings = template_settings(environment)
    return format_local_time(moment, zone_name=settings.time_zone, locale=settings.locale)
