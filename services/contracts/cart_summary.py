"""The summary of a cart: what the cart domain tells the other domains, and, dumped as it is,
the internal API's JSON answer (`GET /internal/cart/summary`, amounts as strings with 2 places).

Its fields are the summary statement's column labels (services/sql/cart_impl.py), so a new
figure is a column there and a field here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    computed_field,
)

from lib.money import ZERO, amount_text, cents

AMOUNT_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"
# An amount summed by the database (NULL when there was nothing), with two places; a string
# with two places in JSON.
Amount = Annotated[
    Decimal,
    BeforeValidator(lambda value: ZERO if value is None else value),
    AfterValidator(cents),
    PlainSerializer(amount_text, return_type=str),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["12.50"]}),
]
Count = Annotated[int, Field(ge=0)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["GBP"])]


class CartSummary(BaseModel):
    """Counts and totals of one cart (products, bookings, tickets), amounts with 2 places."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_serialization_defaults_required=True
    )

    count: Count = 0
    total: Amount = ZERO
    calendar_count: Count = 0
    calendar_total: Amount = ZERO
    # Seed 004 adds the tickets.
    ticket_count: Count = 0
    ticket_total: Amount = ZERO
    currency: Currency = "GBP"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def grand_total(self) -> Amount:
        return cents(self.total + self.calendar_total + self.ticket_total)

    @property
    def badge_count(self) -> int:
        """What the cart-mini badge shows: products (by quantity), bookings and tickets."""
        return self.count + self.calendar_count + self.ticket_count
