"""GET /orders/<order_id>/: one order, as its owner sees it, and a 404 for everyone else."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bp.order.services.payment_messages import payment_wording
from bp.runtime import runtime
from lib.localtime import format_local_datetime
from models import Order, OrderItem, Product
from tests.support import factories
from tests.support.checkout import post_form, text
from tests.support.http import sign_in, write_shared_session

Line = tuple[str, int, str, int, str]  # kind, ref_id, title, quantity, unit price
# A POST form with its CSRF field right before the button `button`.
FORM_BEFORE = (
    r'<form method="post" action="([^"]+)"{attributes}>\s*'
    r'<input type="hidden" name="csrf_token" value="[0-9a-f]{{64}}">\s*'
    r'<button id="{button}"'
)


async def make_order(
    db: AsyncSession,
    *,
    lines: list[Line] | None = None,
    user_id: int | None = 7,
    session_id: str | None = None,
    status: str = "pending",
    **fields: Any,
) -> Order:
    """An order with lines snapshotted as checkout writes them."""
    lines = lines or [("product", 1, "Sourdough loaf", 2, "4.50")]
    total = sum((Decimal(price) * qty for _, _, _, qty, price in lines), Decimal("0.00"))
    order = Order(
        user_id=user_id,
        session_id=session_id,
        status=status,
        currency="GBP",
        total_amount=total,
        **fields,
    )
    db.add(order)
    await db.flush()
    for kind, ref_id, title, quantity, price in lines:
        db.add(
            OrderItem(
                order_id=order.id,
                kind=kind,
                ref_id=ref_id,
                title=title,
                quantity=quantity,
                unit_price=Decimal(price),
                line_total=Decimal(price) * quantity,
            )
        )
    await db.commit()
    return order


async def as_anonymous(app: Any, client: Any, cart_sid: str) -> None:
    sid = await write_shared_session(app, {"cart_sid": cart_sid})
    client.set_cookie("localhost", runtime(app).settings.session_cookie_name, sid)


async def get(client: Any, url: str, **headers: str) -> tuple[int, str]:
    response = await client.get(url, headers=headers)
    return response.status_code, await response.get_data(as_text=True)


def text_of(body: str) -> str:
    """The page's text, tags stripped and spaces folded: what a reader sees."""
    folded = " ".join(re.sub(r"<[^>]+>", " ", body).split())
    return re.sub(r" ([.,;:])", r"\1", folded)


async def test_the_owner_sees_the_order(app: Any, client: Any, db: AsyncSession) -> None:
    order = await make_order(
        db,
        lines=[("product", 1, "Sourdough loaf", 2, "4.50"), ("product", 2, "Jam", 1, "3.25")],
    )
    await sign_in(app, client, 7)
    status, body = await get(client, f"/orders/{order.id}/")
    assert status == 200
    seen = text_of(body)
    assert f"Order #{order.id}" in seen
    assert "Awaiting payment" in seen
    assert "Sourdough loaf 2 \N{MULTIPLICATION SIGN} £4.50 2 £4.50 £9.00" in seen
    assert "Jam 1 \N{MULTIPLICATION SIGN} £3.25 1 £3.25 £3.25" in seen
    assert "Total £12.25" in seen
    assert format_local_datetime(order.created_at) in seen
    assert 'data-status="pending"' in body


async def test_prices_are_the_ones_paid_even_after_the_product_changes(
    app: Any, client: Any, db: AsyncSession
) -> None:
    shop = await factories.page(db)
    loaf = await factories.product(db, shop, title="Sourdough loaf", price="4.50")
    order = await make_order(db, lines=[("product", loaf.id, "Sourdough loaf", 2, "4.50")])
    await db.execute(
        update(Product)
        .where(Product.id == loaf.id)
        .values(price=Decimal("9.99"), title="Sourdough loaf (large)")
    )
    await db.commit()
    await sign_in(app, client, 7)
    _, body = await get(client, f"/orders/{order.id}/")
    seen = text_of(body)
    assert "£4.50" in seen and "£9.00" in seen
    assert "£9.99" not in seen
    assert "(large)" not in seen


async def test_another_users_order_is_not_found(app: Any, client: Any, db: AsyncSession) -> None:
    order = await make_order(db, user_id=8)
    await sign_in(app, client, 7)
    status, body = await get(client, f"/orders/{order.id}/")
    assert status == 404
    assert "We could not find that order" in body
    assert "Sourdough loaf" not in body
    assert 'data-error-code="ORDER_NOT_FOUND"' in body


async def test_a_missing_order_looks_like_someone_elses(
    app: Any, client: Any, db: AsyncSession
) -> None:
    theirs = await make_order(db, user_id=8)
    await sign_in(app, client, 7)
    _, other = await get(client, f"/orders/{theirs.id}/")
    _, missing = await get(client, f"/orders/{theirs.id + 1000}/")
    assert other == missing


