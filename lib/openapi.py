"""The internal API's OpenAPI 3 document, built by quart-schema from the routes' models.

Only the routes marked with `api_errors` are in it (the internal JSON API and the fragments
other apps call); quart-schema serves nothing of its own (no /openapi.json, /docs, /redocs or
/scalar): the document is served at /internal/openapi.json behind the internal token
(bp/openapi). On top of what quart-schema writes, each operation gets its errors (the one JSON
error shape of lib/error_handlers.py, or an HTML page for the fragments), the
`Idempotency-Key` header where the route takes one, and `Retry-After` where it is sent.

A querystring model naming `query_object` becomes one exploded `form` object parameter, so
that its schema can say what separate parameters cannot (exactly one of two, at most one):
a client generator sends each property as its own `?name=value`, as the server reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict
from quart import Quart, Response
from quart_schema import QuartSchema, document_response
from quart_schema.openapi import HttpSecurityScheme, Info, OpenAPIProvider
from quart_schema.typing import Model
from werkzeug.routing import Rule
from werkzeug.wrappers import Response as WerkzeugResponse

from lib.idempotency import HEADER, MAX_KEY_LENGTH, REPLAYED_HEADER, is_idempotent

F = TypeVar("F", bound=Callable[..., Any])
DOCUMENTED_ATTRIBUTE = "_openapi_errors"
HTML_ATTRIBUTE = "_openapi_html"
SECURITY_SCHEME = "internalToken"
COMPONENT_REF = "#/components/schemas/{model}"
ERROR_REF = {"$ref": COMPONENT_REF.format(model="ErrorResponse")}
ERROR_DESCRIPTIONS = {
    400: "The input is invalid; the message names the field.",
    401: "The internal token is missing or wrong.",
    404: "There is no such thing.",
    409: "The request conflicts with the state of the thing (or with a request still running "
    "under the same Idempotency-Key, or with a concurrent change); the message says which. "
    "Retry-After is sent when the same request may succeed later.",
    413: "The body is too large.",
    422: "The Idempotency-Key was used for another request.",
    429: "Too many requests; retry after Retry-After seconds.",
    503: "A server this one needs is unreachable; retry after Retry-After seconds.",
}
# What an object query parameter's schema may say about the object as a whole.
OBJECT_CONSTRAINTS = ("minProperties", "maxProperties", "additionalProperties", "required")
# Statuses that carry Retry-After (a 409 only when retrying can help).
RETRY_AFTER_STATUSES = (409, 429, 503)


class ErrorDetail(BaseModel):
    """What went wrong: a SCREAMING_SNAKE code for programs, a message for people."""

    model_config = ConfigDict(extra="forbid")

    code: str
    message: str


class ErrorResponse(BaseModel):
    """An error, as every internal JSON route answers it."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


def api_errors(*statuses: int, html: bool = False) -> Callable[[F], F]:
    """Put the route in the document with these error answers (HTML ones when `html`)."""

    def decorator(view: F) -> F:
        for status in statuses:
            document_response(ErrorResponse, status)(view)
        setattr(view, DOCUMENTED_ATTRIBUTE, tuple(statuses))
        setattr(view, HTML_ATTRIBUTE, html)
        return view

    return decorator


def install_openapi(app: Quart, *, title: str, version: str, description: str) -> None:
    """quart-schema on `app`, serving no route of its own."""
    QuartSchema(
        app,
        openapi_path=None,
        redoc_ui_path=None,
        scalar_ui_path=None,
        swagger_ui_path=None,
        info=Info(title=title, version=version, description=description),
        security_schemes={SECURITY_SCHEME: HttpSecurityScheme(scheme="bearer")},
        security=[{SECURITY_SCHEME: []}],
        conversion_preference="pydantic",
        openapi_provider_class=InternalApiProvider,
    )
    _answer_responses_as_they_are(app)


