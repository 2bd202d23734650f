"""current_cart_identity(): the signed-in user, else the anonymous cart made on the first write
(claim_cart_identity)."""

from __future__ import annotations

from typing import Any

from quart import Quart, session

from bp.cart.request_identity import claim_cart_identity, current_cart_identity
from bp.cart.services.identity import is_valid_session_id
from services.contracts.dtos import CartIdentity
from tests.support.http import settings_of, write_shared_session


async def identity_in(app: Quart, data: dict[str, Any] | None, *, create: bool) -> tuple[Any, Any]:
    """The identity a request with this shared session gets, and the session afterwards."""
    headers = {}
    if data is not None:
        sid = await write_shared_session(app, data)
        headers["Cookie"] = f"{settings_of(app).session_cookie_name}={sid}"
    async with app.test_request_context("/", headers=headers):
        identity = await claim_cart_identity() if create else current_cart_identity()
        return identity, dict(session)


async def test_the_signed_in_user_wins(app: Quart) -> None:
    identity, after = await identity_in(app, {"user_id": 5, "cart_sid": "abc"}, create=True)
    assert identity == CartIdentity(user_id=5)
    assert after["cart_sid"] == "abc"


async def test_an_anonymous_cart_is_made_only_on_a_write(app: Quart) -> None:
    nothing, untouched = await identity_in(app, None, create=False)
    made, written = await identity_in(app, None, create=True)

    assert nothing is None and untouched == {}
    assert made is not None and made.session_id == written["cart_sid"]
    assert is_valid_session_id(made.session_id) and len(made.session_id) == 32


async def test_an_existing_anonymous_cart_is_kept(app: Quart) -> None:
    identity, _ = await identity_in(app, {"cart_sid": "kept-cart"}, create=True)
    assert identity == CartIdentity(session_id="kept-cart")


async def test_a_tampered_session_never_names_someone(app: Quart) -> None:
    for data in (
        {"user_id": True},
        {"user_id": "0"},
        {"user_id": -2},
        {"cart_sid": "a b"},
        {"cart_sid": "x" * 65},
        {"cart_sid": 7},
    ):
        identity, _ = await identity_in(app, data, create=False)
        assert identity is None, data
