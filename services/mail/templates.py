"""The mail templates' environment: the pages' templates folder and escaping, and their filters.

Mail is rendered by the background sender, outside any request, so it cannot use the app's
Jinja environment; this one is made the same way: HTML templates autoescaped as Quart's are
(by extension), plain-text templates (`.txt`) not, and the same `money` and `local_datetime`
filters, bound to the coop's currency, locale and zone.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from config.settings import Settings
from lib.localtime import format_local_date, format_local_datetime
from lib.money import format_money

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# Quart's own rule (Quart.select_jinja_autoescape): these extensions are escaped.
ESCAPED_EXTENSIONS = ("html", "htm", "xml", "xhtml", "svg")


def mail_environment(settings: Settings) -> Environment:
    """A Jinja environment for templates/mail/, with the pages' escaping and filters."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(ESCAPED_EXTENSIONS, default_for_string=True),
        # A misspelt name fails the send (and is retried) rather than mailing a blank.
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )

    def money(amount: Decimal | int | str | None, currency: str | None = None) -> str:
        return format_money(amount, currency or settings.currency, locale=settings.locale)

    def local_datetime(moment: datetime | None) -> str:
        return format_local_datetime(moment, zone_name=settings.time_zone, locale=settings.locale)

    def local_date(moment: datetime | None) -> str:
        return format_local_date(moment, zone_name=settings.time_zone, locale=settings.locale)

    environment.filters.update(money=money, local_datetime=local_datetime, local_date=local_date)
    return environment