def _answer_responses_as_they_are(app: Quart) -> None:
    """A view's Response goes out as it is, and a page's HTML as Quart makes a response of a
    string, as quart-schema would send them after looking for models in them (six config
    lookups and two searches per request): most answers of the service are pages, fragments
    and redirects."""
    converting = app.make_response
    response_class = app.response_class

    async def make_response(result: Any) -> Any:
        if isinstance(result, (Response, WerkzeugResponse)):
            return result
        if type(result) is str:
            return response_class(result)
        return await converting(result)

    app.make_response = make_response  # type: ignore[method-assign]


def openapi_document(app: Quart) -> dict[str, Any]:
    """The OpenAPI document of `app`'s internal API."""
    extension: QuartSchema = app.extensions["QUART_SCHEMA"]
    document: dict[str, Any] = extension.openapi_provider.schema()
    return document


class InternalApiProvider(OpenAPIProvider):
    """quart-schema's document, of the marked routes only, with their errors and headers."""

    def generate_rules(self) -> Iterable[Rule]:
        for rule in super().generate_rules():
            if hasattr(self._app.view_functions[rule.endpoint], DOCUMENTED_ATTRIBUTE):
                yield rule

    def build_querystring_parameters(
        self, model: type[Model]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        name = getattr(model, "query_object", None)
        if name is None or not (isinstance(model, type) and issubclass(model, BaseModel)):
            return super().build_querystring_parameters(model)
        schema = model.model_json_schema(ref_template=COMPONENT_REF)
        properties = {
            key: {k: v for k, v in value.items() if k != "title"}
            for key, value in schema["properties"].items()
        }
        object_schema = {
            "type": "object",
            "properties": properties,
            **{k: schema[k] for k in OBJECT_CONSTRAINTS if k in schema},
        }
        parameter = {
            "name": name,
            "in": "query",
            "style": "form",
            "explode": True,
            "required": schema.get("minProperties", 0) > 0,
            "description": schema.get("description", ""),
            "schema": object_schema,
        }
        return [parameter], schema.get("$defs", {})

    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        paths, components = super().build_paths(rule)
        view = self._app.view_functions[rule.endpoint]
        for operations in paths.values():
            for method, operation in operations.items():
                operations[method] = _finish(operation, view)
        # Every JSON error refers to the one shape, kept once among the components.
        error_schema = ErrorResponse.model_json_schema(ref_template=COMPONENT_REF)
        components.update(error_schema.pop("$defs", {}))
        components[ErrorResponse.__name__] = error_schema
        return paths, components


def _finish(operation: dict[str, Any], view: Callable[..., Any]) -> dict[str, Any]:
    """The errors' descriptions and media types, the headers, and who may call."""
    html = bool(getattr(view, HTML_ATTRIBUTE, False))
    responses: dict[Any, dict[str, Any]] = {}
    for status, response in operation["responses"].items():
        code = int(status)
        response = dict(response)
        if code >= 400:
            response["description"] = ERROR_DESCRIPTIONS.get(code, response["description"])
            response["content"] = {"application/json": {"schema": ERROR_REF}}
        if html:
            response["content"] = {"text/html": {"schema": {"type": "string"}}}
        if code in RETRY_AFTER_STATUSES:
            response["headers"] = {"Retry-After": _header("Seconds to wait.", "integer")}
        responses[str(code)] = response
    if html:
        responses["200"] = {
            "description": "An HTML snippet that never extends a layout.",
            "content": {"text/html": {"schema": {"type": "string"}}},
        }
        # The browser's own cart needs no token; naming a shopper does.
        operation["security"] = [{}, {SECURITY_SCHEME: []}]
    parameters = list(operation["parameters"])
    if is_idempotent(view):
        parameters.append(
            {
                "name": HEADER,
                "in": "header",
                "required": False,
                "description": "Repeat the request safely: a repeat with the same key and body "
                "gets the first answer again (kept 24 hours).",
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_KEY_LENGTH,
                    "pattern": "^[ -~]+$",
                },
            }
        )
        responses["200"]["headers"] = {
            REPLAYED_HEADER: _header("`true` when this is the kept answer of a repeat.", "string")
        }
    return {**operation, "parameters": parameters, "responses": responses}


def _header(description: str, kind: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": kind}}
