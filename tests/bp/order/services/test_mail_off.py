"""Without an SMTP host mail is off: nothing is planned, nothing sent, no job runs."""

from __future__ import annotations

import asyncio

from quart import Quart
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from bp.order.services.mail_relay import send_order_mail
from bp.runtime import runtime
from models import SentMessage, User
from tests.bp.order.services.test_mail_relay import paid_order
from tests.support.checkout import events_of
from tests.support.mail import Inbox


async def test_nothing_is_sent_when_no_smtp_host_is_set(
    app: Quart, db: AsyncSession, smtp_inbox: Inbox
) -> None:
    db.add(User(id=7, email="ada@example.coop", name="Ada"))
    await db.commit()
    order = await paid_order(app, db)
    serving = runtime(app)
    assert serving.settings.smtp_host is None and serving.mailer is None

    result = await send_order_mail(
        databases=serving.databases,
        settings=serving.settings,
        mailer=serving.mailer,
        domains=serving.domains,
    )

    assert (result.planned, result.sent) == (0, 0)
    assert len(await events_of(db, "order.paid", order.id)) == 1
    assert await db.scalar(select(func.count()).select_from(SentMessage)) == 0
    assert smtp_inbox.received == []


async def test_the_mail_job_does_not_run_without_an_smtp_host(
    app_config: dict[str, object],
) -> None:
    busy = create_app({**app_config, "background_jobs_enabled": True, "smtp_host": ""})
    async with busy.test_app():
        await asyncio.sleep(0.1)
        assert runtime(busy).mailer is None
        assert "mail_job" not in runtime(busy).running_jobs
