#!/usr/bin/env python3
"""Operator commands.

wait-db                      wait until the database answers
flush-cart-redis             flush the cart's own Redis index (never the shared one)
reconcile                    one reconciler pass: settle or expire open orders
relay                        one outbox relay pass to the federation store
dead-letters                 list the outbox events the relay gave up on, with their last error
retry-dead-letters [ID ...]  put dead-lettered events (all, or these) back in the relay's queue
mail                         one pass of the shopper's mail (paid, refund due, refund made)
dead-mail                    list the messages the mail server refused for good, with its answer
retry-dead-mail [ID ...]     put dead messages (all, or these) back in the mail queue
refund ORDER_ID [--amount X] refund a paid order through SumUp (asks SumUp first whether an
                             earlier refund whose answer was lost went through)
resolve-mismatch ORDER_ID    record that an order's unmatched payment was settled by hand
resolve-second-payment ORDER_ID
                             record that a second payment of a paid order was refunded
purge-carts                  one pass: empty anonymous carts untouched for ANONYMOUS_CART_DAYS
set-page-merchant SLUG --merchant-code C --api-key-env VAR [--prefix P]
                             pay a page to its own SumUp merchant (the key is read from $VAR)
reseal-page-keys             seal every stored page API key again with the first key of
                             PAGE_CONFIG_ENCRYPTION_KEY (after adding a new key in front)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import path_setup  # noqa: F401
from config.settings import load_settings
from services.runtime import open_runtime

WAIT_SECONDS = 60


async def wait_for_database() -> None:
    """Retry `SELECT 1` until the database answers or the time is up."""
    from sqlalchemy import text

    settings = load_settings()
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is not set")
    deadline = time.monotonic() + WAIT_SECONDS
    async with open_runtime(settings) as runtime:
        while True:
            try:
                async with runtime.databases.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
                print("database is up", flush=True)
                return
            except Exception as exc:  # any failure means "not yet": retry until the deadline
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"database not reachable after {WAIT_SECONDS}s: {exc}"
                    ) from exc
                await asyncio.sleep(1)


async def flush_cart_redis() -> None:
    """FLUSHDB on the cart's own index only; the shared sign-in index is never touched."""
    settings = load_settings()
    async with open_runtime(settings) as runtime:
        await runtime.redis.cart.flushdb()
    print(f"flushed Redis index {settings.redis_cart_db} (cart)", flush=True)


async def reconcile() -> None:
    """One reconciler pass (skipped when a serving worker is in one)."""
    from bp.cart.services.reconciler import reconcile_and_record

    async with open_runtime(load_settings()) as runtime:
        report = await reconcile_and_record(runtime)
    if not report.ran:
        print("another reconciler pass is running; nothing done", flush=True)
        return
    print(
        f"checked {report.checked}, paid {report.paid}, expired {report.expired}, "
        f"errors {report.errors}, refunds resolved {report.refunds_resolved}",
        flush=True,
    )


async def relay() -> None:
    """One pass of the outbox relay to the federation store."""
    from services.events import relay_outbox

    async with open_runtime(load_settings()) as runtime:
        result = await relay_outbox(
            sessionmaker=runtime.databases.sessionmaker,
            federation_sessionmaker=runtime.databases.federation_sessionmaker,
            batch_size=runtime.settings.relay_batch_size,
            max_attempts=runtime.settings.relay_max_attempts,
            backoff_seconds=runtime.settings.relay_backoff_seconds,
        )
    print(
        f"delivered {result.delivered}, failed {result.failed}, "
        f"dead-lettered {result.dead_lettered}",
        flush=True,
    )


async def mail() -> None:
    """One pass of the shopper's mail: plan what new events call for, send what is due."""
    from bp.order.services.mail_relay import send_order_mail

    async with open_runtime(load_settings()) as runtime:
        if runtime.mailer is None:
            print("mail is off: SMTP_HOST is not set", flush=True)
            return
        result = await send_order_mail(
            databases=runtime.databases,
            settings=runtime.settings,
            mailer=runtime.mailer,
            domains=runtime.domains,
            batch_size=runtime.settings.relay_batch_size,
        )
    print(
        f"planned {result.planned}, sent {result.sent}, skipped {result.skipped}, "
        f"failed {result.failed} (dead-lettered {result.dead})",
        flush=True,
    )


async def list_dead_mail() -> None:
    """Print the messages the mail server refused for good."""
    from bp.order.services.dead_mail import dead_mail

    async with (
        open_runtime(load_settings()) as runtime,
        runtime.databases.sessionmaker() as session,
    ):
        rows = await dead_mail(session)
    if not rows:
        print("no dead messages", flush=True)
    for row in rows:
        print(
            f"{row.id}\t{row.kind}\torder {row.order_id}\t{row.failures} refusals\t{row.note}",
            flush=True,
        )


