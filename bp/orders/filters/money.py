"""The templates' `money` filter: `{{ amount | money(currency) }}`, the site's currency by
default, in the coop's locale. The formatting itself is lib/money.py's, which services use too."""

from __future__ import annotations

from decimal import Decimal

from jinja2 import Environment, pass_environment

from bp.orders.blueprint import bp
from bp.runtime import template_settings
from lib.money import format_money


@bp.app_template_filter("money")
@pass_environment
def money(
    environment: Environment, amount: Decimal | int | str | None, currency: str | None = None
) -> str:
    """An amount with its currency symbol; without a currency, the site's (settings.currency)."""
    settings = template_settings(environment)
    return format_money(amount, currency or settings.currency, locale=settings.locale)
