"""Requests generated from /internal/openapi.json itself, as a sibling app's client generator
reads it: each candidate value is judged by the document's own schema, and the server must
accept every request the document allows and refuse (400) every one it does not; every answer
is one the document lists for its operation, and a method a path does not have is a 405 that
names the methods it has (`Allow`), in JSON.

The candidates are the document's examples and bounds with a fixed set of edge and hostile
values; whether a request is allowed is never written here, only read from the document."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS31Validator
from openapi_schema_validator._regex import has_ecma_regex
from quart import Quart
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import factories as f
from tests.support.http import internal_headers

DOCUMENT = "/internal/openapi.json"
DOCUMENT_URI = "urn:rose-ash:cart:openapi:generated"
# An order that does not exist: a refund the document allows is then a 404, not a 400.
NO_SUCH_ORDER = 987654
# What a query string can carry, as text.
QUERY_TEXTS = [
    "1",
    "5",
    "0",
    "-1",
    "01",
    "+1",
    " 1",
    "1 ",
    "1.0",
    "1e3",
    "abc",
    "",
    "\uff11\uff12",
    "²",
    "9223372036854775807",
    "9223372036854775808",
    "anon-c1",
    "a" * 64,
    "a" * 65,
    "a b",
    "a/b",
    "a.b",
    "%00",
    "5\n",
    "anon-c1\n",
]
# What a JSON body can carry.
JSON_VALUES: list[Any] = [
    0,
    1,
    5,
    -1,
    12,
    12.0,
    12.5,
    9999999999,
    10000000000,
    2**63 - 1,
    2**63,
    True,
    False,
    None,
    "",
    "1",
    "5",
    "0",
    "0.00",
    "0.5",
    "0.05",
    ".5",
    "12.5",
    "12.50",
    "12.505",
    "-0.01",
    "+1",
    "1_000",
    " 1",
    "1 ",
    "\uff11\uff12",
    "1e3",
    "NaN",
    "Infinity",
    "9999999999.99",
    "10000000000",
    "00012.50",
    "12.50\n",
    "anon-c1\n",
    "anon-c1",
    "a" * 64,
    "a" * 65,
    "a b",
    [],
    {},
    [5],
]
HEADER_TEXTS = ["k", "key-1", "x" * 255, "x" * 256, "", " ", "a b", "tab\there", "~!@#$%^&*()"]
UNSUPPORTED_METHODS = ("PUT", "PATCH", "DELETE", "TRACE")


class Document:
    """The live document, and a validator of values against any schema in it."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)

    def operation(self, method: str, path: str) -> dict[str, Any]:
        operation: dict[str, Any] = self.document["paths"][path][method]
        return operation

    def allows(self, schema: dict[str, Any], value: Any) -> bool:
        validator = OAS31Validator(schema, registry=self.registry)
        try:
            validator.validate(value)
        except ValidationError:
            return False
        return True

    def documented_statuses(self, method: str, path: str) -> set[int]:
        return {int(status) for status in self.operation(method, path)["responses"]}


def query_object(operation: dict[str, Any]) -> dict[str, Any]:
    """The operation's one exploded form object among its query parameters."""
    (parameter,) = [p for p in operation["parameters"] if p["in"] == "query"]
    assert parameter["style"] == "form" and parameter["explode"] is True
    return dict(parameter)


def read_as(schema: dict[str, Any], text: str) -> Any:
    """A query text as OpenAPI reads it for a property of this schema (an integer's digits
    become the integer; anything else stays text)."""
    if schema.get("type") == "integer" and re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    return text


def identity_candidates(parameter: dict[str, Any]) -> Iterator[dict[str, str]]:
    """Every property alone with every text, none, and each pair of valid-looking values."""
    names = list(parameter["schema"]["properties"])
    yield {}
    for name in names:
        for text in QUERY_TEXTS:
            yield {name: text}
    yield dict.fromkeys(names, "5")
    yield {names[0]: "5", names[1]: "anon-c1"}
    yield {names[1]: "anon-c1", names[0]: "abc"}


def body_candidates(schema: dict[str, Any]) -> Iterator[Any]:
    """Each property with every JSON value (the others at their first example or a value
    the document allows), each property left out, and bodies that are not objects."""
    properties = schema.get("properties", {})
    base = {name: example_of(prop) for name, prop in properties.items()}
    for name in properties:
        for value in JSON_VALUES:
            yield {**base, name: value}
        yield {k: v for k, v in base.items() if k != name}
    yield {}
    yield {**base, "unknown_field": 1}
    yield from ([], "text", 5, None, [base])


def example_of(schema: dict[str, Any]) -> Any:
    if "examples" in schema:
        return schema["examples"][0]
    if schema.get("type") == "integer":
        return max(1, schema.get("minimum", 1))
    return "anon-c1"


def test_patterns_are_judged_as_ecma_regular_expressions() -> None:
    # OpenAPI's patterns are ECMA-262's; without `regress` the validator would use Python's.
    assert has_ecma_regex()


