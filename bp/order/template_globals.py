"""What the order pages' templates call: a ticket's QR code, inline."""

from __future__ import annotations

from markupsafe import Markup

from bp.order.blueprint import bp
from bp.order.services.ticket_codes import ticket_qr_svg


@bp.app_template_global("ticket_qr")
def ticket_qr(code: str) -> Markup:
    """The ticket's code as an inline SVG QR code (segno's markup, escaped by it)."""
    return Markup(ticket_qr_svg(code))  # noqa: S704  (segno escapes the code it embeds)
