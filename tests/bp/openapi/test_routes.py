"""GET /internal/openapi.json: a valid OpenAPI 3 document of the internal API, behind the
token, and the live answers of every operation conform to it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_document
from quart import Quart, Response
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from lib.idempotency import fingerprint
from tests.support import factories as f
from tests.support.checkout import (
    only_order,
    payments_config,
    post_checkout,
    shop_with_cart,
    text,
)
from tests.support.http import internal_headers, sign_in
from tests.support.standin import StandinControl

DOCUMENT = "/internal/openapi.json"
OPERATIONS = {
    ("get", "/internal/cart/summary"),
    ("post", "/internal/cart/adopt"),
    ("post", "/internal/cart/orders/{order_id}/refund"),
    ("get", "/internal/fragments/cart-mini"),
    ("get", "/internal/fragments/waiting-order"),
    ("get", "/internal/fragments/account-nav-item"),
}
DOCUMENT_URI = "urn:rose-ash:cart:openapi"
# Routes quart-schema would add by default; none may exist.
QUART_SCHEMA_ENDPOINTS = {"openapi", "redoc_ui", "scalar_ui", "swagger_ui"}


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin, app_env="development")


def pointer(*parts: str) -> str:
    """A JSON pointer to the parts (escaped as RFC 6901 says)."""
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class Contract:
    """The live document, and the answers checked against it."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)
        self.checked: set[tuple[str, str, int]] = set()

    async def check(self, method: str, path: str, response: Any) -> None:
        """The answer's status, media type, body and headers are the documented ones."""
        status = response.status_code
        responses = self.document["paths"][path][method]["responses"]
        assert str(status) in responses, f"{method} {path}: {status} is not documented"
        documented = responses[str(status)]
        media = response.mimetype
        assert media in documented["content"], f"{method} {path} {status}: {media}"
        body = await response.get_data(as_text=True)
        schema = {
            "$ref": DOCUMENT_URI
            + "#"
            + pointer("paths", path, method, "responses", str(status), "content", media, "schema")
        }
        instance = json.loads(body) if media == "application/json" else body
        OAS31Validator(schema, registry=self.registry).validate(instance)
        for header in ("Idempotent-Replayed", "Retry-After"):
            if header in response.headers:
                assert header in documented.get("headers", {}), (method, path, status, header)
        self.checked.add((method, path, status))


@pytest.fixture
async def contract(app: Quart) -> Contract:
    response = await app.test_client().get(DOCUMENT, headers=internal_headers(app))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return Contract(await response.get_json())


def test_quart_schema_adds_no_route_of_its_own(app: Quart) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    documents = [rule.rule for rule in app.url_map.iter_rules() if "openapi" in rule.rule]
    assert endpoints.isdisjoint(QUART_SCHEMA_ENDPOINTS)
    assert documents == [DOCUMENT]
    assert not any(r.rule in {"/docs", "/redocs", "/scalar"} for r in app.url_map.iter_rules())


async def test_the_document_needs_the_token(app: Quart, client: Any) -> None:
    missing = await client.get(DOCUMENT)
    wrong = await client.get(DOCUMENT, headers={"Authorization": "Bearer wrong"})

    assert missing.status_code == wrong.status_code == 401
    assert (await missing.get_json())["error"]["code"] == "UNAUTHORIZED"


async def test_the_document_is_valid_openapi_of_exactly_the_internal_api(
    contract: Contract,
) -> None:
    document = contract.document

    validate_document(document)
    assert document["openapi"].startswith("3.")
    found = {(m, p) for p, operations in document["paths"].items() for m in operations}
    assert found == OPERATIONS
    adopt = document["paths"]["/internal/cart/adopt"]["post"]
    assert set(adopt["requestBody"]["content"]["application/json"]["schema"]["required"]) == {
        "user_id",
        "session_id",
    }
    assert {"Idempotency-Key"} <= {p["name"] for p in adopt["parameters"]}
    summary = document["paths"]["/internal/cart/summary"]["get"]
    # One exploded query object, whose schema says "exactly one of user_id and session_id".
    (identity,) = summary["parameters"]
    assert (identity["in"], identity["style"], identity["explode"]) == ("query", "form", True)
    assert set(identity["schema"]["properties"]) == {"user_id", "session_id"}
    assert identity["schema"]["minProperties"] == identity["schema"]["maxProperties"] == 1
    assert {"400", "401", "429", "503"} <= set(summary["responses"])
    assert document["components"]["securitySchemes"]["internalToken"]["scheme"] == "bearer"


