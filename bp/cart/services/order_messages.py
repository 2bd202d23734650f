"""What an order's pages (and, later, its e-mails) say about its bookings and tickets: only
what is true of that order, with the right nouns."""

from __future__ import annotations

from collections.abc import Sequence


def _counted(count: int, noun: str, *, first: bool) -> str:
    """ "booking" (after "Your"), "a booking" (after "and"), "2 bookings"."""
    if count != 1:
        return f"{count} {noun}s"
    return noun if first else f"a {noun}"


def _parts(bookings: int, tickets: int) -> list[str]:
    kinds = ((bookings, "booking"), (tickets, "ticket"))
    counts = [(count, noun) for count, noun in kinds if count]
    return [_counted(count, noun, first=i == 0) for i, (count, noun) in enumerate(counts)]


def _sentence(owner: str, *, bookings: int, tickets: int, predicate: str) -> str | None:
    """ "<owner> booking and 2 tickets are <predicate>."; None when there are neither."""
    parts = _parts(bookings, tickets)
    if not parts:
        return None
    verb = "is" if bookings + tickets == 1 else "are"
    return f"{owner} {' and '.join(parts)} {verb} {predicate}."


def confirmed_message(*, bookings: int, tickets: int) -> str | None:
    """ "Your booking is confirmed.", "Your 2 tickets are confirmed.", "Your booking and 2
    tickets are confirmed."; None for an order with neither confirmed."""
    return _sentence("Your", bookings=bookings, tickets=tickets, predicate="confirmed")


def released_message(*, bookings: int, tickets: int) -> str | None:
    """An unpaid order's claims went back to the cart: "Its booking is back in your cart."."""
    return _sentence("Its", bookings=bookings, tickets=tickets, predicate="back in your cart")


def held_phrase(*, bookings: int, tickets: int) -> str | None:
    """What an open order holds for its shopper: "its booking and 2 tickets"; None if nothing."""
    parts = _parts(bookings, tickets)
    return "its " + " and ".join(parts) if parts else None


def refund_reason(
    *, bookings: Sequence[str], tickets: Sequence[str], others: Sequence[str], amount: str
) -> str:
    """Why part of a paid order is refunded: the fully booked sessions, the sold-out tickets,
    anything else no longer available, and the amount (already formatted)."""
    reasons = []
    if bookings:
        reasons.append("Fully booked when your payment arrived: " + ", ".join(bookings) + ".")
    if tickets:
        reasons.append("Sold out when your payment arrived: " + ", ".join(tickets) + ".")
    if others:
        reasons.append("No longer available when your payment arrived: " + ", ".join(others) + ".")
    reasons.append(f"We will refund {amount} to your card.")
    return " ".join(reasons)


def refund_notice(*, bookings: int, tickets: int, amount: str | None) -> str:
    """The order page's short notice of a refund still to be made: what could not be had (the
    fully booked sessions, the sold-out tickets) and the amount, already formatted."""
    what = []
    if bookings:
        what.append("Some sessions were fully booked")
    if tickets:
        what.append("some tickets sold out" if what else "Some tickets sold out")
    cause = " and ".join(what) if what else "Part of this order could not be confirmed"
    refund = f"we will refund {amount}" if amount else "we will refund them"
    return f"{cause} before your payment completed; {refund}."
