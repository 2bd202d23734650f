"""JSON request bodies validated by pydantic models, refused through the one error mapping.

`validate_body(Model)` reads the body (a hostile one too: too deep, not JSON), validates it
with the model and hands the view `data=<the model>`; it also documents the body in the
OpenAPI document (quart-schema's `document_request`). A body that does not validate is a
ServiceError 400 naming the field: a field's own check (`checked_by`) gives its code and
message; pydantic's own errors become MISSING_FIELD (or the model's `missing_code`) and
INVALID_INPUT with the field's name.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError
from pydantic_core import PydanticCustomError
from quart import Response, request
from quart_schema import document_request

from lib.errors import BadRequest, ServiceError
from lib.json_body import loads_or_none

T = TypeVar("T")
View = Callable[..., Awaitable[Response]]
# A ServiceError code, as a field's check reports it (pydantic's own are snake_case).
SERVICE_CODE = re.compile(r"[A-Z][A-Z0-9_]*")
NOT_AN_OBJECT = frozenset({"model_type", "model_attributes_type", "dict_type"})


class RequestBody(BaseModel):
    """A JSON object sent to the internal API. Unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    # What to tell a caller whose body is not a JSON object, and the code of a missing field.
    not_an_object: ClassVar[str] = "Send a JSON object."
    missing_code: ClassVar[str] = "MISSING_FIELD"


def checked_by(check: Callable[[Any], T]) -> PlainValidator:
    """A field validated by `check`, which raises ServiceError: its code and message become
    the field's error."""

    def validate(value: Any) -> T:
        try:
            return check(value)
        except ServiceError as error:
            raise PydanticCustomError(error.code, error.message) from None

    return PlainValidator(validate)


def body_error(model: type[RequestBody], error: ValidationError) -> BadRequest:
    """The first problem of the body, as the caller should read it."""
    first = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"])
    kind = first["type"]
    if SERVICE_CODE.fullmatch(kind):
        return BadRequest(first["msg"], code=kind)
    if not field or kind in NOT_AN_OBJECT:
        return BadRequest(model.not_an_object, code="INVALID_JSON")
    if kind == "missing":
        return BadRequest(f"{field} is required. {model.not_an_object}", code=model.missing_code)
    return BadRequest(f"{field}: {first['msg']}.", code="INVALID_INPUT")


def validate_body(model: type[RequestBody], *, optional: bool = False) -> Callable[[View], View]:
    """Validate the JSON body with `model` and pass it to the view as `data`; an empty body
    counts as `{}` when the body is `optional`."""

    def decorator(view: View) -> View:
        document_request(model)(view)

        @wraps(view)
        async def wrapper(*args: Any, **kwargs: Any) -> Response:
            raw = await request.get_data()
            value = {} if optional and not raw.strip() else loads_or_none(raw)
            if value is None:
                raise BadRequest(model.not_an_object, code="INVALID_JSON")
            try:
                data = model.model_validate(value)
            except ValidationError as error:
                raise body_error(model, error) from None
            return await view(*args, data=data, **kwargs)

        return wrapper

    return decorator
