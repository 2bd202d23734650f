"""A cart's tickets grouped by event and type, in the order the events come."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bp.cart.services.cart_ticket_lines import group_tickets
from services.contracts.dtos import TicketDTO

FOLK = datetime(2026, 12, 12, 19, tzinfo=UTC)
QUIZ = datetime(2026, 12, 19, 19, tzinfo=UTC)


def ticket(ticket_id: int, entry_id: int, type_id: int | None, cost: str) -> TicketDTO:
    return TicketDTO(
        id=ticket_id,
        entry_id=entry_id,
        entry_name={1: "Folk night", 2: "Quiz"}[entry_id],
        entry_start_at={1: FOLK, 2: QUIZ}[entry_id],
        ticket_type_id=type_id,
        ticket_type_name=None if type_id is None else f"Type {type_id}",
        cost=Decimal(cost),
        state="pending",
        code=f"CODE{ticket_id}",
        calendar_container_type="page",
        calendar_container_id=1,
    )


def test_tickets_group_by_event_and_type_with_quantity_and_line_total() -> None:
    tickets = [
        ticket(1, 1, 10, "12.00"),
        ticket(4, 1, 10, "12.00"),
        ticket(2, 1, 11, "8.00"),
        ticket(3, 2, None, "5.00"),
        ticket(5, 2, None, "5.00"),
        ticket(6, 1, 10, "12.00"),
    ]

    groups = group_tickets(tickets)

    assert [(g.key, g.quantity, g.line_total, g.unit_cost) for g in groups] == [
        ("1-10", 3, Decimal("36.00"), Decimal("12.00")),
        ("1-11", 1, Decimal("8.00"), Decimal("8.00")),
        ("2-none", 2, Decimal("10.00"), Decimal("5.00")),
    ]
    assert [t.id for t in groups[0].tickets] == [1, 4, 6]
    assert groups[2].newest.id == 5
    assert (groups[0].entry_name, groups[0].ticket_type_name) == ("Folk night", "Type 10")


def test_no_tickets_no_groups() -> None:
    assert group_tickets([]) == []
