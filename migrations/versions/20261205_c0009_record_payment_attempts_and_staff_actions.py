"""Record every payment attempt of an order, and every action the coop's staff take.

`payment_attempts` keeps one row per (order, attempt): its SumUp reference, checkout id,
status and transaction code. The order row keeps only the attempt in force, and several code
paths change it (checkout, pay again, settlement, expiry, the reconciler); a trigger on
`orders` writes the attempt's row in the same transaction as any change to those columns,
so no path can forget it. The orders that exist already get a row for their last attempt,
the only one they remember.

`staff_actions` is the audit of the staff console: who did what to which order (or outbox
event, message, page), with what input, and the outcome.

A few indexes serve the staff's order list across all shoppers, newest first, and a trigram
index (pg_trgm) its search by part of an item's title. The downgrade drops both tables, the
trigger and the indexes.

Revision ID: c0009_audit_attempts
Revises: c0008_dead_mail_index
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0009_audit_attempts"
down_revision: str | None = "c0008_dead_mail_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD_ATTEMPT = """
CREATE FUNCTION record_payment_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.sumup_reference IS NULL THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE'
       AND NEW.attempt IS NOT DISTINCT FROM OLD.attempt
       AND NEW.sumup_reference IS NOT DISTINCT FROM OLD.sumup_reference
       AND NEW.sumup_checkout_id IS NOT DISTINCT FROM OLD.sumup_checkout_id
       AND NEW.sumup_status IS NOT DISTINCT FROM OLD.sumup_status
       AND NEW.sumup_transaction_code IS NOT DISTINCT FROM OLD.sumup_transaction_code THEN
        RETURN NEW;
    END IF;
    INSERT INTO payment_attempts AS attempts (
        order_id, attempt, sumup_reference, sumup_checkout_id, sumup_status,
        sumup_transaction_code, started_at, updated_at
    )
    VALUES (
        NEW.id, NEW.attempt, NEW.sumup_reference, NEW.sumup_checkout_id, NEW.sumup_status,
        NEW.sumup_transaction_code, COALESCE(NEW.checkout_started_at, now()), now()
    )
    ON CONFLICT (order_id, attempt) DO UPDATE SET
        sumup_reference = EXCLUDED.sumup_reference,
        sumup_checkout_id = COALESCE(EXCLUDED.sumup_checkout_id, attempts.sumup_checkout_id),
        sumup_status = COALESCE(EXCLUDED.sumup_status, attempts.sumup_status),
        sumup_transaction_code = COALESCE(
            EXCLUDED.sumup_transaction_code, attempts.sumup_transaction_code
        ),
        updated_at = now();
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "payment_attempts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("sumup_reference", sa.String(length=64), nullable=False),
        sa.Column("sumup_checkout_id", sa.String(length=64), nullable=True),
        sa.Column("sumup_status", sa.String(length=16), nullable=True),
        sa.Column("sumup_transaction_code", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_payment_attempts_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_attempts")),
        sa.UniqueConstraint("order_id", "attempt", name=op.f("uq_payment_attempts_order_id")),
    )
    op.create_index(
        op.f("ix_payment_attempts_sumup_transaction_code"),
        "payment_attempts",
        ["sumup_transaction_code"],
    )
    op.execute(
        "INSERT INTO payment_attempts (order_id, attempt, sumup_reference, sumup_checkout_id,"
        " sumup_status, sumup_transaction_code, started_at)"
        " SELECT id, attempt, sumup_reference, sumup_checkout_id, sumup_status,"
        " sumup_transaction_code, COALESCE(checkout_started_at, created_at)"
        " FROM orders WHERE sumup_reference IS NOT NULL"
    )
    op.execute(RECORD_ATTEMPT)
    op.execute(
        "CREATE TRIGGER orders_record_payment_attempt AFTER INSERT OR UPDATE ON orders"
        " FOR EACH ROW EXECUTE FUNCTION record_payment_attempt()"
    )
    op.create_table(
        "staff_actions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("staff_user_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "outcome IN ('done', 'refused')", name=op.f("ck_staff_actions_outcome_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_actions")),
    )
    op.create_index(
        "ix_staff_actions_order_created",
        "staff_actions",
        ["order_id", sa.text("created_at DESC")],
        postgresql_where=sa.text("order_id IS NOT NULL"),
    )
    op.create_index(
        "ix_staff_actions_created",
        "staff_actions",
        [sa.text("created_at DESC"), sa.text("id DESC")],
    )
    # The staff's order list: every shopper's orders newest first, by status, by page.
    op.create_index("ix_orders_created", "orders", [sa.text("created_at DESC"), sa.text("id DESC")])
    op.create_index(
        "ix_orders_status_created",
        "orders",
        ["status", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "ix_orders_page_created",
        "orders",
        ["page_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_index("ix_orders_sumup_transaction_code", "orders", ["sumup_transaction_code"])
    # Part of an item's title, among every shopper's orders: a trigram index finds a rare one
    # without reading every order (pg_trgm is a trusted extension: the database's owner may
    # create it).
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_order_items_title_trgm",
        "order_items",
        ["title"],
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )


def downgrade() -> None:
    # pg_trgm stays: other tables of the database may use it.
    op.drop_index("ix_order_items_title_trgm", table_name="order_items")
    op.drop_index("ix_orders_sumup_transaction_code", table_name="orders")
    op.drop_index("ix_orders_page_created", table_name="orders")
    op.drop_index("ix_orders_status_created", table_name="orders")
    op.drop_index("ix_orders_created", table_name="orders")
    op.drop_index("ix_staff_actions_created", table_name="staff_actions")
    op.drop_index("ix_staff_actions_order_created", table_name="staff_actions")
    op.drop_table("staff_actions")
    op.execute("DROP TRIGGER orders_record_payment_attempt ON orders")
    op.execute("DROP FUNCTION record_payment_attempt()")
    op.drop_index(op.f("ix_payment_attempts_sumup_transaction_code"), table_name="payment_attempts")
    op.drop_table("payment_attempts")