async def paid_order_id(app: Quart, db: AsyncSession, control: StandinControl) -> int:
    client = app.test_client()
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    assert (await post_checkout(app, client, "bakery")).status_code == 303
    order = await only_order(db)
    await control.pay(str(order.sumup_checkout_id))
    assert "Thank you" in await text(await client.get(f"/checkout/return/{order.id}/"))
    return order.id


def keyed(app: Quart, key: str) -> dict[str, str]:
    return {**internal_headers(app), "Idempotency-Key": key}


async def test_live_answers_of_every_operation_conform_to_the_document(
    app: Quart,
    client: Any,
    db: AsyncSession,
    contract: Contract,
    sumup_standin_control: StandinControl,
) -> None:
    token = internal_headers(app)
    page = await f.page(db, "allotment")
    await f.cart_item(db, await f.product(db, page, "Trowel", "7.25"), user_id=5, quantity=2)
    await f.cart_item(db, await f.product(db, page, "Seeds", "1.10"), session_id="anon-c1")

    summary = "/internal/cart/summary"
    for query, headers in [("user_id=5", token), ("", token), ("user_id=5", {})]:
        response = await client.get(f"{summary}?{query}", headers=headers)
        await contract.check("get", summary, response)

    adopt = "/internal/cart/adopt"
    body = {"user_id": 5, "session_id": "anon-c1"}
    for sent, headers in [
        (body, keyed(app, "c-1")),
        (body, keyed(app, "c-1")),  # replayed
        ({**body, "user_id": 6}, keyed(app, "c-1")),  # 422
        ({"user_id": "5", "session_id": "anon-c1"}, token),
        (body, {}),
    ]:
        await contract.check("post", adopt, await client.post(adopt, json=sent, headers=headers))
    # A request still running under the key: its claim, as the first request leaves it.
    claim = {"state": "running", "fingerprint": fingerprint("POST", adopt, json.dumps(body))}
    await runtime(app).redis.cart.set("idempotency:internal_cart.adopt:c-2", json.dumps(claim))
    await contract.check(
        "post", adopt, await client.post(adopt, json=body, headers=keyed(app, "c-2"))
    )

    order_id = await paid_order_id(app, db, sumup_standin_control)
    refund = "/internal/cart/orders/{order_id}/refund"
    for target, sent, headers in [
        (order_id, {"amount": "1.00"}, keyed(app, "r-1")),
        (order_id, {"amount": "1.00"}, keyed(app, "r-1")),  # replayed
        (order_id, {"amount": "1.00"}, token),  # 409: already refunded
        (order_id, {"amount": "1.234"}, token),
        (987654, {}, token),
        (order_id, {}, {}),
    ]:
        path = refund.format(order_id=target)
        response = await client.post(path, json=sent, headers=headers)
        await contract.check("post", refund, response)

    for fragment in (
        "/internal/fragments/cart-mini",
        "/internal/fragments/waiting-order",
        "/internal/fragments/account-nav-item",
    ):
        for query, headers in [("user_id=5", token), ("user_id=0", token), ("user_id=5", {})]:
            response = await client.get(f"{fragment}?{query}", headers=headers)
            await contract.check("get", fragment, response)

    statuses: dict[tuple[str, str], set[int]] = {operation: set() for operation in OPERATIONS}
    for method, path, status in contract.checked:
        statuses[(method, path)].add(status)
    assert statuses == {
        ("get", summary): {200, 400, 401},
        ("post", adopt): {200, 400, 401, 409, 422},
        ("post", refund): {200, 400, 401, 404, 409},
        ("get", "/internal/fragments/cart-mini"): {200, 400, 401},
        ("get", "/internal/fragments/waiting-order"): {200, 400, 401},
        ("get", "/internal/fragments/account-nav-item"): {200, 400, 401},
    }


@pytest.mark.parametrize(
    "answer",
    ["<p>Your cart</p>", "", ("<p>Gone</p>", 410), {"count": 2}, ("Moved", 302, {"Location": "/"})],
)
async def test_a_views_answer_becomes_the_response_quart_would_make_of_it(
    app: Quart, answer: Any
) -> None:
    async with app.test_request_context("/"):
        made = await app.make_response(answer)
        quarts = await Quart.make_response(app, answer)

    assert isinstance(made, Response) and isinstance(quarts, Response)
    assert made.status_code == quarts.status_code
    assert list(made.headers.items()) == list(quarts.headers.items())
    assert await made.get_data() == await quarts.get_data()
