"""Policy: every state-changing route is CSRF-protected, or internal and token-protected; every
route has a rate limit, or is deliberately exempt; every staff route answers anyone but the
coop's staff exactly as a path that does not exist.

Walks the URL map of a development app (which has every blueprint, the storefront included).
SumUp's webhook is the one CSRF exemption: SumUp cannot send our token, and it is never trusted.
The liveness probe and static files are the rate-limit exemptions: a load balancer polls the
probe, and static files are cached for a year. Readiness is limited for anyone without the
internal token, and so is a path that matches no route.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from jinja2 import nodes
from quart import Quart
from quart.signals import template_rendered
from sqlalchemy import update
from werkzeug.routing import IntegerConverter, Rule

from app import create_app
from bp.cart.services.merchants import set_page_merchant
from bp.runtime import runtime
from bp.staff.gate import is_staff_path
from lib.csrf import is_exempt
from lib.internal_auth import requires_internal_token
from lib.rate_limits import rate_limits_of
from models import Product, utcnow
from tests.support import factories as f
from tests.support.checkout import all_orders, only_order, payments_config, shop_with_cart
from tests.support.http import csrf_token, sign_in
from tests.support.standin import StandinControl

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
STAFF, NOT_STAFF = 90, 91
UNKNOWN_STAFF_PATH = "/staff/no-such-thing/"
CSRF_TOKEN = re.compile(r"[0-9a-f]{64}")
# Argument names do not matter: the path shape does.
ALLOWED_EXEMPTIONS = {"/checkout/webhook/<>/"}
ERROR_CODE = re.compile(r'data-error-code="([A-Z_]+)"')
RATE_LIMIT_EXEMPTIONS = {"health.healthz", "static"}
ONE_A_MINUTE = {
    "rate_limit_enabled": True,
    "rate_limit_pages": "1/minute",
    "rate_limit_writes": "1/minute",
    "rate_limit_checkout": "1/minute",
    "rate_limit_webhook": "1/minute",
    "rate_limit_webhook_per_order": "1/minute",
    "rate_limit_failed_tokens": "1/minute",
    "rate_limit_order_links": "1/minute",
    "rate_limit_order_lookups": "1/minute",
    "rate_limit_order_lookups_per_address": "1/minute",
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
    """A concrete URL for the rule: 1 for numbers, "bakery" for anything else (or, where the
    converter wants a fixed length, as many hex digits: an order link's secret)."""
    values: dict[str, Any] = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        if isinstance(converter, IntegerConverter):
            values[name] = 1
        elif converter is not None and not re.fullmatch(converter.regex, "bakery"):
            values[name] = "ab" * 32
        else:
            values[name] = "bakery"
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
    async with runtime(dev_app).databases.sessionmaker() as db:
        await f.user(db, STAFF, is_staff=True)
        await db.commit()
    checked = 0
    for rule in unsafe_rules(dev_app):
        view = dev_app.view_functions[rule.endpoint]
        if requires_internal_token(view) or is_exempt(view):
            continue
        path = sample_path(dev_app, rule)
        client = dev_app.test_client()
        if is_staff_path(path):
            # Only the staff reach the CSRF check of a staff route (the others get a 404).
            await sign_in(dev_app, client, STAFF)
        plain = await client.post(path, form={"quantity": "1"})
        fragment = await client.post(path, headers={"HX-Request": "true"})
        for response in (plain, fragment):
            body = await response.get_data(as_text=True)
            assert response.status_code == 403, path
            assert ERROR_CODE.findall(body) == ["CSRF_FAILED"], path
        checked += 1
    assert checked >= 8


def without_tokens(html: str) -> str:
    """A page without its CSRF token (each browser session has its own)."""
    return CSRF_TOKEN.sub("", html)


async def test_staff_routes_answer_anyone_else_as_a_path_that_does_not_exist(
    dev_app: Quart,
) -> None:
    app = dev_app
    async with runtime(app).databases.sessionmaker() as db:
        await f.user(db, STAFF, is_staff=True)
        await f.user(db, NOT_STAFF)
        await db.commit()
    rules = [rule for rule in app.url_map.iter_rules() if is_staff_path(rule.rule)]
    assert len(rules) >= 15
    checked = 0
    for who in (None, NOT_STAFF):
        client = app.test_client()
        if who is not None:
            await sign_in(app, client, who)
        unknown = await client.get(UNKNOWN_STAFF_PATH)
        assert unknown.status_code == 404
        # The page names its own path (in its sign-in link): that is the one difference.
        expected = without_tokens(await unknown.get_data(as_text=True)).replace(
            UNKNOWN_STAFF_PATH, ""
        )
        for rule in rules:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                path = sample_path(app, rule, method)
                answers = [await client.get(path)]
                if method == "POST":
                    token = csrf_token(app, client)
                    answers = [
                        await client.post(path, form={"csrf_token": token}),
                        await client.post(path, headers={"X-CSRF-Token": token}),
                        await client.post(path),
                    ]
                for answer in answers:
                    assert answer.status_code == 404, (who, method, path)
                    body = without_tokens(await answer.get_data(as_text=True))
                    assert body.replace(path, "") == expected, (who, method, path)
                checked += 1
    staff = app.test_client()
    await sign_in(app, staff, STAFF)
    assert (await staff.get("/staff/orders/")).status_code == 200
    assert checked >= 30


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


async def test_every_internal_json_route_needs_the_token(dev_app: Quart) -> None:
    # The fragments alone may answer without it (the browser's own cart).
    internal = [
        rule
        for rule in dev_app.url_map.iter_rules()
        if rule.rule.startswith("/internal/") and not rule.rule.startswith("/internal/fragments/")
    ]
    assert "/internal/openapi.json" in {rule.rule for rule in internal}
    for rule in internal:
        assert requires_internal_token(dev_app.view_functions[rule.endpoint]), rule.rule
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            client = dev_app.test_client()
            send = client.get if method == "GET" else client.post
            response = await send(sample_path(dev_app, rule, method))
            assert response.status_code == 401, (method, rule.rule)
            assert (await response.get_json())["error"]["code"] == "UNAUTHORIZED", rule.rule


async def test_a_forged_token_is_refused(dev_app: Quart) -> None:
    client = dev_app.test_client()
    response = await client.post(
        "/add/1/", headers={"X-CSRF-Token": "0" * 64}, form={"csrf_token": "0" * 64}
    )
    assert response.status_code == 403


async def test_every_route_has_a_rate_limit_or_is_deliberately_exempt(dev_app: Quart) -> None:
    endpoints = {rule.endpoint for rule in dev_app.url_map.iter_rules()}
    assert {"cart.add_to_cart", "cart.sumup_webhook", "openapi.openapi_json", "static"} <= endpoints
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


# Seed 002: no POST renders a page. A full page is a template that extends the layout; the one
# error mapping's page (errors/error.html) is the only one a POST may end in, and only as an
# error (4xx/5xx). Everything else is a fragment, an HX-Redirect, or a 303 to a GET page.
LAYOUT = "base.html"
ERROR_PAGE = "errors/error.html"


def extends_layout(app: Quart, name: str | None, seen: frozenset[str] = frozenset()) -> bool:
    """Whether the template is a full page: it extends base.html, itself or through a parent."""
    if name is None or name in seen:
        return False
    if name == LAYOUT:
        return True
    env = app.jinja_env
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    for node in env.parse(source).find_all(nodes.Extends):
        parent = node.template
        if isinstance(parent, nodes.Const) and extends_layout(app, parent.value, seen | {name}):
            return True
    return False


@asynccontextmanager
async def rendered_templates(app: Quart) -> AsyncIterator[list[str]]:
    """The names of the templates rendered while the block runs."""
    names: list[str] = []

    async def record(sender: Quart, template: Any, context: Any, **_: Any) -> None:
        names.append(str(template.name))

    template_rendered.connect(record, app)
    try:
        yield names
    finally:
        template_rendered.disconnect(record, app)


async def post_both_ways(app: Quart, client: Any, path: str, form: dict[str, str]) -> list[str]:
    """POST as a plain form and as HTMX (valid CSRF token); answers what rendered a full page
    where a POST must not."""
    problems = []
    for htmx in (False, True):
        token = csrf_token(app, client)
        headers = {"X-CSRF-Token": token, "HX-Request": "true"} if htmx else {}
        async with rendered_templates(app) as names:
            response = await client.post(path, form={**form, "csrf_token": token}, headers=headers)
        pages = [name for name in names if extends_layout(app, name)]
        allowed = [ERROR_PAGE] if response.status_code >= 400 else []
        wrong = [name for name in pages if name not in allowed]
        if wrong:
            kind = "HTMX" if htmx else "plain"
            problems.append(f"{kind} POST {path} -> {response.status_code} rendered {wrong}")
    return problems


@pytest.fixture
def paying_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin, app_env="development")


