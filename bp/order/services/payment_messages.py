"""Everything a shopper reads about an order's payment, each said once: the status badge (the
orders list and the order page), the order page's payment line, what "check again" found (the
same sentence with HTMX or without), and the headings of the page SumUp sends the shopper back
to. Templates reach it through the `payment_wording` global (app.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PaymentWording:
    """What is said of an order whose payment is in one state."""

    # The status badge.
    badge: str
    # The order page's payment section.
    line: str
    # What "check again" found when the order is in this state after the check.
    checked: str
    # The return page's title and heading; None where the page names the order instead.
    returned_title: str | None = None
    returned_heading: str = "This order was not paid"


WORDINGS = {
    "paid": PaymentWording(
        badge="Paid",
        line="Paid",
        checked="Your payment is confirmed. Thank you!",
        returned_title="Thank you",
        returned_heading="Thank you, your payment was received",
    ),
    "pending": PaymentWording(
        badge="Awaiting payment",
        line="Not paid yet.",
        checked="SumUp has no payment for this order: it is not paid yet. Nothing is charged "
        "until it is; if you have just paid, check again in a minute.",
    ),
    "failed": PaymentWording(
        badge="Payment failed",
        line="The payment did not go through and you have not been charged. You can try again.",
        checked="SumUp reports that the payment did not go through. You have not been charged.",
        returned_title="Payment failed",
        returned_heading="Your payment did not go through",
    ),
    "expired": PaymentWording(
        badge="Expired",
        line="This order expired before it was paid, so nothing was charged.",
        checked="This order expired before it was paid; its items are back in your cart.",
    ),
    "cancelled": PaymentWording(
        badge="Cancelled",
        line="This order was cancelled and nothing was charged.",
        checked="This order was cancelled and nothing was charged.",
    ),
}
# A pending order whose payment page was opened: the shopper may have just paid.
# Not "waiting for SumUp": a page opened is not a payment made, so it says "not paid yet".
WAITING_FOR_SUMUP = (
    "Not paid yet. SumUp has not told us of a payment for this order. If you have just paid on "
    "SumUp's page, its answer can take a moment: \u201cCheck again\u201d asks SumUp now."
)
# A payment SumUp reported that does not match its order (amount, currency or reference).
UNMATCHED = PaymentWording(
    badge="Payment not matched",
    line="We received a payment for this order that we could not match to it, so it was not "
    "confirmed.",
    checked="We could not confirm this payment automatically; the coop will look into it.",
    returned_title="Payment not matched",
    returned_heading="We could not match your payment to this order",
)
# "Check again" when SumUp could not be asked.
SUMUP_UNREACHABLE = "We could not reach SumUp just now. Please check again in a minute."


def payment_wording(status: str) -> PaymentWording:
    """The wording of an order's status; a status without one is named as it is."""
    found = WORDINGS.get(status)
    if found is not None:
        return found
    named = status.capitalize()
    return PaymentWording(
        badge=named,
        line=f"{named}.",
        checked="This order is closed and nothing more will be charged.",
    )


# What the templates read (app.py makes them Jinja globals).
TEMPLATE_GLOBALS = {
    "payment_wording": payment_wording,
    "unmatched_payment": UNMATCHED,
    "waiting_for_sumup": WAITING_FOR_SUMUP,
}
