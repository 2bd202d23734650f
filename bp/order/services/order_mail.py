"""The shopper's mail about an order: which messages an event calls for, and each message.

An `order.paid` event calls for the confirmation, and, when part of what was paid for sold out
before the payment arrived (seed 004), a second message saying a refund is due; an
`order.refunded` event calls for the message that the refund was made. Both parts of each
message (plain text and HTML) are rendered from templates/mail/, the HTML one escaped as the
pages are; each carries the order's link. The confirmation also carries a calendar file per
booking and event, and each ticket's QR code as an image the HTML part shows by its code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment

from bp.cart.services.order_events import ORDER_PAID, ORDER_REFUNDED
from bp.order.services.calendar_files import calendar_files
from bp.order.services.get_order import DELIVERED_STATES, OrderView
from bp.order.services.order_link import order_link
from bp.order.services.order_lookup import LinkedOrder
from bp.order.services.ticket_codes import ticket_qr_png
from config.settings import Settings, mail_address
from lib.money import format_money
from models import Order
from services.contracts.dtos import ShopperContact
from services.mail import Attachment, InlineImage, compose_message, message_id_for

ORDER_PAID_MAIL = "order_paid"
REFUND_DUE_MAIL = "refund_due"
REFUND_MADE_MAIL = "refund_made"
# The events the shopper hears about.
MAIL_EVENTS = (ORDER_PAID, ORDER_REFUNDED)


def kinds_for(event_type: str, activity: dict[str, Any]) -> list[str]:
    """The messages one outbox event calls for (its activity as written to the outbox)."""
    order = activity.get("object") or {}
    if event_type == ORDER_PAID:
        kinds = [ORDER_PAID_MAIL]
        if order.get("needsRefund"):
            kinds.append(REFUND_DUE_MAIL)
        return kinds
    if event_type == ORDER_REFUNDED:
        return [REFUND_MADE_MAIL]
    return []


@dataclass(frozen=True)
class Rendered:
    """A message's subject, both of its parts, and the files that go with them."""

    subject: str
    text: str
    html: str
    images: tuple[InlineImage, ...] = ()
    attachments: tuple[Attachment, ...] = ()


def subject_for(kind: str, order: Order, settings: Settings) -> str:
    if kind == ORDER_PAID_MAIL:
        return f"Order #{order.id} is paid: thank you"
    if kind == REFUND_DUE_MAIL:
        return f"Order #{order.id}: part of it sold out, a refund is due"
    amount = format_money(
        order.refunded_amount or Decimal("0"), order.currency, locale=settings.locale
    )
    return f"Order #{order.id}: {amount} refunded"


def render_mail(
    environment: Environment,
    *,
    kind: str,
    order: Order,
    view: OrderView,
    contact: ShopperContact,
    settings: Settings,
) -> Rendered:
    """Both parts of the message `kind` about `order`, and its subject."""
    subject = subject_for(kind, order, settings)
    link = order_link(settings, order.id, order.access_secret)
    files = calendar_files(view, settings=settings, link=link) if kind == ORDER_PAID_MAIL else []
    codes = _ticket_codes(view) if kind == ORDER_PAID_MAIL else []
    domain = _domain(settings)
    qr_cids = {code: f"qr-{code}@{domain}" for code in codes}
    context: dict[str, Any] = {
        "order": view,
        "refund_reason": order.refund_reason,
        "refunded_amount": order.refunded_amount,
        "name": contact.name,
        "order_link": link,
        "contact_email": settings.coop_contact_email,
        "subject": subject,
        "calendar_files": files,
        "qr_cids": qr_cids,
    }
    return Rendered(
        subject=subject,
        text=environment.get_template(f"mail/{kind}.txt").render(context),
        html=environment.get_template(f"mail/{kind}.html").render(context),
        images=tuple(
            InlineImage(cid=cid, filename=f"ticket-{code}.png", content=ticket_qr_png(code))
            for code, cid in qr_cids.items()
        ),
        attachments=tuple(
            Attachment(file.filename, file.content, "text", "calendar") for file in files
        ),
    )


def render_order_links(
    environment: Environment, *, orders: list[LinkedOrder], settings: Settings
) -> Rendered:
    """The "find my orders" mail: each order of the address with its link."""
    subject = "Your orders at the Rose Ash cooperative"
    context: dict[str, Any] = {
        "orders": orders,
        "name": None,
        "links": {
            order.id: order_link(settings, order.id, order.access_secret) for order in orders
        },
        "contact_email": settings.coop_contact_email,
        "subject": subject,
    }
    return Rendered(
        subject=subject,
        text=environment.get_template("mail/order_links.txt").render(context),
        html=environment.get_template("mail/order_links.html").render(context),
    )


def _ticket_codes(view: OrderView) -> list[str]:
    """The codes of the tickets the shopper got (a sold-out one has no code to show)."""
    return [
        line.ticket_code
        for line in view.tickets
        if line.ticket_code and line.state in DELIVERED_STATES
    ]


def _domain(settings: Settings) -> str:
    return urlsplit(settings.public_base_url).hostname or "localhost"


def build_message(
    rendered: Rendered,
    *,
    recipient: Address,
    settings: Settings,
    activity_id: str,
    kind: str,
) -> EmailMessage:
    """The message to send: from MAIL_FROM to the shopper, with a Message-ID stable per event."""
    assert settings.mail_from is not None
    return compose_message(
        sender=mail_address(settings.mail_from),
        to=recipient,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id=message_id_for(activity_id=activity_id, kind=kind, domain=_domain(settings)),
        images=rendered.images,
        attachments=rendered.attachments,
    )


def recipient_of(contact: ShopperContact) -> Address | None:
    """The shopper's address as a header value; None when it cannot be one."""
    try:
        address = mail_address(contact.email)
        return Address(display_name=contact.name or "", addr_spec=address.addr_spec)
    except ValueError:
        return None
