"""Mail settings: off without an SMTP host; production needs a valid sender once it is on."""

from __future__ import annotations

import pytest

from config.settings import ConfigError, load_settings
from services.mail import SmtpMailer, smtp_mailer
from tests.config.test_settings import PRODUCTION


def test_mail_is_off_without_an_smtp_host_even_when_the_variable_is_blank() -> None:
    assert smtp_mailer(load_settings({"app_env": "test"})) is None
    assert smtp_mailer(load_settings({"app_env": "test", "smtp_host": "  "})) is None


def test_production_with_an_smtp_host_requires_mail_from() -> None:
    with pytest.raises(ConfigError, match="MAIL_FROM is required in production"):
        load_settings({**PRODUCTION, "smtp_host": "smtp.example.org"})


@pytest.mark.parametrize(
    "sender",
    [
        "not an address",
        "shop@",
        "@example.org",
        "shop@localhost",
        "a@example.org, b@example.org",
        "Shop <shop@example.org>\r\nBcc: victim@example.org",
    ],
)
def test_production_refuses_a_mail_from_that_is_not_one_address(sender: str) -> None:
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        load_settings({**PRODUCTION, "smtp_host": "smtp.example.org", "mail_from": sender})


def test_production_with_smtp_and_a_sender_makes_the_mailer_it_describes() -> None:
    settings = load_settings(
        {
            **PRODUCTION,
            "smtp_host": "smtp.example.org",
            "smtp_port": 2525,
            "smtp_username": "cart",
            "smtp_password": "app-password",
            "mail_from": "Rose Ash <shop@example.org>",
        }
    )
    mailer = smtp_mailer(settings)
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.host, mailer.port, mailer.starttls) == ("smtp.example.org", 2525, True)
    assert (mailer.username, mailer.password) == ("cart", "app-password")
    assert "app-password" not in repr(settings)


def test_production_without_smtp_needs_no_sender() -> None:
    settings = load_settings(PRODUCTION)
    assert settings.smtp_host is None and settings.mail_from is None
