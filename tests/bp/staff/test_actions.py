"""The staff's actions through the console, against the SumUp stand-in: each goes through
the service function the CLI and the internal API use, is idempotent, and is audited."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Order,
    OutboxEvent,
    PageConfig,
    PaymentAttempt,
    SentMessage,
    StaffAction,
    utcnow,
)
from tests.bp.cart.services.test_refunds import paid_order, refunded_at_sumup
from tests.support import factories as f
from tests.support.checkout import only_order, payments_config, text
from tests.support.http import csrf_token, sign_in
from tests.support.standin import StandinControl

STAFF = 40


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


async def staff_client(app: Quart, db: AsyncSession) -> Any:
    await f.user(db, STAFF, name="Cleo Dunn", is_staff=True)
    await db.commit()
    client = app.test_client()
    await sign_in(app, client, STAFF)
    return client


async def post(app: Quart, client: Any, path: str, form: dict[str, str] | None = None) -> Any:
    return await client.post(path, form={**(form or {}), "csrf_token": csrf_token(app, client)})


async def audit(db: AsyncSession) -> list[tuple[str, str, int | None]]:
    rows = await db.scalars(select(StaffAction).order_by(StaffAction.id))
    return [(row.action, row.outcome, row.order_id) for row in rows]


async def test_staff_find_an_order_by_the_shoppers_address_and_refund_part_of_it(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await f.user(db, 7, email="maria.shopper@example.coop")
    order = await paid_order(app, client, db, sumup_standin_control)
    staff = await staff_client(app, db)

    found = await text(await staff.get("/staff/orders/?q=MARIA.SHOPPER@example"))
    assert f'data-order-id="{order.id}"' in found and "maria.shopper@example.coop" in found
    nobody = await text(await staff.get("/staff/orders/?q=nobody@example.coop"))
    assert "data-order-id" not in nobody and "No orders match" in nobody
    by_code = await text(await staff.get(f"/staff/orders/?q={order.sumup_transaction_code}"))
    assert f'data-order-id="{order.id}"' in by_code

    confirm = await text(await staff.get(f"/staff/orders/{order.id}/refund/"))
    assert "Refund order" in confirm and 'name="reason"' in confirm
    response = await post(
        app, staff, f"/staff/orders/{order.id}/refund/", {"amount": "5.00", "reason": "Late"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/orders/{order.id}/?done=refund"

    refunded = await only_order(db)
    assert refunded.refunded_amount == Decimal("5.00") and refunded.refunded_at is not None
    checkout = str(order.sumup_checkout_id)
    assert await refunded_at_sumup(sumup_standin_control, checkout) == Decimal("5.00")
    page = await text(await staff.get(f"/staff/orders/{order.id}/?done=refund"))
    assert "Refund made" in page and "£5.00" in page
    assert "Staff: refund by Cleo Dunn" in page and "reason: Late" in page
    assert await audit(db) == [("refund", "done", order.id)]

    # A second refund (a double click, another member of staff) never reaches SumUp.
    again = await post(
        app, staff, f"/staff/orders/{order.id}/refund/", {"amount": "1.00", "reason": "Again"}
    )
    assert again.status_code == 409 and "already refunded" in await text(again)
    assert await refunded_at_sumup(sumup_standin_control, checkout) == Decimal("5.00")
    assert await audit(db) == [("refund", "done", order.id), ("refund", "refused", order.id)]
    activity = await text(await staff.get("/staff/activity/"))
    assert activity.count('data-action="refund"') == 2 and "already refunded" in activity


async def test_a_refund_larger_than_the_order_or_without_a_reason_is_refused(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control)
    staff = await staff_client(app, db)
    path = f"/staff/orders/{order.id}/refund/"

    too_much = await post(app, staff, path, {"amount": "999.00", "reason": "Too much"})
    no_reason = await post(app, staff, path, {"amount": "1.00", "reason": "  "})
    not_money = await post(app, staff, path, {"amount": "1.001", "reason": "Odd"})

    assert too_much.status_code == 400 and "cannot be more than that" in await text(too_much)
    assert no_reason.status_code == 400 and "Say why" in await text(no_reason)
    assert not_money.status_code == 400 and "two decimal places" in await text(not_money)
    checkout = str(order.sumup_checkout_id)
    assert await refunded_at_sumup(sumup_standin_control, checkout) == Decimal("0")
    assert (await only_order(db)).refunded_at is None
    assert await audit(db) == [("refund", "refused", order.id)]


async def test_staff_refunds_at_the_same_moment_refund_once(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control)
    staff = await staff_client(app, db)
    other = app.test_client()
    await sign_in(app, other, STAFF)
    path = f"/staff/orders/{order.id}/refund/"

    answers = await asyncio.gather(
        post(app, staff, path, {"amount": "3.00", "reason": "One"}),
        post(app, other, path, {"amount": "3.00", "reason": "Two"}),
    )

    assert sorted(answer.status_code for answer in answers) == [303, 409]
    checkout = str(order.sumup_checkout_id)
    assert await refunded_at_sumup(sumup_standin_control, checkout) == Decimal("3.00")
    assert sorted(outcome for _, outcome, _ in await audit(db)) == ["done", "refused"]


async def test_staff_resolve_a_payment_mismatch_once(app: Quart, db: AsyncSession) -> None:
    order = await f.order(db, user_id=7, status="expired")
    order.payment_mismatch_at = utcnow()
    order.payment_mismatch_reason = "amount 9.99 GBP, expected 4.50 GBP"
    await db.commit()
    staff = await staff_client(app, db)

    listed = await text(await staff.get("/staff/orders/?flag=mismatch"))
    assert f'data-order-id="{order.id}"' in listed and 'data-queue="mismatch"' in listed
    confirm = await text(await staff.get(f"/staff/orders/{order.id}/resolve-mismatch/"))
    assert "amount 9.99 GBP" in confirm
    first = await post(app, staff, f"/staff/orders/{order.id}/resolve-mismatch/")
    second = await post(app, staff, f"/staff/orders/{order.id}/resolve-mismatch/")

    assert first.status_code == 303 and second.status_code == 409
    resolved = await db.get(Order, order.id, populate_existing=True)
    assert resolved is not None and resolved.payment_mismatch_resolved_at is not None
    assert await audit(db) == [
        ("resolve_mismatch", "done", order.id),
        ("resolve_mismatch", "refused", order.id),
    ]
    page = await text(await staff.get(f"/staff/orders/{order.id}/"))
    assert "Mismatch resolved" in page and "Resolve mismatch" not in page


async def test_staff_retry_a_dead_letter(app: Quart, db: AsyncSession) -> None:
    order = await f.order(db, user_id=7, status="paid")
    event = OutboxEvent(
        activity_id=uuid.uuid4(),
        event_type="order.paid",
        activity_type="rose:OrderPaid",
        object_type="rose:Order",
        object_id=str(order.id),
        payload={},
        failures=10,
        last_error="value too long for type character varying(64)",
        dead_lettered_at=utcnow(),
    )
    db.add(event)
    await db.commit()
    staff = await staff_client(app, db)

    queues = await text(await staff.get("/staff/queues/"))
    assert f'data-event-id="{event.id}"' in queues and "value too long" in queues
    response = await post(app, staff, f"/staff/dead-letters/{event.id}/retry/")
    again = await post(app, staff, f"/staff/dead-letters/{event.id}/retry/")

    assert response.status_code == 303 and again.status_code == 409
    retried = await db.get(OutboxEvent, event.id, populate_existing=True)
    assert retried is not None and retried.dead_lettered_at is None and retried.failures == 0
    assert await audit(db) == [
        ("retry_dead_letter", "done", order.id),
        ("retry_dead_letter", "refused", order.id),
    ]
    assert 'data-queue="dead_letters" class="font-semibold text-stone-900">0<' in await text(
        await staff.get("/staff/queues/")
    )


async def test_a_page_merchant_is_saved_only_after_sumup_accepts_its_key(
    app: Quart, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    page = await f.page(db, "garden", "Garden")
    await db.commit()
    staff = await staff_client(app, db)
    await sumup_standin_control.revoke_key("sup_sk_revoked")
    form = {"merchant_code": "MGARDEN1", "api_key": "sup_sk_revoked"}
    htmx = {"HX-Request": "true", "X-CSRF-Token": csrf_token(app, staff)}

    failed = await staff.post("/staff/merchants/garden/test/", form=form, headers=htmx)
    saved_anyway = await post(app, staff, "/staff/merchants/garden/", form)
    passed = await staff.post(
        "/staff/merchants/garden/test/", form={**form, "api_key": "sup_sk_garden"}, headers=htmx
    )
    saved = await post(app, staff, "/staff/merchants/garden/", {**form, "api_key": "sup_sk_garden"})

    assert 'data-connection="failed"' in await text(failed)
    assert saved_anyway.status_code == 422 and "Nothing was saved" in await text(saved_anyway)
    assert 'data-connection="passed"' in await text(passed)
    assert saved.status_code == 303
    config = await db.scalar(select(PageConfig).where(PageConfig.page_id == page.id))
    assert config is not None and config.sumup_merchant_code == "MGARDEN1"
    assert config.sumup_api_key_encrypted and b"sup_sk_garden" not in config.sumup_api_key_encrypted
    listing = await text(await staff.get("/staff/merchants/"))
    form_page = await text(await staff.get("/staff/merchants/garden/"))
    assert "Merchant MGARDEN1" in listing
    assert "sup_sk_garden" not in listing + form_page
    assert [action for action, _, _ in await audit(db)] == [
        "test_merchant",
        "set_merchant",
        "test_merchant",
        "set_merchant",
    ]
    assert [outcome for _, outcome, _ in await audit(db)] == ["refused", "refused", "done", "done"]


async def test_every_payment_attempt_is_recorded(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control)
    order_id, checkout_id, code = order.id, order.sumup_checkout_id, order.sumup_transaction_code
    # A second attempt, as "pay again" starts one: the order keeps only this one.
    await db.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(
            attempt=2,
            sumup_reference=f"rose-{order_id}-2",
            sumup_checkout_id=None,
            sumup_status=None,
        )
    )
    await db.commit()
    attempts = list(
        await db.scalars(
            select(PaymentAttempt)
            .where(PaymentAttempt.order_id == order_id)
            .order_by(PaymentAttempt.attempt)
        )
    )
    assert [(a.attempt, a.sumup_status) for a in attempts] == [(1, "PAID"), (2, None)]
    assert attempts[0].sumup_checkout_id == checkout_id and checkout_id is not None
    assert attempts[0].sumup_transaction_code == code and code is not None
    assert attempts[1].sumup_reference == f"rose-{order_id}-2"
    staff = await staff_client(app, db)
    page = await text(await staff.get(f"/staff/orders/{order_id}/"))
    assert 'data-attempt="1"' in page and 'data-attempt="2"' in page
    assert checkout_id in page and "Payment attempt 2 started" in page


async def test_staff_send_a_confirmation_again_once(app: Quart, db: AsyncSession) -> None:
    order = await f.order(db, user_id=7, status="paid")
    message = SentMessage(
        activity_id=uuid.uuid4(),
        kind="order_paid",
        order_id=order.id,
        status="sent",
        recipient="maria@example.coop",
        sent_at=utcnow(),
    )
    db.add(message)
    await db.commit()
    staff = await staff_client(app, db)

    page = await text(await staff.get(f"/staff/orders/{order.id}/"))
    assert "Resend confirmation" in page
    first = await post(app, staff, f"/staff/orders/{order.id}/resend-confirmation/")
    second = await post(app, staff, f"/staff/orders/{order.id}/resend-confirmation/")

    assert first.status_code == 303
    assert second.status_code == 409 and "on its way already" in await text(second)
    queued = await db.get(SentMessage, message.id, populate_existing=True)
    assert queued is not None and queued.status == "pending" and queued.claimed_at is None
    assert await audit(db) == [
        ("resend_confirmation", "done", order.id),
        ("resend_confirmation", "refused", order.id),
    ]


async def test_staff_retry_a_dead_message(app: Quart, db: AsyncSession) -> None:
    order = await f.order(db, user_id=7, status="paid")
    message = SentMessage(
        activity_id=uuid.uuid4(),
        kind="order_paid",
        order_id=order.id,
        status="dead",
        failures=10,
        note="550 mailbox unavailable",
    )
    db.add(message)
    await db.commit()
    staff = await staff_client(app, db)

    queues = await text(await staff.get("/staff/queues/"))
    assert f'data-message-id="{message.id}"' in queues and "550 mailbox unavailable" in queues
    confirm = await text(await staff.get(f"/staff/dead-mail/{message.id}/retry/"))
    assert "Retry message" in confirm
    first = await post(app, staff, f"/staff/dead-mail/{message.id}/retry/")
    second = await post(app, staff, f"/staff/dead-mail/{message.id}/retry/")

    assert first.status_code == 303 and second.status_code == 409
    retried = await db.get(SentMessage, message.id, populate_existing=True)
    assert retried is not None and retried.status == "pending" and retried.failures == 0
    assert await audit(db) == [
        ("retry_dead_mail", "done", order.id),
        ("retry_dead_mail", "refused", order.id),
    ]
    assert (await staff.get(f"/staff/dead-mail/{message.id}/retry/")).status_code == 404
