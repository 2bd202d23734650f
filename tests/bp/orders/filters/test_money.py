"""The templates' `money` filter: an amount with its currency, or the site's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from quart import render_template_string


async def test_templates_use_it_with_a_currency_or_the_sites(app: Any) -> None:
    async with app.test_request_context("/"):
        assert await render_template_string("{{ x | money('EUR') }}", x=Decimal("2.5")) == "€2.50"
        assert await render_template_string("{{ x | money }}", x=Decimal("2.5")) == "£2.50"
