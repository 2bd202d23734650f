"""Cart identities from what other apps send, and new anonymous cart ids."""

from __future__ import annotations

import pytest

from bp.cart.services.identity import (
    adoption_params,
    identity_from_params,
    is_valid_session_id,
    new_cart_sid,
)
from lib.errors import BadRequest
from services.contracts.dtos import CartIdentity


def test_every_new_cart_id_is_random_and_url_safe() -> None:
    # Nothing a browser sends chooses it: a cookie planted by another app cannot predict it.
    ids = {new_cart_sid() for _ in range(50)}

    assert len(ids) == 50
    assert all(is_valid_session_id(sid) and len(sid) == 32 for sid in ids)


def test_a_caller_names_exactly_one_identity() -> None:
    assert identity_from_params("7", None) == CartIdentity(user_id=7)
    assert identity_from_params(None, "cart-1") == CartIdentity(session_id="cart-1")
    assert identity_from_params(7, None, from_query=False) == CartIdentity(user_id=7)
    for user_id, session_id, code in [
        (None, None, "MISSING_IDENTITY"),
        ("7", "cart-1", "AMBIGUOUS_IDENTITY"),
        ("0", None, "INVALID_USER_ID"),
        ("9" * 20, None, "INVALID_USER_ID"),
        (True, None, "INVALID_USER_ID"),
        (None, "a b", "INVALID_SESSION_ID"),
    ]:
        with pytest.raises(BadRequest) as refused:
            identity_from_params(user_id, session_id, from_query=not isinstance(user_id, bool))
        assert refused.value.code == code, (user_id, session_id)


def test_an_adoption_needs_a_json_object_with_both() -> None:
    assert adoption_params({"user_id": 3, "session_id": "cart-1"}) == (3, "cart-1")
    for body, code in [
        (None, "INVALID_JSON"),
        ([1, "cart-1"], "INVALID_JSON"),
        ({"user_id": 3}, "MISSING_IDENTITY"),
        ({"user_id": "3", "session_id": "cart-1"}, "INVALID_USER_ID"),
        ({"user_id": 3, "session_id": "x" * 65}, "INVALID_SESSION_ID"),
    ]:
        with pytest.raises(BadRequest) as refused:
            adoption_params(body)
        assert refused.value.code == code, body
