"""An order's ticket lines grouped as sold: by title, type, start and price."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bp.order.services.get_order import OrderLineView
from bp.order.services.order_ticket_lines import group_order_tickets

FOLK = datetime(2026, 12, 12, 19, tzinfo=UTC)


def line(line_id: int, title: str, price: str, state: str | None = "confirmed") -> OrderLineView:
    return OrderLineView(
        id=line_id,
        kind="ticket",
        title=title,
        quantity=1,
        unit_price=Decimal(price),
        line_total=Decimal(price),
        state=state,
        starts_at=FOLK,
        ticket_code=f"CODE{line_id}",
        ticket_type="Standard",
    )


def test_ticket_lines_group_as_sold_and_keep_each_ticket() -> None:
    lines = [
        line(1, "Folk night (Standard)", "12.00"),
        line(2, "Folk night (Concession)", "8.00"),
        line(3, "Folk night (Standard)", "12.00", state="cancelled"),
        # Sold at another price (another checkout): its own line.
        line(4, "Folk night (Standard)", "10.00"),
    ]

    groups = group_order_tickets(lines)

    assert [(g.title, g.quantity, g.unit_price, g.line_total) for g in groups] == [
        ("Folk night (Standard)", 2, Decimal("12.00"), Decimal("24.00")),
        ("Folk night (Concession)", 1, Decimal("8.00"), Decimal("8.00")),
        ("Folk night (Standard)", 1, Decimal("10.00"), Decimal("10.00")),
    ]
    assert [(t.id, t.state) for t in groups[0].tickets] == [(1, "confirmed"), (3, "cancelled")]
    assert groups[0].starts_at == FOLK and groups[0].ticket_type == "Standard"