async def test_an_anonymous_shopper_without_the_session_gets_a_404(
    app: Any, client: Any, db: AsyncSession
) -> None:
    anonymous_order = await make_order(db, user_id=None, session_id="cart-abc")
    user_order = await make_order(db, user_id=7)
    for order in (anonymous_order, user_order):
        status, _ = await get(client, f"/orders/{order.id}/")
        assert status == 404
    await as_anonymous(app, client, "cart-xyz")
    for order in (anonymous_order, user_order):
        status, _ = await get(client, f"/orders/{order.id}/")
        assert status == 404


async def test_an_anonymous_shopper_sees_the_order_of_their_session(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await make_order(db, user_id=None, session_id="cart-abc")
    await as_anonymous(app, client, "cart-abc")
    status, body = await get(client, f"/orders/{order.id}/")
    assert status == 200
    assert f"Order #{order.id}" in text_of(body)


async def test_a_signed_in_user_does_not_see_an_anonymous_order_by_its_number(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await make_order(db, user_id=None, session_id="cart-abc")
    await sign_in(app, client, 7)
    status, _ = await get(client, f"/orders/{order.id}/")
    assert status == 404


@pytest.mark.parametrize(
    "path",
    [
        "/orders/abc/",
        "/orders/-1/",
        "/orders/0/",
        "/orders/1.5/",
        "/orders/1e3/",
        "/orders/%00/",
        "/orders/\N{FULLWIDTH DIGIT NINE}/",
        "/orders/9223372036854775807/",
        "/orders/9223372036854775808/",
        "/orders/99999999999999999999999999999999/",
        "/orders/" + "9" * 5000 + "/",
    ],
)
async def test_a_malformed_or_huge_order_number_is_a_404_page(
    app: Any, client: Any, db: AsyncSession, path: str
) -> None:
    await make_order(db)
    await sign_in(app, client, 7)
    status, body = await get(client, path)
    assert status == 404
    assert "<html" in body and "Your orders" in body


async def test_an_htmx_request_for_someone_elses_order_gets_the_error_fragment(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await make_order(db, user_id=8)
    await sign_in(app, client, 7)
    response = await client.get(f"/orders/{order.id}/", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#alerts"
    assert "We could not find that order" in await response.get_data(as_text=True)


@pytest.mark.parametrize("status", ["pending", "failed"])
async def test_an_unpaid_order_can_be_paid_or_checked_again(
    app: Any, client: Any, db: AsyncSession, status: str
) -> None:
    order = await make_order(db, status=status)
    await sign_in(app, client, 7)
    _, body = await get(client, f"/orders/{order.id}/")
    pay = re.search(FORM_BEFORE.format(attributes="", button="pay-again"), body)
    assert pay is not None and pay.group(1) == f"/orders/{order.id}/pay/"
    check = re.search(
        FORM_BEFORE.format(attributes=r'[^>]*hx-post="([^"]+)"[^>]*', button="check-again"), body
    )
    assert check is not None
    assert check.group(1) == check.group(2) == f"/orders/{order.id}/recheck/"
    assert 'hx-indicator="#check-again-loading"' in body


async def test_a_failed_order_offers_pay_again_first_and_no_waiting_hint(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await make_order(db, status="failed")
    await sign_in(app, client, 7)
    _, body = await get(client, f"/orders/{order.id}/")
    # One primary action, then "Check again" as the secondary; the hint about a payment
    # shown as waiting would contradict "failed", so it is not there.
    assert body.index('id="pay-again"') < body.index('id="check-again"')
    pay_again = re.search(r'<button id="pay-again"[^>]*class="([^"]*)"', body)
    check_again = re.search(r'<button id="check-again"[^>]*class="([^"]*)"', body)
    assert pay_again is not None and "bg-emerald-700" in pay_again.group(1)
    assert check_again is not None and "bg-white" in check_again.group(1)
    assert "Paid but still shown as waiting?" not in body


async def test_a_pending_order_says_what_check_again_is_for(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await make_order(db, status="pending")
    await sign_in(app, client, 7)
    _, body = await get(client, f"/orders/{order.id}/")
    assert "Paid but still shown as waiting?" in text_of(body)


@pytest.mark.parametrize("status", ["paid", "expired", "cancelled"])
async def test_a_settled_order_offers_no_payment(
    app: Any, client: Any, db: AsyncSession, status: str
) -> None:
    order = await make_order(db, status=status)
    await sign_in(app, client, 7)
    _, body = await get(client, f"/orders/{order.id}/")
    assert 'id="pay-again"' not in body
    assert 'id="check-again"' not in body
    assert "/pay/" not in body and "/recheck/" not in body


@pytest.mark.parametrize(
    ("status", "badge", "says"),
    [
        ("paid", "Paid", "Paid on"),
        ("pending", "Awaiting payment", "Not paid yet."),
        ("failed", "Payment failed", "you have not been charged"),
        ("expired", "Expired", "expired before it was paid"),
        ("cancelled", "Cancelled", "was cancelled"),
    ],
)
async def test_the_payment_status_is_spelled_out(
    app: Any, client: Any, db: AsyncSession, status: str, badge: str, says: str
) -> None:
    paid_at = datetime(2026, 3, 4, 10, 30, tzinfo=UTC) if status == "paid" else None
    order = await make_order(db, status=status, paid_at=paid_at)
    await sign_in(app, client, 7)
    _, body = await get(client, f"/orders/{order.id}/")
    seen = text_of(body)
    assert badge in seen
    assert says in seen


async def test_a_started_payment_says_it_is_not_paid_yet_and_how_to_ask_sumup(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await make_order(db, checkout_started_at=datetime.now(UTC), attempt=1)
    await sign_in(app, client, 7)
    _, body = await get(client, f"/orders/{order.id}/")
    seen = text_of(body)
    assert "Not paid yet. SumUp has not told us of a payment for this order." in seen
    assert "its answer can take a moment" in seen
    assert "Waiting for SumUp to confirm" not in seen


async def test_a_paid_order_shows_its_sumup_transaction_code(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await make_order(
        db,
        status="paid",
        paid_at=datetime(2026, 3, 4, 10, 30, tzinfo=UTC),
        sumup_transaction_code="TXCODE42",
    )
    await sign_in(app, client, 7)
    _, body = await get(client, f"/orders/{order.id}/")
    seen = text_of(body)
    assert "SumUp transaction code TXCODE42" in seen
    assert "Paid on Wed, 4 Mar 2026, 10:30 GMT" in seen


async def test_an_unpaid_order_shows_no_transaction_code(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await make_order(db, status="failed", sumup_transaction_code="TXFAILED")
    await sign_in(app, client, 7)
    _, body = await get(client, f"/orders/{order.id}/")
    assert "TXFAILED" not in body


async def ticketed_order(db: AsyncSession, *, sold_out: int = 1, **fields: Any) -> Order:
    """A paid order of a booking and three tickets, `sold_out` of them not confirmed."""
    shop = await factories.page(db)
    calendar = await factories.calendar(db, shop)
    booking = await factories.booking(db, calendar, user_id=7, state="confirmed")
    event = await factories.event(db, calendar, name="Folk night")
    standard = await factories.ticket_type(db, event, name="Standard", cost="12.00")
    tickets = [await factories.ticket(db, standard, user_id=7, state="confirmed") for _ in range(3)]
    # Settlement cancels the tickets that would oversell, and flags the order for a refund.
    for ticket in tickets[3 - sold_out :]:
        ticket.state = "cancelled"
    order = await make_order(
        db,
        status="paid",
        lines=[
            ("product", 1, "Sourdough loaf", 1, "4.50"),
            ("booking", booking.id, "Taster session", 1, "15.00"),
            *[("ticket", ticket.id, "Folk night: Standard", 1, "12.00") for ticket in tickets],
        ],
        **fields,
    )
    booking.order_id = order.id
    for ticket in tickets:
        ticket.order_id = order.id
    await db.commit()
    return order


async def test_bookings_and_tickets_show_with_their_state(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await ticketed_order(db, sold_out=1, needs_refund=True)
    await sign_in(app, client, 7)
    _, body = await get(client, f"/orders/{order.id}/")
    seen = text_of(body)
    assert "Bookings" in seen and "Taster session" in seen
    assert "Tickets" in seen and "Folk night: Standard" in seen
    assert body.count('data-state="confirmed"') == 3  # the booking and two tickets
    assert body.count('data-state="cancelled"') == 1
    assert "Sold out: to be refunded" in seen
    assert len(re.findall(r"Ticket code [0-9A-F]{16}", seen)) == 2
    assert "Items £4.50" in seen and "Bookings £15.00" in seen and "Tickets £36.00" in seen
    assert "Total £55.50" in seen


async def test_tickets_of_one_type_are_one_line_listing_each_ticket(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await ticketed_order(db, sold_out=1, needs_refund=True)
    await sign_in(app, client, 7)
    _, body = await get(client, f"/orders/{order.id}/")
    tickets = body[body.index('id="order-tickets"') :]
    tickets = tickets[: tickets.index("</section>")]
    groups = re.findall(r'<tr data-testid="order-ticket-group" data-quantity="(\d+)"', tickets)
    assert groups == ["3"]
    row = text_of(tickets[tickets.index('data-testid="order-ticket-group"') :])
    assert row.startswith(
        'data-testid="order-ticket-group" data-quantity="3"> Folk night: Standard'
    )
    assert row.endswith("3 £12.00 £36.00")
    # Each ticket is still there, with its state, and its code once it is the shopper's.
    assert tickets.count('data-kind="ticket"') == 3
    assert len(re.findall(r"Ticket code [0-9A-F]{16}", text_of(tickets))) == 2
    assert "Sold out: to be refunded" in text_of(tickets)


async def test_the_refund_notice_names_what_will_be_refunded(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await ticketed_order(db, sold_out=2, needs_refund=True)
    await sign_in(app, client, 7)
    _, body = await get(client, f"/orders/{order.id}/")
    assert "Some tickets sold out before your payment completed; we will refund £24.00." in text_of(
        body
    )


async def test_a_recorded_refund_amount_is_the_one_shown(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await ticketed_order(
        db, sold_out=1, needs_refund=True, refunded_amount=Decimal("10.00")
    )
    await sign_in(app, client, 7)
    _, body = await get(client, f"/orders/{order.id}/")
    assert "we will refund £10.00." in text_of(body)


async def test_a_refunded_order_says_when(app: Any, client: Any, db: AsyncSession) -> None:
    # A refund clears needs_refund and records what went back, as refund_order does.
    order = await ticketed_order(
        db,
        sold_out=1,
        needs_refund=False,
        refunded_amount=Decimal("12.00"),
        refunded_at=datetime(2026, 5, 6, 9, 0, tzinfo=UTC),
    )
    await sign_in(app, client, 7)
    _, body = await get(client, f"/orders/{order.id}/")
    seen = text_of(body)
    assert "Refunded £12.00 on 6 May 2026." in seen
    assert "Sold out: refunded" in seen
    assert "we will refund" not in seen


async def test_no_refund_notice_without_a_refund(app: Any, client: Any, db: AsyncSession) -> None:
    order = await ticketed_order(db, sold_out=0)
    await sign_in(app, client, 7)
    _, body = await get(client, f"/orders/{order.id}/")
    assert 'id="order-refund"' not in body
    assert "refund" not in text_of(body).lower()


class TestWithoutTheEventsDomain:
    """A deployment whose events domain is stubbed still shows the order's tickets."""

    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "domains": ["blog", "market", "cart"]}

    async def test_tickets_show_without_their_state(
        self, app: Any, client: Any, db: AsyncSession
    ) -> None:
        order = await ticketed_order(db, sold_out=1, needs_refund=True)
        await sign_in(app, client, 7)
        status, body = await get(client, f"/orders/{order.id}/")
        seen = text_of(body)
        assert status == 200
        assert "Folk night: Standard" in seen and "Taster session" in seen
        assert "data-state=" not in body
        assert "Some tickets sold out before your payment completed; we will refund them." in seen


async def test_the_order_page_reads_well_on_a_phone(
    app: Any, client: Any, db: AsyncSession
) -> None:
    order = await make_order(db)
    await sign_in(app, client, 7)
    _, body = await get(client, f"/orders/{order.id}/")
    # The unit price column folds under the title on narrow screens; the table keeps a caption.
    assert 'class="hidden px-2 py-3 text-right align-top tabular-nums sm:table-cell"' in body
    assert '<p class="text-stone-500 sm:hidden">2 \N{MULTIPLICATION SIGN} £4.50</p>' in body
    assert '<caption class="sr-only">' in body
    assert 'name="viewport"' in body


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("paid", "Your payment is confirmed."),
        ("pending", "SumUp has no payment for this order: it is not paid yet."),
        ("failed", "the payment did not go through"),
    ],
)
async def test_coming_back_from_check_again_says_what_was_found(
    app: Any, client: Any, db: AsyncSession, status: str, message: str
) -> None:
    order = await make_order(db, status=status)
    await sign_in(app, client, 7)
    _, body = await get(client, f"/orders/{order.id}/?checked=1")
    messages = body[body.index('id="messages"') : body.index("<main")]
    assert message in messages
    _, plain = await get(client, f"/orders/{order.id}/")
    assert message not in plain[plain.index('id="messages"') : plain.index("<main")]


@pytest.mark.parametrize("status", ["paid", "expired", "cancelled"])
async def test_check_again_says_the_same_sentence_with_htmx_or_without(
    app: Any, client: Any, db: AsyncSession, status: str
) -> None:
    order = await make_order(db, status=status)
    await sign_in(app, client, 7)
    said = payment_wording(status).checked

    swapped = await post_form(app, client, f"/orders/{order.id}/recheck/", htmx=True)
    redirected = await post_form(app, client, f"/orders/{order.id}/recheck/")
    _, page = await get(client, redirected.headers["Location"])

    assert said in (await text(swapped)).split('hx-swap-oob="innerHTML"', 1)[1]
    assert said in page[page.index('id="messages"') : page.index("<main")]
