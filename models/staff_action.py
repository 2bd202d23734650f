"""The staff console's audit: every action a member of the coop's staff took, and its outcome."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import CartBase, CreatedAt, sql_list

STAFF_ACTION_OUTCOMES = ("done", "refused")


class StaffAction(CartBase):
    """Who (an account user id), when, what (action, target, detail) and the outcome."""

    __tablename__ = "staff_actions"
    __table_args__ = (
        CheckConstraint(f"outcome IN ({sql_list(STAFF_ACTION_OUTCOMES)})", name="outcome_known"),
        # An order's timeline.
        Index(
            "ix_staff_actions_order_created",
            "order_id",
            text("created_at DESC"),
            postgresql_where=text("order_id IS NOT NULL"),
        ),
        # The activity list, newest first.
        Index("ix_staff_actions_created", text("created_at DESC"), text("id DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    # The order acted on, when the action is about one (no foreign key: the audit outlives it).
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    # What was acted on, in words: "order #12", "outbox event 5", "page bakery".
    target: Mapped[str] = mapped_column(String(255), nullable=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    created_at: Mapped[CreatedAt]
