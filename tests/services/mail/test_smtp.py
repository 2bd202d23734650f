"""The SMTP mailer against a real SMTP server: login, STARTTLS never skipped when required,
and one typed error that tells a refusal from an unreachable server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from services.mail import MailError, SmtpMailer, compose_message
from tests.support.mail import HOST, Inbox


def message() -> EmailMessage:
    return compose_message(
        sender=Address("Rose Ash cart", addr_spec="cart@rose-ash.test"),
        to=Address("Ada", addr_spec="ada@example.coop"),
        subject="Order #1 is paid: thank you",
        text="Total paid: £9.00",
        html="<p>Total paid: £9.00</p>",
        message_id="<order_paid.1@rose-ash.test>",
    )


def mailer(port: int, **extra: Any) -> SmtpMailer:
    settings: dict[str, Any] = {
        "host": HOST,
        "port": port,
        "starttls": False,
        "username": None,
        "password": None,
        "timeout_seconds": 2.0,
        **extra,
    }
    return SmtpMailer(**settings)


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"cart", b"secret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
async def login_inbox() -> AsyncIterator[Inbox]:
    """A server that takes mail only after a login (over plain text, for the test)."""
    inbox = Inbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            inbox,
            hostname="mail.test",
            authenticator=authenticator,
            auth_require_tls=False,
            loop=loop,
        ),
        HOST,
        0,
    )
    inbox.port = server.sockets[0].getsockname()[1]
    try:
        yield inbox
    finally:
        server.close()
        await server.wait_closed()


async def test_a_message_is_delivered_with_both_parts(smtp_inbox: Inbox) -> None:
    await mailer(smtp_inbox.port).send(message())

    [mail] = smtp_inbox.received
    assert mail.rcpt_tos == ["ada@example.coop"]
    assert mail.message["Message-ID"] == "<order_paid.1@rose-ash.test>"
    assert mail.part("plain").strip() == "Total paid: £9.00"
    assert mail.part("html").strip() == "<p>Total paid: £9.00</p>"


async def test_the_credentials_log_in_and_wrong_ones_are_a_permanent_refusal(
    login_inbox: Inbox,
) -> None:
    await mailer(login_inbox.port, username="cart", password="secret").send(message())
    assert len(login_inbox.received) == 1

    with pytest.raises(MailError) as refused:
        await mailer(login_inbox.port, username="cart", password="wrong").send(message())
    assert refused.value.permanent and not refused.value.unreachable
    assert len(login_inbox.received) == 1


async def test_starttls_required_is_never_skipped_for_a_server_without_it(
    smtp_inbox: Inbox,
) -> None:
    with pytest.raises(MailError) as failed:
        await mailer(smtp_inbox.port, starttls=True).send(message())

    assert smtp_inbox.received == []
    assert not failed.value.permanent


async def test_no_server_is_unreachable_not_a_refusal() -> None:
    with pytest.raises(MailError) as failed:
        await mailer(9).send(message())
    assert failed.value.unreachable and not failed.value.permanent


async def test_a_refused_recipient_is_permanent_and_a_busy_server_is_not(smtp_inbox: Inbox) -> None:
    smtp_inbox.refuse = "550 5.1.1 No such mailbox"
    with pytest.raises(MailError) as refused:
        await mailer(smtp_inbox.port).send(message())
    assert refused.value.permanent

    smtp_inbox.refuse = "451 4.3.0 Try again later"
    with pytest.raises(MailError) as busy:
        await mailer(smtp_inbox.port).send(message())
    assert not busy.value.permanent and not busy.value.unreachable
