"""`next` sends a shopper back only to a path of this site; sign-in links are URL-encoded."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from tests.support import factories as f
from tests.support.http import token_from_page

SIGN_IN_LINK = re.compile(r'<a href="([^"]*)"[^>]*>Sign in</a>')
BROWSER_STRIPS = re.compile(r"[\t\n\r]")


def where_a_browser_goes(location: str) -> str:
    """What a browser makes of a Location header: tabs and newlines are dropped (WHATWG URL)."""
    return BROWSER_STRIPS.sub("", location).strip(" \x00-\x1f")


@pytest.mark.parametrize(
    "next_param",
    [
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%0d%0aX:1",
        "//evil.example",
        "/\\evil.example",
        "/%5Cevil.example",
        "https://evil.example/x",
        "/%2F/evil.example",
        "/%252F%252Fevil.example",
        "%20/evil.example",
        "/ok%00",
    ],
)
async def test_next_never_leaves_the_site(
    app: Quart, client: Any, db: AsyncSession, next_param: str
) -> None:
    product = await f.product(db, await f.page(db))
    token = await token_from_page(client)

    response = await client.post(
        f"/add/{product.id}/?next={next_param}", form={"csrf_token": token}
    )

    assert response.status_code == 303
    location = response.headers["Location"]
    target = urlsplit(where_a_browser_goes(location))
    assert target.scheme == "" and target.netloc == "", location
    assert location == "/"
    assert "X" not in response.headers


async def test_a_same_site_next_is_followed(app: Quart, client: Any, db: AsyncSession) -> None:
    product = await f.product(db, await f.page(db))
    token = await token_from_page(client)

    response = await client.post(
        f"/add/{product.id}/?next=/bakery/%3Fview%3D1", form={"csrf_token": token}
    )

    assert response.headers["Location"] == "/bakery/?view=1"


async def sign_in_link(client: Any, path: str) -> str:
    response = await client.get(path)
    found = SIGN_IN_LINK.search(await response.get_data(as_text=True))
    assert found is not None, "the page has no sign-in link"
    return found.group(1).replace("&amp;", "&")


async def test_the_sign_in_link_carries_exactly_one_next(client: Any) -> None:
    link = await sign_in_link(client, "/%26next=https:%2F%2Fevil.example/x")

    query = parse_qs(urlsplit(link).query)
    assert query["next"] == ["http://cart.test/&next=https://evil.example/x"]


async def test_the_development_sign_in_link_is_encoded_too(
    app_config: dict[str, Any], clean_state: None
) -> None:
    application = create_app({**app_config, "app_env": "development"})
    async with application.test_app():
        link = await sign_in_link(application.test_client(), "/%26next=%2F%2Fevil.example/x%20y")

    parts = urlsplit(link)
    assert parts.path == "/dev/sign-in"
    assert parse_qs(parts.query)["next"] == ["/&next=//evil.example/x y"]
