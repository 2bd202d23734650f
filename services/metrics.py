"""The `/metrics` scrape: gauges read from the database at scrape time, so every worker answers
the same, and the service's counters and histograms (lib/metrics.py), every worker's."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from lib.metrics import Metrics
from models import OPEN_STATUSES
from models.base import sql_list

# Prometheus' classic text format, the one generate_latest writes.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Each query is served by a partial index, so a scrape stays cheap with millions of orders (the
# statuses are written into the SQL, as in the index, so the planner can match it).
OPEN_ORDERS = text(
    "SELECT status, count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "  # noqa: S608  (constants only)
    f"FROM orders WHERE status IN ({sql_list(OPEN_STATUSES)}) GROUP BY status"
)
OUTBOX_BACKLOG = text(
    "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "
    "FROM event_outbox WHERE delivered_at IS NULL AND dead_lettered_at IS NULL"
)
OUTBOX_DEAD_LETTERED = text("SELECT count(*) FROM event_outbox WHERE dead_lettered_at IS NOT NULL")
RECONCILER_DUE = text(
    "SELECT count(*), coalesce(extract(epoch FROM now() - min(next_check_at)), 0) "  # noqa: S608  (constants only)
    f"FROM orders WHERE status IN ({sql_list(OPEN_STATUSES)}) AND next_check_at <= now()"
)
REFUNDS_UNCONFIRMED = text(
    "SELECT count(*) FROM orders WHERE refund_requested_at IS NOT NULL AND refunded_at IS NULL"
)
PAYMENT_MISMATCHES = text(
    "SELECT count(*) FROM orders "
    "WHERE payment_mismatch_at IS NOT NULL AND payment_mismatch_resolved_at IS NULL"
)
REFUNDS_DUE = text("SELECT count(*) FROM orders WHERE needs_refund AND refunded_at IS NULL")
SECOND_PAYMENTS = text(
    "SELECT count(*) FROM orders "
    "WHERE second_payment_at IS NOT NULL AND second_payment_refunded_at IS NULL"
)
# Served by ix_sent_messages_dead (a partial index: dead messages are few, sent ones many).
DEAD_MAIL = text("SELECT count(*) FROM sent_messages WHERE status = 'dead'")


@dataclass
class DatabaseReadings:
    """What the gauges' queries found (counts, and ages in seconds)."""

    open_orders: dict[str, int] = field(default_factory=dict)
    open_order_oldest_seconds: float = 0.0
    reconciler_due: int = 0
    reconciler_overdue_seconds: float = 0.0
    outbox_undelivered: int = 0
    outbox_oldest_seconds: float = 0.0
    outbox_dead_lettered: int = 0
    refunds_due: int = 0
    refunds_unconfirmed: int = 0
    payment_mismatches: int = 0
    second_payments: int = 0
    mail_dead: int = 0


@dataclass(frozen=True)
class OutboxBacklog:
    """The relay's backlog: rows waiting, the oldest one's age, rows given up on."""

    undelivered: int
    oldest_seconds: float
    dead_lettered: int


async def read_outbox_backlog(session: AsyncSession) -> OutboxBacklog:
    """The outbox relay's backlog as it stands (two indexed queries)."""
    backlog, age = (await session.execute(OUTBOX_BACKLOG)).one()
    dead = await session.scalar(OUTBOX_DEAD_LETTERED)
    return OutboxBacklog(int(backlog), float(age), int(dead or 0))


async def read_database_gauges(session: AsyncSession) -> DatabaseReadings:
    """Run the gauges' queries."""
    readings = DatabaseReadings(open_orders=dict.fromkeys(OPEN_STATUSES, 0))
    for status, count, age in (await session.execute(OPEN_ORDERS)).all():
        readings.open_orders[status] = int(count)
        readings.open_order_oldest_seconds = max(readings.open_order_oldest_seconds, float(age))
    due, overdue = (await session.execute(RECONCILER_DUE)).one()
    readings.reconciler_due, readings.reconciler_overdue_seconds = int(due), float(overdue)
    outbox = await read_outbox_backlog(session)
    readings.outbox_undelivered = outbox.undelivered
    readings.outbox_oldest_seconds = outbox.oldest_seconds
    readings.outbox_dead_lettered = outbox.dead_lettered
    readings.refunds_due = int(await session.scalar(REFUNDS_DUE) or 0)
    readings.refunds_unconfirmed = int(await session.scalar(REFUNDS_UNCONFIRMED) or 0)
    readings.payment_mismatches = int(await session.scalar(PAYMENT_MISMATCHES) or 0)
    readings.second_payments = int(await session.scalar(SECOND_PAYMENTS) or 0)
    readings.mail_dead = int(await session.scalar(DEAD_MAIL) or 0)
    return readings


