"""Create the coop's shared tables (pages, products, calendars, tickets, federation activities).

Only a standalone deployment runs this branch; a coop deployment already has these tables.

Revision ID: s0001_shared
Revises: None
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "s0001_shared"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("shared",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ap_activities",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("activity_id", sa.UUID(), nullable=False),
        sa.Column("activity_type", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ap_activities")),
        sa.UniqueConstraint("activity_id", name=op.f("uq_ap_activities_activity_id")),
    )
    op.create_table(
        "calendars",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("container_type", sa.String(length=32), server_default="page", nullable=False),
        sa.Column("container_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendars")),
    )
    op.create_index(op.f("ix_calendars_container_id"), "calendars", ["container_id"], unique=False)
    op.create_table(
        "pages",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("slug", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("summary", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
        sa.UniqueConstraint("slug", name=op.f("uq_pages_slug")),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("page_id", sa.BigInteger(), nullable=False),
        sa.Column("slug", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("image_url", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("price >= 0", name=op.f("ck_products_price_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    op.create_index(op.f("ix_products_page_id"), "products", ["page_id"], unique=False)
    op.create_table(
        "calendar_entries",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("calendar_id", sa.BigInteger(), nullable=False),
        sa.Column("slot_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("cost", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("ticket_price", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'ordered', 'confirmed', 'cancelled')",
            name=op.f("ck_calendar_entries_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["calendars.id"],
            name=op.f("fk_calendar_entries_calendar_id_calendars"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_entries")),
    )
    op.create_index(
        op.f("ix_calendar_entries_calendar_id"), "calendar_entries", ["calendar_id"], unique=False
    )
    op.create_index("ix_calendar_entries_order", "calendar_entries", ["order_id"], unique=False)
    op.create_index(
        "ix_calendar_entries_session_pending",
        "calendar_entries",
        ["session_id"],
        unique=False,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index(
        "ix_calendar_entries_user_pending",
        "calendar_entries",
        ["user_id"],
        unique=False,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_table(
        "calendar_slots",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("calendar_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cost", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["calendars.id"],
            name=op.f("fk_calendar_slots_calendar_id_calendars"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_slots")),
    )
    op.create_index(
        op.f("ix_calendar_slots_calendar_id"), "calendar_slots", ["calendar_id"], unique=False
    )
    op.create_table(
        "ticket_types",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("cost", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "capacity IS NULL OR capacity >= 0", name=op.f("ck_ticket_types_capacity_ok")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["calendar_entries.id"],
            name=op.f("fk_ticket_types_entry_id_calendar_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_types")),
    )
    op.create_index(op.f("ix_ticket_types_entry_id"), "ticket_types", ["entry_id"], unique=False)
    op.create_table(
        "tickets",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_type_id", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'reserved', 'confirmed', 'checked_in', 'cancelled')",
            name=op.f("ck_tickets_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["calendar_entries.id"],
            name=op.f("fk_tickets_entry_id_calendar_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_types.id"],
            name=op.f("fk_tickets_ticket_type_id_ticket_types"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("code", name=op.f("uq_tickets_code")),
    )
    op.create_index("ix_tickets_order", "tickets", ["order_id"], unique=False)
    op.create_index("ix_tickets_type_state", "tickets", ["ticket_type_id", "state"], unique=False)
    op.create_index(
        "ix_tickets_user_pending",
        "tickets",
        ["user_id"],
        unique=False,
        postgresql_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_tickets_user_pending",
        table_name="tickets",
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.drop_index("ix_tickets_type_state", table_name="tickets")
    op.drop_index("ix_tickets_order", table_name="tickets")
    op.drop_table("tickets")
    op.drop_index(op.f("ix_ticket_types_entry_id"), table_name="ticket_types")
    op.drop_table("ticket_types")
    op.drop_index(op.f("ix_calendar_slots_calendar_id"), table_name="calendar_slots")
    op.drop_table("calendar_slots")
    op.drop_index(
        "ix_calendar_entries_user_pending",
        table_name="calendar_entries",
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.drop_index(
        "ix_calendar_entries_session_pending",
        table_name="calendar_entries",
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.drop_index("ix_calendar_entries_order", table_name="calendar_entries")
    op.drop_index(op.f("ix_calendar_entries_calendar_id"), table_name="calendar_entries")
    op.drop_table("calendar_entries")
    op.drop_index(op.f("ix_products_page_id"), table_name="products")
    op.drop_table("products")
    op.drop_table("pages")
    op.drop_index(op.f("ix_calendars_container_id"), table_name="calendars")
    op.drop_table("calendars")
    op.drop_table("ap_activities")
