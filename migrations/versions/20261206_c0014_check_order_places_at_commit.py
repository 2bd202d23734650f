"""Check an order's places when its transaction commits: a constraint trigger on `orders`.

Every checkout and settlement of an event queues on its slots' and ticket types' rows. Locked
by a statement, a row is held for every round trip to the worker until the commit, and under
load those round trips are most of the hold. A checkout or settlement that asks for it
(`cart.places_checked_at_commit`, set for its transaction) claims or confirms with no lock;
this trigger then locks the order's slots and ticket types at the commit, in the order every
other path locks them, and checks that they still fit: the rows are held for the check and
the commit alone. When they do not fit, the commit fails with `order_places_fit` and the
caller does the work again the way that locks first, which answers what was left.

The rules are those of the paths that lock first (bp/cart/services/places_at_commit.py):
- `claims` (a checkout): ordered and confirmed bookings, reserved, confirmed and checked-in
  tickets, within capacity where the order claimed one;
- `payment` (a settlement): confirmed bookings, confirmed and checked-in tickets, within
  capacity where the order confirmed one.

Revision ID: c0014_places_at_commit
Revises: c0013_order_checkouts
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "c0014_places_at_commit"
down_revision: str | None = "c0013_order_checkouts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK_FUNCTION = """
CREATE FUNCTION cart_order_places_fit() RETURNS trigger AS $$
DECLARE
    rule text := current_setting('cart.places_checked_at_commit', true);
    mine_entries text;
    mine_tickets text;
    taking_entries text[];
    taking_tickets text[];
    full_place bigint;
BEGIN
    IF rule = 'claims' THEN
        mine_entries := 'ordered';
        mine_tickets := 'reserved';
        taking_entries := ARRAY['ordered', 'confirmed'];
        taking_tickets := ARRAY['reserved', 'confirmed', 'checked_in'];
    ELSIF rule = 'payment' THEN
        mine_entries := 'confirmed';
        mine_tickets := 'confirmed';
        taking_entries := ARRAY['confirmed'];
        taking_tickets := ARRAY['confirmed', 'checked_in'];
    ELSE
        RETURN NULL;
    END IF;
    -- Slots, then ticket types, each in id order, as every checkout and settlement locks
    -- them (a target list is evaluated in order: the slots are locked first).
    PERFORM
        (SELECT count(*) FROM (
            SELECT 1 FROM calendar_slots
            WHERE id IN (SELECT slot_id FROM calendar_entries WHERE order_id = NEW.id)
            ORDER BY id FOR NO KEY UPDATE
        ) AS slots),
        (SELECT count(*) FROM (
            SELECT 1 FROM ticket_types
            WHERE id IN (SELECT ticket_type_id FROM tickets WHERE order_id = NEW.id)
            ORDER BY id FOR NO KEY UPDATE
        ) AS types);
    -- A statement of its own: it sees what the transactions that held them committed.
    SELECT place INTO full_place FROM (
        SELECT s.id AS place FROM calendar_slots s
        WHERE s.capacity IS NOT NULL
          AND s.id IN (
              SELECT slot_id FROM calendar_entries
              WHERE order_id = NEW.id AND state = mine_entries
          )
          AND s.capacity < (
              SELECT count(*) FROM calendar_entries e
              WHERE e.slot_id = s.id AND e.state = ANY (taking_entries)
          )
        UNION ALL
        SELECT t.id FROM ticket_types t
        WHERE t.capacity IS NOT NULL
          AND t.id IN (
              SELECT ticket_type_id FROM tickets WHERE order_id = NEW.id AND state = mine_tickets
          )
          AND t.capacity < (
              SELECT count(*) FROM tickets k
              WHERE k.ticket_type_id = t.id AND k.state = ANY (taking_tickets)
          )
    ) AS full_places
    LIMIT 1;
    IF full_place IS NOT NULL THEN
        RAISE EXCEPTION 'order % holds more places than are left', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_places_fit';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
CHECK_TRIGGER = """
CREATE CONSTRAINT TRIGGER orders_places_fit
AFTER INSERT OR UPDATE OF status ON orders
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW WHEN (NEW.status IN ('pending', 'paid'))
EXECUTE FUNCTION cart_order_places_fit()
"""


def upgrade() -> None:
    op.execute(CHECK_FUNCTION)
    op.execute(CHECK_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER orders_places_fit ON orders")
    op.execute("DROP FUNCTION cart_order_places_fit()")
