"""The mailer over SMTP (aiosmtplib): one connection per message, STARTTLS and login as set."""

from __future__ import annotations

import asyncio
import logging
import time
from email.message import EmailMessage

import aiosmtplib

from config.settings import Settings
from services.mail.errors import MailError

# aiosmtplib's timeout bounds each step (connect, STARTTLS, each command); the whole session
# is bounded too, by this many times it, so that a sender never outlives its claim on a
# message (bp/order/services/mail_relay.py's CLAIM_LEASE is longer than the longest session).
SESSION_TIMEOUT_FACTOR = 2

log = logging.getLogger(__name__)


class SmtpMailer:
    """Sends each message in its own SMTP session (few messages, and no idle connection to
    keep alive between them)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        starttls: bool,
        username: str | None,
        password: str | None,
        timeout_seconds: float,
    ) -> None:
        self.host = host
        self.port = port
        self.starttls = starttls
        self.username = username
        self.password = password
        self.timeout_seconds = timeout_seconds

    async def send(self, message: EmailMessage) -> None:
        """Send `message`; MailError when the server could not be reached or refused it."""
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout_seconds * SESSION_TIMEOUT_FACTOR):
                await aiosmtplib.send(
                    message,
                    hostname=self.host,
                    port=self.port,
                    # STARTTLS required when set (never opportunistic: a downgrade would go
                    # unseen).
                    start_tls=self.starttls,
                    username=self.username,
                    password=self.password,
                    timeout=self.timeout_seconds,
                )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refusal.code for refusal in error.recipients]
            raise MailError(
                f"recipient refused: {error}", permanent=all(code >= 500 for code in codes)
            ) from error
        except aiosmtplib.SMTPResponseException as error:
            raise MailError(
                f"the mail server answered {error.code} {error.message}",
                permanent=error.code >= 500,
            ) from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            # Connection refused, timed out, dropped, or TLS failed: nothing was accepted.
            raise MailError(
                f"the mail server could not be reached: {type(error).__name__}: {error}",
                unreachable=True,
            ) from error
        finally:
            log.info(
                "smtp %s:%s to %s (%s) in %.0f ms",
                self.host,
                self.port,
                message["To"],
                message["Subject"],
                (time.monotonic() - started) * 1000,
            )


def smtp_mailer(settings: Settings) -> SmtpMailer | None:
    """The mailer the settings ask for; None when no SMTP host is set (mail is off)."""
    if settings.smtp_host is None:
        return None
    password = settings.smtp_password
    return SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=password.get_secret_value() if password is not None else None,
        timeout_seconds=settings.smtp_timeout_seconds,
    )