@pytest.fixture
async def document(app: Quart, db: AsyncSession) -> Document:
    response = await app.test_client().get(DOCUMENT, headers=internal_headers(app))
    assert response.status_code == 200
    await f.cart_item(db, await f.product(db, await f.page(db, "bakery")), user_id=5)
    return Document(await response.get_json())


def verdicts(
    accepted: int, document: Document, method: str, path: str, tried: list[tuple[Any, bool, int]]
) -> list[str]:
    """What disagrees with the document: an allowed request not answered `accepted`, a
    forbidden one not refused with 400, or a status the operation does not list."""
    listed = document.documented_statuses(method, path)
    wrong = []
    for sent, allowed, status in tried:
        expected = accepted if allowed else 400
        if status != expected or status not in listed:
            verdict = "allows" if allowed else "forbids"
            wrong.append(f"{method.upper()} {path} {sent!r}: document {verdict}, got {status}")
    return wrong


@pytest.mark.parametrize(
    "path",
    [
        "/internal/cart/summary",
        "/internal/fragments/cart-mini",
        "/internal/fragments/waiting-order",
        "/internal/fragments/account-nav-item",
    ],
)
async def test_identity_queries_are_accepted_exactly_as_the_document_allows(
    app: Quart, document: Document, path: str
) -> None:
    parameter = query_object(document.operation("get", path))
    properties = parameter["schema"]["properties"]
    client = app.test_client()
    tried = []
    for candidate in identity_candidates(parameter):
        value = {name: read_as(properties[name], text) for name, text in candidate.items()}
        allowed = document.allows(parameter["schema"], value)
        if not candidate and parameter["required"]:
            allowed = False
        query = urlencode(candidate)
        response = await client.get(f"{path}?{query}", headers=internal_headers(app))
        tried.append((candidate, allowed, response.status_code))
    assert any(allowed for _, allowed, _ in tried) and not all(a for _, a, _ in tried)
    assert verdicts(200, document, "get", path, tried) == []


async def test_adoption_bodies_are_accepted_exactly_as_the_document_allows(
    app: Quart, document: Document
) -> None:
    path = "/internal/cart/adopt"
    schema = document.operation("post", path)["requestBody"]["content"]["application/json"][
        "schema"
    ]
    client = app.test_client()
    tried = []
    for body in body_candidates(schema):
        response = await client.post(
            path,
            data=json.dumps(body),
            headers={**internal_headers(app), "Content-Type": "application/json"},
        )
        tried.append((body, document.allows(schema, body), response.status_code))
    assert verdicts(200, document, "post", path, tried) == []


async def test_refund_bodies_are_accepted_exactly_as_the_document_allows(
    app: Quart, document: Document
) -> None:
    template = "/internal/cart/orders/{order_id}/refund"
    schema = document.operation("post", template)["requestBody"]["content"]["application/json"][
        "schema"
    ]
    client = app.test_client()
    tried = []
    for body in [*body_candidates(schema), "", None]:
        data = "" if body == "" else json.dumps(body)
        response = await client.post(
            template.format(order_id=NO_SUCH_ORDER),
            data=data,
            headers={**internal_headers(app), "Content-Type": "application/json"},
        )
        # An empty body is the document's "without a body" (the request body is optional).
        allowed = body == "" or document.allows(schema, body)
        tried.append((body, allowed, response.status_code))
    # Allowed, the order is looked for: there is none.
    assert verdicts(404, document, "post", template, tried) == []


async def test_idempotency_keys_are_accepted_exactly_as_the_document_allows(
    app: Quart, document: Document
) -> None:
    path = "/internal/cart/adopt"
    (header,) = [
        p for p in document.operation("post", path)["parameters"] if p["name"] == "Idempotency-Key"
    ]
    client = app.test_client()
    tried = []
    for n, key in enumerate(HEADER_TEXTS):
        body = {"user_id": 5, "session_id": f"anon-key-{n}"}
        response = await client.post(
            path, json=body, headers={**internal_headers(app), "Idempotency-Key": key}
        )
        tried.append((key, document.allows(header["schema"], key), response.status_code))
    assert verdicts(200, document, "post", path, tried) == []


async def test_every_documented_path_answers_a_method_it_lacks_with_405_and_allow(
    app: Quart, document: Document
) -> None:
    client: Any = app.test_client()
    for template, operations in document.document["paths"].items():
        path = template.format(order_id=NO_SUCH_ORDER)
        documented = {method.upper() for method in operations}
        for method in UNSUPPORTED_METHODS:
            if method in documented:
                continue
            response = await client.open(path, method=method, headers=internal_headers(app))
            assert response.status_code == 405, (method, path)
            allowed = {m.strip() for m in response.headers["Allow"].split(",")}
            assert documented <= allowed and method not in allowed, (method, path, allowed)
            body = await response.get_json()
            assert body["error"]["code"] == "METHOD_NOT_ALLOWED", (method, path)
