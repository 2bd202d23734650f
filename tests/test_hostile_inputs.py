"""Every route fed hostile ids, slugs, queries, forms and bodies: a 4xx or a page, never a 5xx."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
from quart import Quart
from werkzeug.datastructures import Headers

from app import create_app
from bp.runtime import runtime
from tests.support import factories as f
from tests.support.http import csrf_token, internal_headers, sign_in, write_shared_session

HOSTILE_SEGMENTS = [
    "0",
    "-1",
    "1.5",
    "abc",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999999999",
    "%00",
    "..%2F..%2Fetc",
    "%E2%80%AE%F0%9F%9B%92",
    "x" * 300,
    "'%20OR%201=1--",
]
HOSTILE_QUERIES = [
    "",
    "?page=-1&status=nope&q=%25%5F",
    "?page=99999999999999999999&q=" + "x" * 500,
    "?user_id=abc&session_id=" + "s" * 100,
    "?user_id=-3",
    "?user_id=1&session_id=both",
    "?next=//evil.example&quantity=%00",
    "?q=%00&status=%00&page=%00&user_id=%00&session_id=%00",
    "?next=/%0d%0aX:1",
    "?next=/%09/evil.example&poll=%F0%9F%9B%92",
]
HOSTILE_FORMS: list[dict[str, str]] = [
    {},
    {"quantity": "-5"},
    {"quantity": "1e9"},
    {"quantity": "99999999999999999999999"},
    {"quantity": "NaN"},
    {"quantity": "٣"},
    {"quantity": ""},
    {"user_id": "1 OR 1=1", "quantity": "2"},
]
HOSTILE_BODIES: list[Any] = [
    "",
    "not json",
    [],
    {"user_id": True, "session_id": 5},
    {"user_id": 2**70, "session_id": "x"},
    {"event_type": "CHECKOUT_STATUS_CHANGED", "id": {"nested": 1}},
    {"amount": "-1"},
    {"amount": "1e400"},
    {"amount": "1_000"},
    {"amount": "\uff11\uff12"},
    {"amount": "12.50\n"},
    {"amount": 12.0},
    {"user_id": 1.0, "session_id": "x"},
    "[" * 60_000,
    '{"a":' * 12_000,
]
# What another app may have left in the shared session under the keys the cart reads.
HOSTILE_SESSIONS: list[dict[str, Any]] = [
    {"user_id": "²"},
    {"user_id": "\uff11\uff12"},  # fullwidth digits
    {"user_id": 1e23},
    {"user_id": 10**23},
    {"user_id": "9" * 40},
    {"user_id": [1]},
    {"user_id": {"id": 1}},
    {"user_id": None, "user_name": ["x"]},
    {"cart_sid": ["x"], "user_name": 7},
    {"cart_sid": "x" * 5000},
]
NON_ASCII_TOKENS = ["é" * 20, "токен", "☃"]
# Methods no route has, and headers a proxy, a staging site or a prober may add.
ODD_METHODS = ["PUT", "PATCH", "DELETE", "TRACE"]
ODD_HEADERS: list[list[tuple[str, str]]] = [
    [("X-Forwarded-For", "198.51.100.1"), ("X-Forwarded-For", "203.0.113.7, not-an-ip")],
    [("Authorization", "Basic c3RhZ2luZzpzZWNyZXQ=")],
    [("Authorization", "Bearer")],
    [("Authorization", "Bearer " + "é" * 10)],
    [("Authorization", "Negotiate x"), ("Authorization", "Bearer y")],
]
CONVERTER = re.compile(r"<(?:[a-z]+(?:\([^)]*\))?:)?[a-z_]+>")


@pytest.fixture
async def dev_app(app_config: dict[str, Any], clean_state: None) -> AsyncIterator[Quart]:
    application = create_app({**app_config, "app_env": "development"})
    async with application.test_app():
        async with runtime(application).databases.sessionmaker() as db:
            await f.product(db, await f.page(db, "bakery"))
        yield application


def paths(app: Quart) -> list[tuple[str, str]]:
    """(method, path) for every rule, each converter filled with every hostile segment."""
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if not CONVERTER.search(rule.rule):
                out.append((method, rule.rule))
                continue
            out += [(method, CONVERTER.sub(segment, rule.rule)) for segment in HOSTILE_SEGMENTS]
    return out


def requests(
    client: Any, method: str, url: str, headers: dict[str, str], token: str
) -> list[Awaitable[Any]]:
    """Every hostile request to one URL: a GET, or POSTs with hostile forms and bodies."""
    if method == "GET":
        return [client.get(url, headers=headers)]
    forms = [
        client.post(url, form={**form, "csrf_token": token}, headers=headers)
        for form in HOSTILE_FORMS
    ]
    json_headers = {**headers, "X-CSRF-Token": token, "Content-Type": "application/json"}
    bodies = [
        client.post(
            url, headers=json_headers, data=body if isinstance(body, str) else json.dumps(body)
        )
        for body in HOSTILE_BODIES
    ]
    return forms + bodies


async def test_no_route_answers_a_server_error_to_hostile_input(dev_app: Quart) -> None:
    client = dev_app.test_client()
    await sign_in(dev_app, client, 1)
    token = csrf_token(dev_app, client)
    # With the internal token too, so that the internal routes' validation is reached.
    headers = internal_headers(dev_app)
    failures = []
    for method, path in paths(dev_app):
        for query in HOSTILE_QUERIES:
            for request in requests(client, method, path + query, headers, token):
                response = await request
                if response.status_code >= 500:
                    failures.append(f"{method} {(path + query)[:120]} -> {response.status_code}")
    routes = sorted({failure.split("?")[0].split(" -> ")[0] for failure in failures})
    assert failures == [], "\n".join(routes)


async def test_no_route_answers_a_server_error_to_a_non_ascii_csrf_token(dev_app: Quart) -> None:
    client = dev_app.test_client()
    await sign_in(dev_app, client, 1)
    failures = []
    for method, path in paths(dev_app):
        if method != "POST":
            continue
        for token in NON_ASCII_TOKENS:
            for response in (
                await client.post(path, form={"csrf_token": token}),
                await client.post(path, headers={"X-CSRF-Token": token.encode().decode("latin-1")}),
            ):
                if response.status_code >= 500:
                    failures.append(f"POST {path[:120]} -> {response.status_code}")
    assert failures == [], "\n".join(sorted(set(failures)))


@pytest.mark.parametrize("stored", HOSTILE_SESSIONS, ids=repr)
async def test_no_page_answers_a_server_error_to_a_hostile_shared_session(
    dev_app: Quart, stored: dict[str, Any]
) -> None:
    client = dev_app.test_client()
    sid = await write_shared_session(dev_app, stored)
    client.set_cookie("localhost", runtime(dev_app).settings.session_cookie_name, sid)
    failures = []
    for method, path in paths(dev_app):
        if method == "GET" and not path.startswith("/static/"):
            response = await client.get(path)
            if response.status_code >= 500:
                failures.append(f"GET {path[:120]} -> {response.status_code}")
    assert failures == [], "\n".join(sorted(set(failures)))


async def test_a_method_no_route_has_is_a_405_naming_the_methods_it_has(dev_app: Quart) -> None:
    client: Any = dev_app.test_client()
    failures = []
    for rule in dev_app.url_map.iter_rules():
        path = CONVERTER.sub("1", rule.rule)
        for method in ODD_METHODS:
            if method in (rule.methods or set()):
                continue
            response = await client.open(path, method=method)
            if response.status_code >= 500:
                failures.append(f"{method} {path} -> {response.status_code}")
            elif response.status_code == 405 and "Allow" not in response.headers:
                failures.append(f"{method} {path} -> 405 without Allow")
    assert failures == [], "\n".join(sorted(set(failures)))


@pytest.mark.parametrize("headers", ODD_HEADERS, ids=repr)
async def test_no_page_answers_a_server_error_to_odd_headers(
    dev_app: Quart, headers: list[tuple[str, str]]
) -> None:
    client = dev_app.test_client()
    failures = []
    for method, path in paths(dev_app):
        if method == "GET" and not path.startswith("/static/"):
            response = await client.get(path, headers=Headers(headers))
            if response.status_code >= 500:
                failures.append(f"GET {path[:120]} -> {response.status_code}")
    assert failures == [], "\n".join(sorted(set(failures)))
