"""Messages the mail server refused for good: listed for the operator, and sent once put back."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from bp.order.services.dead_mail import dead_mail, retry_dead_mail
from tests.bp.order.services.test_mail_relay import add_user, messages, paid_order, send
from tests.support.checkout import payments_config
from tests.support.http import settings_of
from tests.support.mail import Inbox, mail_settings
from tests.support.processes import ROOT


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str, smtp_inbox: Inbox) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin, **mail_settings(smtp_inbox))


async def test_a_dead_message_is_listed_and_sent_once_put_back(
    app: Quart, db: AsyncSession, smtp_inbox: Inbox
) -> None:
    await add_user(db)
    first = await paid_order(app, db)
    second = await paid_order(app, db)
    smtp_inbox.refuse = "550 5.7.1 Relaying denied"
    assert (await send(app)).outcomes == ["dead", "dead"]

    listed = await dead_mail(db)
    assert [(m.order_id, m.kind) for m in listed] == [
        (first.id, "order_paid"),
        (second.id, "order_paid"),
    ]
    assert all(m.note and "Relaying denied" in m.note for m in listed)

    smtp_inbox.refuse = None
    assert await retry_dead_mail(db, ids=[listed[0].id]) == 1
    assert (await send(app)).outcomes == ["sent"]
    assert [mail.subject for mail in smtp_inbox.received] == [
        f"Order #{first.id} is paid: thank you"
    ]
    assert await retry_dead_mail(db) == 1
    assert (await send(app)).outcomes == ["sent"]
    assert [m.status for m in await messages(db)] == ["sent", "sent"]
    assert await dead_mail(db) == []


def test_manage_lists_dead_mail(app: Quart) -> None:
    settings = settings_of(app)
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": str(settings.database_url),
        "REDIS_URL": str(settings.redis_url),
    }
    listed = subprocess.run(
        [sys.executable, "manage.py", "dead-mail"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert "no dead messages" in listed.stdout
