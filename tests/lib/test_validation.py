"""Request bodies validated by pydantic models: every refusal a 400 through the one error
mapping, its message naming the field."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import pytest
from pydantic import ValidationError
from quart import Quart

from lib.error_codes import ErrorCode
from lib.errors import BadRequest, ServiceError
from lib.validation import RequestBody, body_error, checked_by
from tests.support.http import internal_headers

ADOPT = "/internal/cart/adopt"


def positive(value: Any) -> int:
    if isinstance(value, int) and value > 0:
        return value
    raise BadRequest(ErrorCode.INVALID_QUANTITY, bounds="above zero")


class Order(RequestBody):
    json_example: ClassVar[str] = ': {"count": N, "note": "…"}'

    count: Annotated[int, checked_by(positive)]
    note: str


def refusal(body: Any) -> ServiceError:
    with pytest.raises(ValidationError) as caught:
        Order.model_validate(body)
    return body_error(Order, caught.value)


def test_a_fields_own_check_gives_its_code_and_message() -> None:
    error = refusal({"count": -1, "note": "x"})
    assert (error.status, error.code, error.message) == (
        400,
        "INVALID_QUANTITY",
        "The quantity must be a whole number above zero.",
    )


def test_pydantics_own_errors_name_the_field() -> None:
    wrong_type = refusal({"count": 1, "note": ["x"]})
    missing = refusal({"count": 1})
    assert wrong_type.code == "INVALID_INPUT" and wrong_type.message.startswith("note: ")
    assert missing.code == "MISSING_FIELD" and missing.message.startswith("note is required.")


def test_a_body_that_is_not_an_object_says_what_to_send() -> None:
    error = refusal([1, 2])
    assert error.code == "INVALID_JSON"
    assert error.message == 'Send a JSON object: {"count": N, "note": "…"}.'


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ('{"user_id": 1}', "MISSING_IDENTITY", "session_id"),
        ('{"user_id": "1", "session_id": "s"}', "INVALID_USER_ID", "user_id"),
        ('{"user_id": 1, "session_id": {"a": 1}}', "INVALID_SESSION_ID", "session_id"),
        ('{"user_id": ' * 5000 + "1" + "}" * 5000, "INVALID_JSON", "user_id"),
        ("[" * 60_000, "INVALID_JSON", "user_id"),
        ('{"user_id": 1e400, "session_id": "s"}', "INVALID_USER_ID", "user_id"),
        ('{"user_id": 99999999999999999999999, "session_id": "s"}', "INVALID_USER_ID", "user_id"),
    ],
)
async def test_a_malformed_adoption_is_a_400_naming_the_field(
    app: Quart, client: Any, body: str, code: str, field: str
) -> None:
    response = await client.post(
        ADOPT, data=body, headers={**internal_headers(app), "Content-Type": "application/json"}
    )

    assert response.status_code == 400
    error = (await response.get_json())["error"]
    assert error["code"] == code and field in error["message"]


async def test_a_refund_amount_of_the_wrong_type_is_a_400_naming_it(
    app: Quart, client: Any
) -> None:
    response = await client.post(
        "/internal/cart/orders/1/refund", json={"amount": [1]}, headers=internal_headers(app)
    )

    assert response.status_code == 400
    error = (await response.get_json())["error"]
    assert error["code"] == "INVALID_AMOUNT" and "amount" in error["message"]
