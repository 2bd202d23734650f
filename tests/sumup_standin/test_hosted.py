"""The hosted payment page: what the shopper sees, and what paying or failing there does."""

from __future__ import annotations

import html
import re
import uuid

import httpx

from tests.sumup_standin.conftest import MERCHANT_CODE, MakeCheckout
from tests.sumup_standin.receiver import WebhookReceiver
from tests.support.standin import StandinControl

REDIRECT_URL = "https://cart.example/checkout/return/17/"


def element(page: str, element_id: str) -> str | None:
    """The opening tag of the element with this id, or None."""
    match = re.search(rf'<[a-z]+[^>]*\bid="{re.escape(element_id)}"[^>]*>', page)
    return match.group(0) if match else None


def href(tag: str | None) -> str | None:
    match = re.search(r'href="([^"]*)"', tag or "")
    return html.unescape(match.group(1)) if match else None


async def test_pay_page_shows_merchant_description_amount_and_buttons(
    shopper: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.set_merchant(MERCHANT_CODE, name="Rose Ash Honey Coop")
    checkout = await make_checkout(description="Two jars of <heather> honey", amount=12.5)

    response = await shopper.get(checkout["hosted_checkout_url"])

    assert response.status_code == 200
    page = response.text
    assert "Rose Ash Honey Coop" in page
    assert "Two jars of &lt;heather&gt; honey" in page
    assert "€12.50" in page
    assert element(page, "pay") is not None
    assert element(page, "fail") is not None
    assert f'action="/pay/c-{checkout["id"]}/pay"' in page
    assert f'action="/pay/c-{checkout["id"]}/fail"' in page
    assert "<script" not in page


async def test_paying_on_the_page_marks_paid_and_calls_the_webhook(
    sumup_api: httpx.AsyncClient, shopper: httpx.AsyncClient, make_checkout: MakeCheckout
) -> None:
    async with WebhookReceiver() as receiver:
        checkout = await make_checkout(return_url=receiver.url, redirect_url=REDIRECT_URL)

        response = await shopper.post(f"/pay/c-{checkout['id']}/pay")
        [webhook] = await receiver.wait_for(1)

    assert response.url.path == f"/pay/c-{checkout['id']}/success"
    assert "Payment successful" in response.text
    assert href(element(response.text, "back-to-merchant")) == REDIRECT_URL
    assert "Back to merchant website" in response.text
    assert (await sumup_api.get(f"/v0.1/checkouts/{checkout['id']}")).json()["status"] == "PAID"
    assert (webhook.method, webhook.path) == ("POST", "/webhook")
    assert webhook.headers["content-type"] == "application/json"
    assert webhook.json() == {"event_type": "CHECKOUT_STATUS_CHANGED", "id": checkout["id"]}


async def test_failing_on_the_page_offers_a_retry_that_can_pay(
    sumup_api: httpx.AsyncClient, shopper: httpx.AsyncClient, make_checkout: MakeCheckout
) -> None:
    checkout = await make_checkout(redirect_url=REDIRECT_URL)

    failed = await shopper.post(f"/pay/c-{checkout['id']}/fail")

    assert "Payment failed" in failed.text
    assert href(element(failed.text, "back-to-merchant")) == REDIRECT_URL
    retry_url = href(element(failed.text, "try-again"))
    assert retry_url == f"/pay/c-{checkout['id']}"
    assert (await sumup_api.get(f"/v0.1/checkouts/{checkout['id']}")).json()["status"] == "FAILED"

    retry = await shopper.get(retry_url)
    assert element(retry.text, "pay") is not None
    assert "last payment attempt failed" in retry.text
    paid = await shopper.post(f"/pay/c-{checkout['id']}/pay")

    assert "Payment successful" in paid.text
    assert (await sumup_api.get(f"/v0.1/checkouts/{checkout['id']}")).json()["status"] == "PAID"


async def test_a_sandbox_failing_amount_fails_on_the_page(
    shopper: httpx.AsyncClient, make_checkout: MakeCheckout
) -> None:
    checkout = await make_checkout(amount=42.01)

    response = await shopper.post(f"/pay/c-{checkout['id']}/pay")

    assert "Payment failed" in response.text


async def test_success_page_without_redirect_url_has_no_back_link(
    shopper: httpx.AsyncClient, make_checkout: MakeCheckout
) -> None:
    checkout = await make_checkout()

    response = await shopper.post(f"/pay/c-{checkout['id']}/pay")

    assert "Payment successful" in response.text
    assert element(response.text, "back-to-merchant") is None


async def test_a_paid_checkout_shows_success_and_cannot_be_paid_twice(
    shopper: httpx.AsyncClient, make_checkout: MakeCheckout, sumup_standin_control: StandinControl
) -> None:
    checkout = await make_checkout()
    await sumup_standin_control.pay(checkout["id"])

    again = await shopper.post(f"/pay/c-{checkout['id']}/pay")

    assert "Payment successful" in again.text
    assert len((await sumup_standin_control.checkout(checkout["id"]))["transactions"]) == 1


async def test_session_expires_after_thirty_minutes(
    sumup_api: httpx.AsyncClient,
    shopper: httpx.AsyncClient,
    make_checkout: MakeCheckout,
    sumup_standin_control: StandinControl,
) -> None:
    checkout = await make_checkout()
    await sumup_standin_control.advance_clock(29)
    assert element((await shopper.get(checkout["hosted_checkout_url"])).text, "pay") is not None

    await sumup_standin_control.advance_clock(1)
    page = await shopper.get(checkout["hosted_checkout_url"])
    attempt = await shopper.post(f"/pay/c-{checkout['id']}/pay")

    assert page.status_code == 410
    assert "This checkout has expired" in page.text
    assert element(page.text, "pay") is None
    assert "This checkout has expired" in attempt.text
    # SumUp's docs do not say the API status changes when the session ends (reference §12).
    assert (await sumup_api.get(f"/v0.1/checkouts/{checkout['id']}")).json()["status"] == "PENDING"


async def test_a_deactivated_checkout_shows_the_expired_page(
    sumup_api: httpx.AsyncClient, shopper: httpx.AsyncClient, make_checkout: MakeCheckout
) -> None:
    checkout = await make_checkout()
    await sumup_api.delete(f"/v0.1/checkouts/{checkout['id']}")

    page = await shopper.get(checkout["hosted_checkout_url"])

    assert page.status_code == 410
    assert "This checkout has expired" in page.text


async def test_an_unknown_checkout_shows_not_found(shopper: httpx.AsyncClient) -> None:
    page = await shopper.get(f"/pay/c-{uuid.uuid4()}")

    assert page.status_code == 404
    assert "Checkout not found" in page.text