@pytest.fixture
async def paying_app(paying_config: dict[str, Any], clean_state: None) -> AsyncIterator[Quart]:
    application = create_app(paying_config)
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


async def test_no_post_route_renders_a_page_for_any_sample_request(paying_app: Quart) -> None:
    problems: list[str] = []
    checked = 0
    for rule in unsafe_rules(paying_app):
        view = paying_app.view_functions[rule.endpoint]
        if requires_internal_token(view) or is_exempt(view):
            continue
        client = paying_app.test_client()
        problems += await post_both_ways(
            paying_app, client, sample_path(paying_app, rule), {"quantity": "1"}
        )
        checked += 1
    assert checked >= 8
    assert problems == []


async def test_no_checkout_outcome_renders_a_page_from_its_post(
    paying_app: Quart, sumup_standin_control: StandinControl
) -> None:
    app = paying_app
    problems: list[str] = []
    async with runtime(app).databases.sessionmaker() as db:
        shop = await shop_with_cart(db, user_id=7)
        client = app.test_client()
        await sign_in(app, client, 7)
        # The whole cart goes to two merchants: the split outcome.
        await set_page_merchant(
            db,
            settings=runtime(app).settings,
            page_id=shop.garden.id,
            merchant_code="MGARDEN1",
            api_key="sup_sk_garden",
            checkout_prefix=None,
        )
        problems += await post_both_ways(app, client, "/checkout/", {})
        # A product withdrawn since it was added: the review outcome.
        await db.execute(
            update(Product).where(Product.id == shop.rye.id).values(deleted_at=utcnow())
        )
        await db.commit()
        problems += await post_both_ways(app, client, "/bakery/checkout/", {})
        order = await only_order(db)
        # SumUp refuses to open the payment page: the start-failed outcome, then pay again.
        await sumup_standin_control.faults(fail_create_5xx=True)
        other = app.test_client()
        await sign_in(app, other, 8)
        await f.cart_item(db, shop.loaf, user_id=8)
        problems += await post_both_ways(app, other, "/bakery/checkout/", {})
        eight = [o for o in await all_orders(db) if o.user_id == 8]
        problems += await post_both_ways(app, other, f"/orders/{eight[0].id}/pay/", {})
        await sumup_standin_control.faults(fail_create_5xx=False)
        # Check again, and the cart's own changes.
        problems += await post_both_ways(app, client, f"/orders/{order.id}/recheck/", {})
        problems += await post_both_ways(app, client, f"/add/{shop.loaf.id}/", {"quantity": "1"})
        problems += await post_both_ways(app, client, "/items/1/quantity/", {"quantity": "abc"})
    assert problems == []


