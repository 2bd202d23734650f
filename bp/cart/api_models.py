"""The internal API's requests and answers as pydantic models: they validate what other coop
apps send and describe, in the OpenAPI document, the JSON shapes DESIGN.md fixes."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from bp.cart.services.identity import (
    ADOPTION_EXAMPLE,
    SESSION_ID_PATTERN,
    session_id_from_json,
    user_id_from_json,
)
from bp.cart.services.refunds import MAX_AMOUNT, REFUND_AMOUNT_PATTERN, parse_refund_amount
from lib.error_codes import ErrorCode
from lib.errors import BadRequest, ServiceError
from lib.ids import BIGINT_MAX
from lib.validation import RequestBody, checked_by

USER_ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": BIGINT_MAX}
SESSION_ID_SCHEMA = {"type": "string", "pattern": SESSION_ID_PATTERN.pattern}
AMOUNT_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"
# Money in JSON: a string with two places.
Amount = Annotated[str, Field(pattern=AMOUNT_PATTERN, examples=["12.50"])]
Count = Annotated[int, Field(ge=0)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["GBP"])]


class Answer(BaseModel):
    """An answer of the internal API: exactly these fields."""

    model_config = ConfigDict(extra="forbid")


def _without_default(schema: dict[str, Any]) -> None:
    # A query parameter left out is absent, not null.
    schema.pop("default", None)


class IdentityQuery(BaseModel):
    """Whose cart: a signed-in `user_id` or an anonymous `session_id`, exactly one.

    In the document one query object (`style: form`, exploded: `?user_id=5`) whose schema
    says "exactly one of the two", which separate parameters cannot say."""

    model_config = ConfigDict(
        json_schema_extra={"minProperties": 1, "maxProperties": 1, "additionalProperties": False}
    )
    query_object: ClassVar[str] = "identity"

    user_id: Annotated[int | None, WithJsonSchema(USER_ID_SCHEMA)] = Field(
        default=None, json_schema_extra=_without_default
    )
    session_id: Annotated[str | None, WithJsonSchema(SESSION_ID_SCHEMA)] = Field(
        default=None, json_schema_extra=_without_default
    )


class FragmentIdentityQuery(IdentityQuery):
    """Whose cart a fragment shows: at most one of `user_id` and `session_id` (with the
    token); neither is the browser's own cart, from its session cookie."""

    model_config = ConfigDict(
        json_schema_extra={"maxProperties": 1, "additionalProperties": False}
    )


class AdoptRequest(RequestBody):
    """The account app's sign-in: the anonymous cart `session_id` now belongs to `user_id`."""

    json_example: ClassVar[str] = ADOPTION_EXAMPLE

    @classmethod
    def missing(cls, field: str) -> ServiceError:
        """The error of an adoption without its user or its session."""
        return BadRequest(ErrorCode.MISSING_IDENTITY, both=True)

    user_id: Annotated[int, checked_by(user_id_from_json), WithJsonSchema(USER_ID_SCHEMA)]
    session_id: Annotated[str, checked_by(session_id_from_json), WithJsonSchema(SESSION_ID_SCHEMA)]


class Adoption(Answer):
    """What the user was given: units of products, bookings, tickets, unpaid orders."""

    items: Count
    entries: Count
    tickets: Count
    orders: Count


class RefundRequest(RequestBody):
    """How much to refund; without `amount` (or with an empty body), what the order could not
    deliver, or all of it."""

    json_example: ClassVar[str] = ', e.g. {"amount": "12.50"}'

    amount: Annotated[
        Decimal | None,
        checked_by(parse_refund_amount),
        WithJsonSchema(
            {
                "oneOf": [
                    {"type": "string", "pattern": REFUND_AMOUNT_PATTERN},
                    {"type": "integer", "minimum": 1, "maximum": int(MAX_AMOUNT) - 1},
                    {"type": "null", "description": "The default: as if left out."},
                ],
                "examples": ["12.50"],
            }
        ),
    ] = None


class Refund(Answer):
    """A refund SumUp made, as recorded on the order."""

    order_id: Annotated[int, Field(ge=1)]
    refunded_amount: Amount
    currency: Currency
    refunded_at: Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
