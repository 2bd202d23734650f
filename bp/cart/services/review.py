"""The review page of a checkout that would not order what its page showed: the order as it
would be now, and what changed since the page was shown, in words."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.order_preview import OrderPreview, Seen, decode_seen, order_preview
from config.settings import Settings
from lib.money import format_money
from services.contracts.dtos import CartIdentity, PageDTO
from services.registry import DomainServices


@dataclass(frozen=True)
class CheckoutReview:
    """A checkout to confirm: the order it would make, and why it differs from the page."""

    page: PageDTO | None
    preview: OrderPreview
    changes: list[str]


async def review_checkout(
    session: AsyncSession,
    *,
    identity: CartIdentity | None,
    page: PageDTO | None,
    fingerprint: str | None,
    settings: Settings,
    domains: DomainServices,
) -> CheckoutReview:
    """The order a checkout would make now and how it differs from what the page showed;
    ends its transaction."""
    preview = await order_preview(
        session, identity=identity, page_id=page.id if page else None, domains=domains
    )
    seen = decode_seen(fingerprint)
    gone = [pid for pid in (seen.lines if seen else {}) if pid not in _line_ids(preview)]
    titles = {
        pid: product.title
        for pid, product in (
            await domains.market.products_by_ids(session, gone, include_deleted=True)
        ).items()
    }
    await session.commit()
    return CheckoutReview(
        page=page,
        preview=preview,
        changes=describe_changes(seen, preview, titles=titles, currency=settings.currency),
    )


def _line_ids(preview: OrderPreview) -> set[int]:
    return {line.product.id for line in preview.lines}


def describe_changes(
    seen: Seen | None, preview: OrderPreview, *, titles: dict[int, str], currency: str
) -> list[str]:
    """What differs between the page the shopper saw and the order as it would be, in words."""

    def money(amount: object) -> str:
        return format_money(amount, currency)  # type: ignore[arg-type]

    if seen is None:
        return [
            "The page you checked out from was out of date, so here is your order as it is now."
        ]
    changes: list[str] = []
    for line in preview.lines:
        pid, title = line.product.id, line.product.title
        if pid not in seen.lines:
            changes.append(
                f"{title} was added ({line.quantity} at {money(line.product.price)} each)."
            )
            continue
        quantity, price = seen.lines[pid]
        if quantity != line.quantity:
            changes.append(f"{title}: the quantity is {line.quantity}, not {quantity}.")
        if price != line.product.price:
            changes.append(
                f"{title} now costs {money(line.product.price)} (it was {money(price)})."
            )
    for pid in seen.lines:
        if pid not in _line_ids(preview):
            changes.append(f"{titles.get(pid, 'An item')} is no longer in your cart.")
    held_now = {o.order_id: o for o in preview.held}
    for order_id, order in held_now.items():
        if order_id not in seen.held and (order.entries or order.tickets):
            changes.append(
                f"Order #{order_id} was waiting for payment with {order.summary()}: this "
                "checkout replaces it, so they are part of this order."
            )
    changes += _calendar_changes(seen, preview)
    if seen.total != preview.total:
        changes.append(f"The total is now {money(preview.total)} (it was {money(seen.total)}).")
    if not changes:
        changes.append("Your cart changed in another window; please check it before paying.")
    return changes


def _calendar_changes(seen: Seen, preview: OrderPreview) -> list[str]:
    """Bookings and tickets added or gone, counted by name."""
    held_ids = {t.id for t in preview.held_tickets} | {e.id for e in preview.held_entries}
    added = Counter(
        name
        for name, item_id in [
            *((e.name, e.id) for e in preview.all_entries if e.id not in seen.entries),
            *((t.entry_name, t.id) for t in preview.all_tickets if t.id not in seen.tickets),
        ]
        if item_id not in held_ids
    )
    now = {e.id for e in preview.all_entries} | {t.id for t in preview.all_tickets}
    gone = sum(1 for item_id in [*seen.entries, *seen.tickets] if item_id not in now)
    changes = [
        f"{name} was added ({count} {'place' if count == 1 else 'places'})."
        for name, count in added.items()
    ]
    if gone:
        changes.append(
            f"{gone} booking{'' if gone == 1 else 's'} or ticket{'' if gone == 1 else 's'} "
            "you saw {} no longer in your cart.".format("is" if gone == 1 else "are")
        )
    return changes
