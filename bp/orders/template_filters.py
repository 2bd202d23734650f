"""Jinja filters the whole app uses: `{{ amount | money(currency) }}`."""

from __future__ import annotations

from decimal import Decimal

from quart import current_app

from bp.orders import bp
from bp.orders.filters.money import format_money


@bp.app_template_filter("money")
def money(amount: Decimal | int | str | None, currency: str | None = None) -> str:
    """An amount with its currency symbol; without a currency, the site's (settings.currency)."""
    if currency is None:
        currency = current_app.extensions["settings"].currency
    return format_money(amount, currency)
