"""A message as it goes out: headers, then a plain-text part and an HTML alternative (with the
images it shows, by Content-ID), then its attachments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formatdate


@dataclass(frozen=True)
class Attachment:
    """A file attached to the message, named for what it is."""

    filename: str
    content: bytes
    maintype: str
    subtype: str


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML part shows as `<img src="cid:{cid}">`."""

    cid: str
    filename: str
    content: bytes
    subtype: str = "png"


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
    images: Sequence[InlineImage] = (),
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    """A multipart/alternative message: the text part first, the HTML part preferred (a
    multipart/related one with its images); with attachments, all of it in multipart/mixed."""
    message = EmailMessage()
    # Address objects and the header registry refuse CR/LF, so no value can add a header.
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date) if date is not None else formatdate(localtime=False)
    message["Message-ID"] = message_id
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if images:
        html_part = message.get_body(preferencelist=("html",))
        assert isinstance(html_part, EmailMessage)
        for image in images:
            html_part.add_related(
                image.content,
                maintype="image",
                subtype=image.subtype,
                cid=f"<{image.cid}>",
                filename=image.filename,
                disposition="inline",
            )
    for attachment in attachments:
        message.add_attachment(
            attachment.content,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            filename=attachment.filename,
        )
    return message