async def retry_dead_mail(ids: list[int]) -> None:
    """Put dead messages back in the mail queue."""
    from bp.order.services.dead_mail import retry_dead_mail as retry

    async with (
        open_runtime(load_settings()) as runtime,
        runtime.databases.sessionmaker() as session,
    ):
        count = await retry(session, ids=ids)
    print(f"{count} dead message(s) put back in the mail queue", flush=True)


async def list_dead_letters() -> None:
    """Print the outbox events the relay gave up on."""
    from services.events import dead_letters

    async with (
        open_runtime(load_settings()) as runtime,
        runtime.databases.sessionmaker() as session,
    ):
        rows = await dead_letters(session)
    if not rows:
        print("no dead-lettered events", flush=True)
    for row in rows:
        assert row.dead_lettered_at is not None
        print(
            f"{row.id}\t{row.event_type}\t{row.object_id}\t{row.failures} refusals\t"
            f"dead-lettered {row.dead_lettered_at:%Y-%m-%d %H:%M:%S} UTC\t{row.last_error}",
            flush=True,
        )


async def retry_dead_letters(ids: list[int]) -> None:
    """Put dead-lettered outbox events back in the relay's queue."""
    from services.events import retry_dead_letters as retry

    async with (
        open_runtime(load_settings()) as runtime,
        runtime.databases.sessionmaker() as session,
    ):
        count = await retry(session, ids=ids)
    print(f"{count} dead-lettered event(s) put back in the relay's queue", flush=True)


async def purge_carts() -> None:
    """One pass of the purge of anonymous carts left behind (skipped when a worker is in one)."""
    from bp.cart.services.purge import purge_once

    async with open_runtime(load_settings()) as runtime:
        report = await purge_once(
            databases=runtime.databases, settings=runtime.settings, domains=runtime.domains
        )
    if not report.ran:
        print("another purge pass is running; nothing done", flush=True)
        return
    print(
        f"emptied {report.carts} anonymous carts: {report.lines} lines, "
        f"{report.bookings} bookings and {report.tickets} tickets cancelled",
        flush=True,
    )


async def refund(order_id: int, amount: str | None) -> None:
    """Refund a paid order through SumUp and record it on the order."""
    from bp.cart.services.refunds import parse_refund_amount, refund_order
    from lib.errors import ServiceError
    from lib.money import format_money

    async with open_runtime(load_settings()) as runtime:
        try:
            async with runtime.databases.sessionmaker() as session:
                result = await refund_order(
                    session,
                    order_id=order_id,
                    settings=runtime.settings,
                    gateway=runtime.gateway,
                    domains=runtime.domains,
                    amount=parse_refund_amount(amount),
                )
        except ServiceError as error:
            raise SystemExit(f"refund refused: {error.message}") from None
    print(
        f"order {result.order_id}: refunded "
        f"{format_money(result.amount, result.currency, locale=runtime.settings.locale)}",
        flush=True,
    )


async def resolve_mismatch(order_id: int) -> None:
    """Record that the order's payment that did not match it was settled in SumUp by hand."""
    from bp.cart.services.payment_mismatch import resolve_payment_mismatch
    from lib.errors import ServiceError

    async with (
        open_runtime(load_settings()) as runtime,
        runtime.databases.sessionmaker() as session,
    ):
        try:
            marked_at = await resolve_payment_mismatch(session, order_id=order_id)
        except ServiceError as error:
            raise SystemExit(error.message) from None
    print(
        f"order {order_id}: the unmatched payment noticed on {marked_at:%Y-%m-%d %H:%M} UTC "
        "is recorded as resolved",
        flush=True,
    )


async def resolve_second(order_id: int) -> None:
    """Record that the second payment of a paid order was refunded in SumUp by hand."""
    from bp.cart.services.second_payment import resolve_second_payment
    from lib.errors import ServiceError

    async with (
        open_runtime(load_settings()) as runtime,
        runtime.databases.sessionmaker() as session,
    ):
        try:
            flagged_at = await resolve_second_payment(session, order_id=order_id)
        except ServiceError as error:
            raise SystemExit(error.message) from None
    print(
        f"order {order_id}: the second payment noticed on {flagged_at:%Y-%m-%d %H:%M} UTC "
        "is recorded as refunded",
        flush=True,
    )


