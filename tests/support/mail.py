"""A real SMTP server for tests (aiosmtpd, in the test's event loop, on a free port).

Register with `pytest_plugins = ["tests.support.mail"]`. Fixtures: `smtp_inbox` (the server
and what it received) and `mail_config` (settings that send the app's mail there).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"


@dataclass
class Received:
    """One message as the server got it: the envelope's recipients and the parsed message."""

    rcpt_tos: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        """The text of the `plain` or `html` part."""
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None and body.get_content_subtype() == subtype, subtype
        return str(body.get_content())

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])


@dataclass
class Inbox:
    """What the test SMTP server received, in order; `refuse` makes it answer 550 to DATA."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    refuse: str | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse is not None:
            return self.refuse
        content = envelope.content
        assert isinstance(content, bytes)
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


@pytest.fixture
async def smtp_inbox() -> AsyncIterator[Inbox]:
    """An SMTP server on a free port for this test."""
    inbox = Inbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(inbox, hostname="mail.test", loop=loop), HOST, 0)
    inbox.port = server.sockets[0].getsockname()[1]
    try:
        yield inbox
    finally:
        server.close()
        await server.wait_closed()


def mail_settings(inbox: Inbox, **extra: Any) -> dict[str, Any]:
    """Settings that send the app's mail to `inbox`, plainly (no STARTTLS, no login)."""
    return {
        "smtp_host": HOST,
        "smtp_port": inbox.port,
        "smtp_starttls": False,
        "smtp_timeout_seconds": 5.0,
        "mail_from": "Rose Ash cart <cart@rose-ash.test>",
        **extra,
    }
