"""What the cart needs from a mail server; SmtpMailer is the real one."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol


class Mailer(Protocol):
    """Hands a finished message to a mail server."""

    async def send(self, message: EmailMessage) -> None:
        """Send `message` to its To address; returns once the server accepted it, else raises
        MailError."""
        ...
