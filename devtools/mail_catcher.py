"""The development run's mail catcher: an SMTP server (aiosmtpd) that keeps every message it
receives in the cart's Redis index, for /dev/mail to show; nothing is delivered anywhere."""

from __future__ import annotations

import asyncio

from aiosmtpd.smtp import SMTP, Envelope, Session
from redis.asyncio import Redis

from bp.dev.mail_service import keep_caught

HOSTNAME = "mail-catcher.localhost"


class CatchingHandler:
    """aiosmtpd's DATA hook: store the message, answer 250."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else (content or "").encode("utf-8")
        await keep_caught(
            self.redis,
            raw=raw,
            envelope_from=envelope.mail_from or "",
            envelope_to=list(envelope.rcpt_tos),
        )
        return "250 Message caught"


async def start_mail_catcher(redis: Redis, *, host: str, port: int) -> asyncio.Server:
    """Listen for SMTP on host:port in the running loop; the caller closes the server."""
    loop = asyncio.get_running_loop()
    handler = CatchingHandler(redis)
    return await loop.create_server(lambda: SMTP(handler, hostname=HOSTNAME, loop=loop), host, port)