async def test_every_405_names_the_methods_its_path_has(dev_app: Quart) -> None:
    checked = 0
    for rule in dev_app.url_map.iter_rules():
        if is_staff_path(rule.rule):
            continue  # to anyone but the staff, as if it did not exist (the test above)
        path = sample_path(dev_app, rule, sorted((rule.methods or {"GET"}) - {"OPTIONS"})[0])
        client: Any = dev_app.test_client()
        response = await client.open(path, method="TRACE")
        assert response.status_code == 405, path
        allowed = {m.strip() for m in response.headers.get("Allow", "").split(",")}
        assert (rule.methods or set()) <= allowed, (path, allowed)
        if path.startswith("/internal/"):
            assert (await response.get_json())["error"]["code"] == "METHOD_NOT_ALLOWED", path
        checked += 1
    assert checked >= 25


async def test_no_answer_but_a_static_file_may_be_cached(dev_app: Quart) -> None:
    client = dev_app.test_client()
    await sign_in(dev_app, client, 1)
    for rule in dev_app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()):
            continue
        path = sample_path(dev_app, rule, "GET").replace("/static/bakery", "/static/css/app.css")
        response = await client.get(path)
        cache = response.headers.get("Cache-Control", "")
        if rule.endpoint == "static":
            assert "public" in cache, path
        else:
            assert cache == "private, no-store", (path, cache)


async def test_a_path_that_matches_no_route_is_limited(one_a_minute_app: Quart) -> None:
    client = one_a_minute_app.test_client()
    statuses = [(await client.get(f"/no/such/route/{n}")).status_code for n in range(3)]
    assert statuses == [404, 429, 429]