async def set_page_merchant(
    page_slug: str, merchant_code: str, api_key_env: str, prefix: str | None
) -> None:
    """Pay a page to its own SumUp merchant; the API key comes from an environment variable."""
    import os

    from bp.cart.services.merchants import set_page_merchant as store_page_merchant

    api_key = os.environ.get(api_key_env, "").strip()
    if not api_key:
        raise SystemExit(f"${api_key_env} is empty: export the page's SumUp API key in it first")
    async with (
        open_runtime(load_settings()) as runtime,
        runtime.databases.sessionmaker() as session,
    ):
        page = await runtime.domains.blog.page_by_slug(session, page_slug)
        if page is None:
            raise SystemExit(f"there is no page {page_slug!r}")
        try:
            await store_page_merchant(
                session,
                settings=runtime.settings,
                page_id=page.id,
                merchant_code=merchant_code,
                api_key=api_key,
                checkout_prefix=prefix,
            )
        except ValueError as error:
            raise SystemExit(str(error)) from None
    print(f"page {page_slug!r} is now paid to SumUp merchant {merchant_code}", flush=True)


async def reseal_page_keys() -> None:
    """Seal every page's SumUp API key again with PAGE_CONFIG_ENCRYPTION_KEY's first key."""
    from bp.cart.services.merchants import reseal_api_keys

    async with (
        open_runtime(load_settings()) as runtime,
        runtime.databases.sessionmaker() as session,
    ):
        resealed, unreadable = await reseal_api_keys(session, settings=runtime.settings)
    print(f"sealed {resealed} page API key(s) again with the first key", flush=True)
    if unreadable:
        pages = ", ".join(str(page_id) for page_id in unreadable)
        raise SystemExit(
            f"no key of PAGE_CONFIG_ENCRYPTION_KEY opens the API key of page(s) {pages}: "
            "add the key they were sealed with, or set their merchant again"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    commands.add_parser("wait-db", help="wait until the database answers")
    commands.add_parser("flush-cart-redis", help="flush the cart's own Redis index")
    commands.add_parser("reconcile", help="one reconciler pass")
    commands.add_parser("relay", help="one outbox relay pass")
    commands.add_parser("mail", help="one pass of the shopper's mail")
    commands.add_parser("dead-mail", help="list the messages the mail server refused for good")
    retry_mail = commands.add_parser(
        "retry-dead-mail", help="put dead messages back in the mail queue"
    )
    retry_mail.add_argument("ids", type=int, nargs="*", help="message ids (default: all)")
    commands.add_parser("dead-letters", help="list the outbox events the relay gave up on")
    retry_parser = commands.add_parser(
        "retry-dead-letters", help="put dead-lettered events back in the relay's queue"
    )
    retry_parser.add_argument("ids", type=int, nargs="*", help="event ids (default: all)")
    commands.add_parser("purge-carts", help="empty anonymous carts left behind (one pass)")
    refund_parser = commands.add_parser("refund", help="refund a paid order through SumUp")
    refund_parser.add_argument("order_id", type=int)
    refund_parser.add_argument("--amount", help="e.g. 12.50 (default: what the order owes back)")
    resolve = commands.add_parser(
        "resolve-mismatch", help="record that an unmatched payment was settled by hand"
    )
    resolve.add_argument("order_id", type=int)
    second = commands.add_parser(
        "resolve-second-payment", help="record that a second payment was refunded by hand"
    )
    second.add_argument("order_id", type=int)
    merchant = commands.add_parser("set-page-merchant", help="pay a page to its own merchant")
    merchant.add_argument("page_slug")
    merchant.add_argument("--merchant-code", required=True)
    merchant.add_argument(
        "--api-key-env", required=True, help="the environment variable holding the API key"
    )
    merchant.add_argument("--prefix", help="checkout reference prefix (default: the site's)")
    commands.add_parser(
        "reseal-page-keys", help="seal every page API key again with the first encryption key"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.command == "wait-db":
        asyncio.run(wait_for_database())
    elif args.command == "flush-cart-redis":
        asyncio.run(flush_cart_redis())
    elif args.command == "reconcile":
        asyncio.run(reconcile())
    elif args.command == "relay":
        asyncio.run(relay())
    elif args.command == "mail":
        asyncio.run(mail())
    elif args.command == "dead-mail":
        asyncio.run(list_dead_mail())
    elif args.command == "retry-dead-mail":
        asyncio.run(retry_dead_mail(args.ids))
    elif args.command == "dead-letters":
        asyncio.run(list_dead_letters())
    elif args.command == "retry-dead-letters":
        asyncio.run(retry_dead_letters(args.ids))
    elif args.command == "purge-carts":
        asyncio.run(purge_carts())
    elif args.command == "refund":
        asyncio.run(refund(args.order_id, args.amount))
    elif args.command == "resolve-mismatch":
        asyncio.run(resolve_mismatch(args.order_id))
    elif args.command == "resolve-second-payment":
        asyncio.run(resolve_second(args.order_id))
    elif args.command == "reseal-page-keys":
        asyncio.run(reseal_page_keys())
    else:
        asyncio.run(
            set_page_merchant(args.page_slug, args.merchant_code, args.api_key_env, args.prefix)
        )


if __name__ == "__main__":
    main(sys.argv[1:])
