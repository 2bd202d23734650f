"""Reading SumUp's webhook: the checkout it names for the order in its URL, or nothing of ours."""

from __future__ import annotations

import json

import pytest

from bp.cart.services.webhook import WebhookHint, read_webhook
from lib.errors import BadRequest

# A checkout id as SumUp writes them (a UUID); anything else never reaches SumUp.
CHECKOUT_ID = "64553e20-3f0e-49e4-8af3-fd0eca86ce91"


def body(value: object) -> bytes:
    return json.dumps(value).encode()


def test_both_shapes_name_the_checkout() -> None:
    classic = body({"event_type": "CHECKOUT_STATUS_CHANGED", "id": CHECKOUT_ID})
    newer = body({"type": "checkout.status.updated", "object": {"id": CHECKOUT_ID}})

    assert read_webhook(classic, order_ref="12") == WebhookHint(
        order_id=12, checkout_id=CHECKOUT_ID
    )
    assert read_webhook(newer, order_ref="12") == WebhookHint(order_id=12, checkout_id=CHECKOUT_ID)


@pytest.mark.parametrize(
    ("raw", "order_ref"),
    [
        (body({"event_type": "PAYOUT_CREATED", "id": CHECKOUT_ID}), "12"),
        (body({"type": "payout.created", "object": {"id": CHECKOUT_ID}}), "12"),
        (body({"event_type": "CHECKOUT_STATUS_CHANGED", "id": "c" * 65}), "12"),
        (body({"event_type": "CHECKOUT_STATUS_CHANGED", "id": 5}), "12"),
        (body({"event_type": "CHECKOUT_STATUS_CHANGED", "id": CHECKOUT_ID}), "0"),
        (body({"event_type": "CHECKOUT_STATUS_CHANGED", "id": CHECKOUT_ID}), "9223372036854775808"),
        (body({"event_type": "CHECKOUT_STATUS_CHANGED", "id": CHECKOUT_ID}), "abc"),
    ],
)
def test_what_is_not_ours_is_nothing(raw: bytes, order_ref: str) -> None:
    assert read_webhook(raw, order_ref=order_ref) is None


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"text"'])
def test_a_body_that_is_not_a_json_object_is_refused(raw: bytes) -> None:
    with pytest.raises(BadRequest) as refused:
        read_webhook(raw, order_ref="12")
    assert refused.value.code == "INVALID_WEBHOOK"