class DatabaseGauges(Collector):
    """A collector of the gauges read from the database for one scrape.

    prometheus-client collects synchronously, so the scrape reads the database first
    (`read_database_gauges`) and this collector hands those readings over.
    """

    def __init__(self, readings: DatabaseReadings) -> None:
        self.readings = readings

    def collect(self) -> Iterator[Metric]:
        r = self.readings
        open_orders = GaugeMetricFamily(
            "cart_open_orders", "Orders awaiting payment, by status.", labels=("status",)
        )
        for status, count in sorted(r.open_orders.items()):
            open_orders.add_metric((status,), count)
        yield open_orders
        yield from (
            GaugeMetricFamily(name, help_text, value=value)
            for name, help_text, value in (
                (
                    "cart_open_order_oldest_seconds",
                    "Age of the oldest order awaiting payment.",
                    round(r.open_order_oldest_seconds),
                ),
                (
                    "cart_reconciler_due_orders",
                    "Orders awaiting payment whose reconciler check is due.",
                    r.reconciler_due,
                ),
                (
                    "cart_reconciler_overdue_seconds",
                    "How long the most overdue reconciler check has waited (stays below the "
                    "reconciler's interval while it keeps up).",
                    round(r.reconciler_overdue_seconds),
                ),
                (
                    "cart_outbox_undelivered",
                    "Domain events waiting to be relayed to the federation store (dead letters "
                    "apart).",
                    r.outbox_undelivered,
                ),
                (
                    "cart_outbox_oldest_seconds",
                    "Age of the oldest undelivered event.",
                    round(r.outbox_oldest_seconds),
                ),
                (
                    "cart_outbox_dead_lettered",
                    "Domain events the relay gave up on (see manage.py dead-letters).",
                    r.outbox_dead_lettered,
                ),
                (
                    "cart_refunds_due",
                    "Paid orders marked as needing a refund, not yet refunded.",
                    r.refunds_due,
                ),
                (
                    "cart_refunds_unconfirmed",
                    "Refunds sent to SumUp whose outcome is not confirmed yet.",
                    r.refunds_unconfirmed,
                ),
                (
                    "cart_payment_mismatches",
                    "Payments SumUp reported that did not match their order, not yet resolved "
                    "by an operator.",
                    r.payment_mismatches,
                ),
                (
                    "cart_second_payments",
                    "Paid orders paid a second time, whose second payment is not yet recorded "
                    "as refunded (manage.py resolve-second-payment).",
                    r.second_payments,
                ),
                (
                    "cart_mail_dead",
                    "Shoppers' messages the mail server refused for good (see manage.py "
                    "dead-mail).",
                    r.mail_dead,
                ),
            )
        )


class DependencyGauges(Collector):
    """Whether this worker reached each dependency at this scrape (1) or not (0): the scrape
    answers while the database or Redis is down, so that an alert can name which."""

    def __init__(self, checks: dict[str, str]) -> None:
        self.checks = checks

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "cart_dependency_up",
            "Whether this worker reached the dependency (database, redis) at this scrape.",
            labels=("dependency",),
        )
        for dependency, check in sorted(self.checks.items()):
            up.add_metric((dependency,), 1 if check == "ok" else 0)
        yield up


async def collect_metrics(
    session: AsyncSession, metrics: Metrics, *, checks: dict[str, str]
) -> bytes:
    """The Prometheus text exposition: whether each dependency answered (`checks`, from the
    readiness check), the database's gauges when it did, then the service's own metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DependencyGauges(checks))
    if checks.get("database") == "ok":
        registry.register(DatabaseGauges(await read_database_gauges(session)))
    return generate_latest(registry) + metrics.exposition()
