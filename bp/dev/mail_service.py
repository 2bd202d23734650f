"""Mail caught by the development run's SMTP catcher (devtools/mail_catcher.py), kept in the
cart's own Redis index so that every worker of the development server shows the same list.

Development only: the keys live under `dev:mail:`, the newest 200 messages are kept, each for
a week.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

from redis.asyncio import Redis

KEY_PREFIX = "dev:mail:"
IDS_KEY = KEY_PREFIX + "ids"
COUNTER_KEY = KEY_PREFIX + "last-id"
KEPT_MESSAGES = 200
KEPT_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class CaughtMessage:
    """A message as the catcher received it, with what the mail page shows of it."""

    id: int
    received_at: datetime
    envelope_from: str
    envelope_to: list[str]
    subject: str
    sender: str
    to: str
    text: str | None
    html: str | None
    # The attached files' names (calendar files), as a mail program lists them.
    attachments: list[str] = field(default_factory=list)


async def keep_caught(
    redis: Redis, *, raw: bytes, envelope_from: str, envelope_to: list[str]
) -> int:
    """Store one received message; answers its id (ids only grow, so newest is largest)."""
    message_id = int(await redis.incr(COUNTER_KEY))
    record = {
        "received_at": datetime.now(UTC).isoformat(),
        "envelope_from": envelope_from,
        "envelope_to": envelope_to,
        "raw": raw.decode("utf-8", errors="replace"),
    }
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(f"{KEY_PREFIX}{message_id}", json.dumps(record), ex=KEPT_SECONDS)
        pipe.lpush(IDS_KEY, message_id)
        pipe.ltrim(IDS_KEY, 0, KEPT_MESSAGES - 1)
        await pipe.execute()
    return message_id


async def caught_messages(redis: Redis, *, limit: int = 50) -> list[CaughtMessage]:
    """The messages caught, newest first."""
    ids = [int(value) for value in await redis.lrange(IDS_KEY, 0, limit - 1)]
    if not ids:
        return []
    records = await redis.mget([f"{KEY_PREFIX}{i}" for i in ids])
    return [_parse(i, record) for i, record in zip(ids, records, strict=True) if record]


async def caught_message(redis: Redis, *, message_id: int) -> CaughtMessage | None:
    """One caught message; None when there is no such message (or it expired)."""
    record = await redis.get(f"{KEY_PREFIX}{message_id}")
    return _parse(message_id, record) if record else None


def _parse(message_id: int, record: bytes | str) -> CaughtMessage:
    data = json.loads(record)
    parsed = message_from_bytes(data["raw"].encode("utf-8"), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return CaughtMessage(
        id=message_id,
        received_at=datetime.fromisoformat(data["received_at"]),
        envelope_from=data["envelope_from"],
        envelope_to=list(data["envelope_to"]),
        subject=str(parsed.get("Subject", "")),
        sender=str(parsed.get("From", "")),
        to=str(parsed.get("To", "")),
        text=_part(parsed, "plain"),
        html=_with_inline_images(parsed, _part(parsed, "html")),
        attachments=[
            str(part.get_filename()) for part in parsed.iter_attachments() if part.get_filename()
        ],
    )


def _with_inline_images(message: EmailMessage, html: str | None) -> str | None:
    """The HTML part with its `cid:` images (the tickets' QR codes) as data: URLs, which the
    framed part's policy allows, as a mail program shows them."""
    if html is None:
        return None
    for part in message.walk():
        cid = part.get("Content-ID")
        if cid is None or part.get_content_maintype() != "image":
            continue
        content = part.get_content()
        if not isinstance(content, bytes):
            continue
        data = base64.b64encode(content).decode()
        html = html.replace(
            f'src="cid:{cid.strip("<>")}"', f'src="data:{part.get_content_type()};base64,{data}"'
        )
    return html


def _part(message: EmailMessage, subtype: str) -> str | None:
    body = message.get_body(preferencelist=(subtype,))
    if body is None or body.get_content_subtype() != subtype:
        return None
    return str(body.get_content())
