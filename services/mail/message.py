"""A message as it goes out: headers, then a plain-text part and an HTML alternative."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formatdate


def message_id_for(*, activity_id: str, kind: str, domain: str) -> str:
    """The Message-ID of the message `kind` for one outbox event: the same on every attempt,
    so that a copy sent again after a crash is one message to the reader's mail program."""
    return f"<{kind}.{activity_id}@{domain}>"


def compose_message(
    *,
    sender: Address,
    to: Address,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    date: datetime | None = None,
) -> EmailMessage:
    """A multipart/alternative message: the text part first, the HTML part preferred."""
    message = EmailMessage()
    # Address objects and the header registry refuse CR/LF, so no value can add a header.
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date) if date is not None else formatdate(localtime=False)
    message["Message-ID"] = message_id
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
