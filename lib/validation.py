"""JSON request bodies validated by pydantic models, refused through the one error mapping.

`validate_body(Model)` reads the body (a hostile one too: too deep, not JSON), validates it
with the model and hands the view `data=<the model>`; it also documents the body in the
OpenAPI document (quart-schema's `document_request`). A body that does not validate is a
ServiceError 400 naming the field: a field's own check (`checked_by`) gives its error;
pydantic's own errors become MISSING_FIELD (or the model's own `missing` error) and
INVALID_INPUT with the field's name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError
from pydantic_core import PydanticCustomError
from quart import Response, request
from quart_schema import document_request

from lib.error_codes import ErrorCode
from lib.errors import BadRequest, ServiceError
from lib.json_body import loads_or_none

T = TypeVar("T")
View = Callable[..., Awaitable[Response]]
# The type of a field error that carries a ServiceError of the field's own check.
SERVICE_ERROR = "service_error"
NOT_AN_OBJECT = frozenset({"model_type", "model_attributes_type", "dict_type"})


class RequestBody(BaseModel):
    """A JSON object sent to the internal API. Unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    # What follows "Send a JSON object" when the body is not one: an example, or nothing.
    json_example: ClassVar[str] = ""

    @classmethod
    def missing(cls, field: str) -> ServiceError:
        """The error of a body without the required `field`."""
        return BadRequest(ErrorCode.MISSING_FIELD, field=field, example=cls.json_example)


def checked_by(check: Callable[[Any], T]) -> PlainValidator:
    """A field validated by `check`, which raises ServiceError: that error is the body's."""

    def validate(value: Any) -> T:
        try:
            return check(value)
        except ServiceError as error:
            # The message is no template: pydantic is given the error itself to hand back.
            raise PydanticCustomError(
                SERVICE_ERROR, "{service_error}", {"service_error": error}
            ) from None

    return PlainValidator(validate)


def body_error(model: type[RequestBody], error: ValidationError) -> ServiceError:
    """The first problem of the body, as the caller should read it."""
    first = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"])
    kind = first["type"]
    carried = (first.get("ctx") or {}).get("service_error")
    if kind == SERVICE_ERROR and isinstance(carried, ServiceError):
        return carried
    if not field or kind in NOT_AN_OBJECT:
        return BadRequest(ErrorCode.INVALID_JSON, example=model.json_example)
    if kind == "missing":
        return model.missing(field)
    return BadRequest(ErrorCode.INVALID_INPUT, field=field, detail=first["msg"])


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
                raise BadRequest(ErrorCode.INVALID_JSON, example=model.json_example)
            try:
                data = model.model_validate(value)
            except ValidationError as error:
                raise body_error(model, error) from None
            return await view(*args, data=data, **kwargs)

        return wrapper

    return decorator
