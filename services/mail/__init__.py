"""The shopper's mail: the sender protocol, its SMTP client, the message and its templates."""

from __future__ import annotations

from services.mail.errors import MailError
from services.mail.message import Attachment, InlineImage, compose_message, message_id_for
from services.mail.protocol import Mailer
from services.mail.smtp import SmtpMailer, smtp_mailer
from services.mail.templates import mail_environment

__all__ = [
    "Attachment",
    "InlineImage",
    "MailError",
    "Mailer",
    "SmtpMailer",
    "compose_message",
    "mail_environment",
    "message_id_for",
    "smtp_mailer",
]
