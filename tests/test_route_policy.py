"""Policy: every state-changing route is CSRF-protected, or internal and token-protected; every
route has a rate limit, or is deliberately exempt.

Walks the URL map of a development app (which has every blueprint, the storefront included).
SumUp's webhook is the one CSRF exemption: SumUp cannot send our token, and it is never trusted.
The health probes and static files are the rate-limit exemptions: a load balancer polls the
probes, and static files are cached for a year.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart
from werkzeug.routing import IntegerConverter, Rule

from app import create_app
from lib.csrf import is_exempt
from lib.internal_auth import requires_internal_token
from lib.rate_limits import rate_limits_of

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Argument names do not matter: the path shape does.
ALLOWED_EXEMPTIONS = {"/checkout/webhook/<>/"}
ERROR_CODE = re.compile(r'data-error-code="([A-Z_]+)"')
RATE_LIMIT_EXEMPTIONS = {"health.healthz", "health.readyz", "static"}
ONE_A_MINUTE = {
    "rate_limit_enabled": True,
    "rate_limit_pages": "1/minute",
    "rate_limit_writes": "1/minute",
    "rate_limit_checkout": "1/minute",
    "rate_limit_webhook": "1/minute",
    "rate_limit_webhook_per_order": "1/minute",
    "rate_limit_failed_tokens": "1/minute",
}


@pytest.fixture
async def dev_app(app_config: dict[str, Any], clean_state: None) -> AsyncIterator[Quart]:
    application = create_app({**app_config, "app_env": "development"})
    async with application.test_app():
        yield application


def unsafe_rules(app: Quart) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if UNSAFE & set(rule.methods or ())]


def plain_path(rule: Rule) -> str:
    """The rule's path with each argument reduced to `<>`."""
    return re.sub(r"<[^<>]+>", "<>", rule.rule)


def sample_path(app: Quart, rule: Rule, method: str = "POST") -> str:
    """A concrete URL for the rule: 1 for numbers, "bakery" for anything else."""
    values: dict[str, Any] = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        values[name] = 1 if isinstance(converter, IntegerConverter) else "bakery"
    adapter = app.url_map.bind("localhost")
    return str(adapter.build(rule.endpoint, values, method=method))


async def test_every_state_changing_route_is_protected(dev_app: Quart) -> None:
    rules = unsafe_rules(dev_app)
    assert any(plain_path(rule) == "/add/<>/" for rule in rules)
    for rule in rules:
        view = dev_app.view_functions[rule.endpoint]
        if requires_internal_token(view):
            assert rule.rule.startswith("/internal/"), rule.rule
            continue
        if is_exempt(view):
            assert plain_path(rule) in ALLOWED_EXEMPTIONS, f"{rule.rule} is exempt from CSRF"
        # Whatever is left is covered by the app-wide CSRF check.


async def test_shopper_posts_without_a_token_are_refused(dev_app: Quart) -> None:
    checked = 0
    for rule in unsafe_rules(dev_app):
        view = dev_app.view_functions[rule.endpoint]
        if requires_internal_token(view) or is_exempt(view):
            continue
        path = sample_path(dev_app, rule)
        client = dev_app.test_client()
        plain = await client.post(path, form={"quantity": "1"})
        fragment = await client.post(path, headers={"HX-Request": "true"})
        for response in (plain, fragment):
            body = await response.get_data(as_text=True)
            assert response.status_code == 403, path
            assert ERROR_CODE.findall(body) == ["CSRF_FAILED"], path
        checked += 1
    assert checked >= 8


async def test_internal_posts_without_the_token_are_refused(dev_app: Quart) -> None:
    internal = [
        rule
        for rule in unsafe_rules(dev_app)
        if requires_internal_token(dev_app.view_functions[rule.endpoint])
    ]
    assert internal
    for rule in internal:
        response = await dev_app.test_client().post(sample_path(dev_app, rule), json={})
        assert response.status_code == 401, rule.rule


async def test_a_forged_token_is_refused(dev_app: Quart) -> None:
    client = dev_app.test_client()
    response = await client.post(
        "/add/1/", headers={"X-CSRF-Token": "0" * 64}, form={"csrf_token": "0" * 64}
    )
    assert response.status_code == 403


async def test_every_route_has_a_rate_limit_or_is_deliberately_exempt(dev_app: Quart) -> None:
    endpoints = {rule.endpoint for rule in dev_app.url_map.iter_rules()}
    assert {"cart.add_to_cart", "cart.sumup_webhook", "static"} <= endpoints
    for endpoint in endpoints:
        limits = rate_limits_of(dev_app.view_functions[endpoint])
        if endpoint in RATE_LIMIT_EXEMPTIONS:
            assert limits == [], f"{endpoint} is meant to be exempt"
        else:
            assert limits, f"{endpoint} has no rate limit"


@pytest.fixture
async def one_a_minute_app(app_config: dict[str, Any], clean_state: None) -> AsyncIterator[Quart]:
    application = create_app({**app_config, "app_env": "development", **ONE_A_MINUTE})
    async with application.test_app():
        yield application


async def test_every_limited_route_answers_429_once_over_its_limit(
    one_a_minute_app: Quart,
) -> None:
    app = one_a_minute_app
    checked = 0
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            path = sample_path(app, rule, method).replace("/static/bakery", "/static/css/app.css")
            client = app.test_client()
            send = client.get if method == "GET" else client.post
            tries = 4 if rule.endpoint in RATE_LIMIT_EXEMPTIONS else 2
            answers = [await send(path) for _ in range(tries)]
            statuses = [answer.status_code for answer in answers]
            if rule.endpoint in RATE_LIMIT_EXEMPTIONS:
                assert 429 not in statuses, (method, rule.rule, statuses)
                continue
            assert statuses[0] != 429 and statuses[1] == 429, (method, rule.rule, statuses)
            assert int(answers[1].headers["Retry-After"]) >= 1, rule.rule
            checked += 1
    assert checked >= 25
