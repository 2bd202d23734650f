"""Settings: defaults, then config/app-config.yaml, then the environment, then the caller."""

from __future__ import annotations

import base64
import ipaddress
import re
from datetime import timedelta
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from pydantic import (
    AfterValidator,
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

CONFIG_FILE = Path(__file__).with_name("app-config.yaml")
# The coop domains the cart reaches through services.<name>; a domain left out gets its stub.
Domain = Literal["blog", "market", "calendar", "cart", "account"]
DOMAINS: tuple[Domain, ...] = ("blog", "market", "calendar", "cart", "account")
# DOMAINS may name the coop's apps as operators know them: the events app owns the calendar
# domain; the federation app is not reached through a domain service (the outbox relay writes
# to DATABASE_URL_FEDERATION whatever DOMAINS says).
APP_DOMAINS: dict[str, Domain | None] = {
    "blog": "blog",
    "market": "market",
    "events": "calendar",
    "calendar": "calendar",
    "cart": "cart",
    "account": "account",
    "federation": None,
}
# The currencies whose SumUp checkouts and formatting the cart supports.
Currency = Literal["GBP", "EUR"]
# Only ever used when APP_ENV=development or test; production refuses to start without its own.
DEVELOPMENT_SECRET = "development-only-secret-key-not-for-production-use"  # noqa: S105
DEVELOPMENT_TOKEN = "development-internal-token"  # noqa: S105
MIN_SECRET_LENGTH = 32
FERNET_KEY_BYTES = 32
# The secrets production refuses to start without, in the order a message names them.
PRODUCTION_SECRETS = ("secret_key", "internal_api_token", "page_config_encryption_key")
# Secrets that are compared or signed with, and so must be long enough not to be guessed.
LONG_SECRETS = ("secret_key", "internal_api_token")
# SumUp's hosted payment page, for the real API; a stand-in serves both from one origin.
SUMUP_API_HOST = "api.sumup.com"
SUMUP_HOSTED_ORIGIN = "https://checkout.sumup.com"
# Cookie name prefixes a browser enforces (RFC 6265bis): `__Host-` means Secure, Path=/, no Domain.
HOST_PREFIX = "__Host-"
SECURE_PREFIX = "__Secure-"
# The sender of the shopper's mail when development or tests set none (production must).
DEVELOPMENT_MAIL_FROM = "Rose Ash cart <cart@rose-ash.localhost>"
RATE = re.compile(r"^\s*(\d{1,7})\s*/\s*(second|minute|hour|day)\s*$")
PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse_rate(text: str) -> tuple[int, timedelta]:
    """`"60/minute"` → (60, one minute): how many requests a client may make per period."""
    found = RATE.match(text)
    if found is None or int(found.group(1)) < 1:
        raise ValueError(
            f"{text!r} is not a rate: write requests per second, minute, hour or day, "
            "e.g. 60/minute"
        )
    return int(found.group(1)), timedelta(seconds=PERIODS[found.group(2)])


def _rate(text: str) -> str:
    parse_rate(text)
    return text


def _networks(values: list[str]) -> list[str]:
    for value in values:
        try:
            ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or network (CIDR)") from None
    return [value.strip() for value in values]


Rate = Annotated[str, AfterValidator(_rate)]


class ConfigError(RuntimeError):
    """A setting that the service needs is missing or invalid."""


class Settings(BaseSettings):
    """Every setting of the service; see the README for each one."""

    model_config = SettingsConfigDict(
        env_prefix="",
        extra="ignore",
        case_sensitive=False,
        yaml_file=CONFIG_FILE,
        env_nested_delimiter="__",
    )

    # Production unless asked otherwise: a bare start must never get development's public
    # secrets or its sign-in page (`dev.py serve` and the tests set APP_ENV themselves).
    app_env: Literal["development", "test", "production"] = "production"
    secret_key: SecretStr | None = None
    internal_api_token: SecretStr | None = None
    # Fernet keys (urlsafe base64, 32 bytes each), comma-separated, sealing the per-page SumUp
    # API keys at rest: the first seals, every one opens (a rotation adds a new first key).
    page_config_encryption_key: SecretStr | None = None

    database_url: str | None = None
    # The seeds' name for DATABASE_URL; either one will do, both must then agree.
    database_url_async: str | None = None
    database_url_account: str | None = None
    database_url_federation: str | None = None
    database_pool_size: int = Field(default=10, ge=1, le=200)
    # Behind PgBouncer in transaction pooling mode: no statement cache (lib/db.py).
    database_pgbouncer: bool = False
    redis_url: str | None = None
    redis_auth_db: int = Field(default=15, ge=0, le=15)
    redis_cart_db: int = Field(default=2, ge=0, le=15)

    session_cookie_name: str = "coop_session"
    session_cookie_domain: str | None = None
    session_cookie_secure: bool = False
    session_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60)
    # A session the cart makes lives this long until its cart holds something.
    session_anonymous_ttl_seconds: int = Field(default=3600, ge=60)
    # Production forces Secure cookies and HSTS unless told it is served over plain HTTP.
    allow_insecure_http: bool = False

    # Per client (see trusted_proxies); "count/second|minute|hour|day".
    rate_limit_enabled: bool = True
    rate_limit_pages: Rate = "300/minute"
    rate_limit_writes: Rate = "60/minute"
    rate_limit_checkout: Rate = "10/minute"
    # SumUp's webhook, per sending address. Sized for 3,000 paid orders a minute: an order's
    # checkout may change status twice (a failed attempt, then paid) and SumUp may deliver
    # each change twice, so up to 12,000 deliveries a minute, and SumUp sends them from a few
    # addresses, any one of which may carry them all. 15,000 leaves a quarter spare (and,
    # as the limiter counts, admits a burst of as many after a quiet minute, such as SumUp's
    # retries after an outage). Junk cannot spend SumUp's allowance: the per-order limit
    # below counts only webhooks that make us ask SumUp, at most four per order in a minute.
    rate_limit_webhook: Rate = "15000/minute"
    rate_limit_webhook_per_order: Rate = "10/minute"
    rate_limit_failed_tokens: Rate = "10/minute"
    # An order's link (its secret in the path): enough for a shopper, far too few to guess one.
    rate_limit_order_links: Rate = "30/minute"
    # "Find my orders" mails links: per client, and per address asked about (whoever asks).
    rate_limit_order_lookups: Rate = "5/minute"
    rate_limit_order_lookups_per_address: Rate = "3/hour"
    # Proxies whose X-Forwarded-For is believed (IPs or CIDRs); none by default.
    trusted_proxies: Annotated[list[str], AfterValidator(_networks)] = Field(default_factory=list)

    public_base_url: str = "http://127.0.0.1:8002"
    app_urls: dict[str, str] = Field(default_factory=dict)
    currency: Currency = "GBP"
    # Where the coop is: every date and time a person reads is shown in this zone and locale.
    time_zone: str = "Europe/London"
    locale: str = "en_GB"
    orders_page_size: int = Field(default=20, ge=1, le=200)
    max_line_quantity: int = Field(default=99, ge=1, le=10_000)
    # Where shoppers write about an order (shown when a payment needs the coop's attention).
    coop_contact_email: str | None = None
    # A page where shoppers reach the coop (a contact form), linked when no address is set.
    coop_contact_url: str | None = None
    # Domains served by their SQL implementation over the shared tables; the others are stubbed.
    domains: list[Domain] = Field(default_factory=lambda: list(DOMAINS))

    sumup_api_base: str = "https://api.sumup.com"
    # Where SumUp's hosted payment page is (the checkout form is redirected there); derived
    # from SUMUP_API_BASE when unset.
    sumup_hosted_checkout_origin: str | None = None
    sumup_api_key: SecretStr | None = None
    sumup_merchant_code: str | None = None
    sumup_checkout_prefix: str = Field(default="rose-", max_length=20)
    sumup_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # How long an unpaid order holds its claims and its hosted payment page takes payments.
    # CHECKOUT_SESSION_MINUTES, its former name, is still read (deprecated).
    payment_window_minutes: int = Field(
        default=30,
        ge=1,
        le=24 * 60,
        validation_alias=AliasChoices("payment_window_minutes", "checkout_session_minutes"),
    )
    # How long an order may hold its tickets and places however often it is paid again (from
    # its creation, or from that of the order it replaced), and how many payment attempts it
    # may make; then they are released and the order closes.
    order_hold_max_minutes: int = Field(default=120, ge=5, le=7 * 24 * 60)
    order_max_payment_attempts: int = Field(default=5, ge=1, le=100)
    reconciler_interval_seconds: float = Field(default=60.0, gt=0)
    # The background jobs: reconciler, outbox relay, mail and cart purge (tests run their passes
    # by hand). RECONCILER_ENABLED, its former name, is still read (deprecated).
    background_jobs_enabled: bool = Field(
        default=True,
        validation_alias=AliasChoices("background_jobs_enabled", "reconciler_enabled"),
    )
    relay_interval_seconds: float = Field(default=5.0, gt=0)
    # Payments: SumUp create retries (same reference), the reconciler's grace and batch sizes.
    sumup_create_attempts: int = Field(default=3, ge=1, le=5)
    sumup_retry_backoff_seconds: float = Field(default=0.5, ge=0, le=10)
    checkout_grace_minutes: int = Field(default=1, ge=0, le=60)
    reconciler_batch_size: int = Field(default=100, ge=1, le=1000)
    # The longest an open order waits between two looks (the wait grows with its age).
    reconciler_max_recheck_seconds: float = Field(default=600.0, gt=0)
    relay_batch_size: int = Field(default=100, ge=1, le=1000)
    # An outbox row the federation store refuses waits RELAY_BACKOFF_SECONDS, then twice as
    # long after each further refusal (at most an hour), and is dead-lettered after
    # RELAY_MAX_ATTEMPTS refusals.
    relay_max_attempts: int = Field(default=10, ge=1, le=100)
    relay_backoff_seconds: float = Field(default=5.0, gt=0, le=3600)
    # Anonymous carts untouched this long are emptied (their bookings and tickets cancelled).
    anonymous_cart_days: int = Field(default=30, ge=1, le=3650)
    cart_purge_interval_seconds: float = Field(default=3600.0, gt=0)
    # The shopper's mail (paid, refund due, refund made); none is sent without an SMTP host.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    # "Name <address>" or a bare address; required in production when SMTP_HOST is set.
    mail_from: str | None = None
    # Logs: JSON lines, or readable ones; unset means JSON in production, readable elsewhere.
    log_format: Literal["json", "console"] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, YamlConfigSettingsSource(settings_cls))

    @field_validator("domains", mode="before")
    @classmethod
    def _app_names(cls, value: Any) -> Any:
        # The coop's app names (["blog","market","events","cart"]) map onto the domains.
        if not isinstance(value, list | tuple):
            return value
        domains: list[Any] = []
        for name in value:
            key = name.strip().lower() if isinstance(name, str) else name
            if isinstance(key, str) and key not in APP_DOMAINS:
                known = ", ".join(sorted(APP_DOMAINS))
                raise ValueError(f"unknown domain {name!r}; the coop's apps are {known}")
            domain = APP_DOMAINS.get(key, key) if isinstance(key, str) else key
            if domain is not None and domain not in domains:
                domains.append(domain)
        return domains

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format_any_case(cls, value: Any) -> Any:
        # `LOG_FORMAT=` (empty) leaves the choice to APP_ENV.
        return (value.strip().lower() or None) if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level_any_case(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/London"
            ) from None
        return value

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        try:
            Locale.parse(value)
        except (UnknownLocaleError, ValueError):
            raise ValueError(f"unknown locale {value!r}; use a name such as en_GB") from None
        return value

    @field_validator("smtp_host", "smtp_username", "mail_from", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        # `SMTP_HOST=` switches mail off rather than naming a host called "".
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("mail_from")
    @classmethod
    def _mail_address(cls, value: str | None) -> str | None:
        if value is not None:
            mail_address(value)
        return value

    @field_validator("page_config_encryption_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        # Checked at start: a bad key would otherwise surface only at the first page checkout.
        if value is not None:
            for position, key in enumerate(_key_list(value.get_secret_value()), start=1):
                try:
                    raw = base64.urlsafe_b64decode(key.encode())
                except ValueError:
                    raw = b""
                if len(raw) != FERNET_KEY_BYTES:
                    raise ValueError(
                        "must be a Fernet key (32 url-safe base64-encoded bytes), e.g. from "
                        "`python -c 'from cryptography.fernet import Fernet; "
                        "print(Fernet.generate_key().decode())'`, or several separated by "
                        f"commas, the first one sealing (key {position} is not one)"
                    )
        return value

    @field_validator(*PRODUCTION_SECRETS, mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # An empty variable (`INTERNAL_API_TOKEN=`) is no secret: treat it as not set, so that
        # production refuses it and development never uses it.
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(raw, str) and not raw.strip():
            return None
        return value

    @property
    def page_config_encryption_keys(self) -> list[str]:
        """PAGE_CONFIG_ENCRYPTION_KEY's keys in order: the first seals, all of them open."""
        if self.page_config_encryption_key is None:
            return []
        return _key_list(self.page_config_encryption_key.get_secret_value())

    @property
    def is_development(self) -> bool:
        return self.app_env == "development"

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def logs_as_json(self) -> bool:
        """JSON log lines: asked for, or production unless told otherwise."""
        return self.log_format == "json" or (self.log_format is None and self.is_production)

    @property
    def cookies_secure(self) -> bool:
        """Whether cookies are Secure (and HSTS is sent): asked for, or production over HTTPS."""
        return self.session_cookie_secure or (self.is_production and not self.allow_insecure_http)

    @property
    def session_cookie_key(self) -> str:
        """The shared cookie's name as sent: `__Host-` prefixed when secure and host-only.

        A `__Host-` cookie cannot carry a Domain, so a cookie shared across the coop's
        subdomains keeps the name the apps agreed on.
        """
        name = self.session_cookie_name
        if (
            self.cookies_secure
            and not self.session_cookie_domain
            and not name.startswith((HOST_PREFIX, SECURE_PREFIX))
        ):
            return HOST_PREFIX + name
        return name

    @property
    def hosted_checkout_origin(self) -> str:
        """The origin of SumUp's hosted payment page, where checkout forms are redirected."""
        if self.sumup_hosted_checkout_origin:
            return _origin(self.sumup_hosted_checkout_origin)
        if urlsplit(self.sumup_api_base).hostname == SUMUP_API_HOST:
            return SUMUP_HOSTED_ORIGIN
        return _origin(self.sumup_api_base)

    @model_validator(mode="after")
    def _require_production_settings(self) -> Settings:
        self.database_url = resolve_database_url(self.database_url, self.database_url_async)
        if self.is_production:
            missing = [
                name.upper()
                for name in (*PRODUCTION_SECRETS, "database_url", "redis_url")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(f"required in production but not set: {', '.join(missing)}")
            short = [
                f"{name.upper()} must be at least {MIN_SECRET_LENGTH} characters"
                for name in LONG_SECRETS
                if len(_secret(getattr(self, name))) < MIN_SECRET_LENGTH
            ]
            if short:
                raise ValueError("; ".join(short))
            if self.smtp_host is not None and self.mail_from is None:
                raise ValueError("MAIL_FROM is required in production when SMTP_HOST is set")
        else:
            if self.mail_from is None:
                self.mail_from = DEVELOPMENT_MAIL_FROM
            if self.secret_key is None:
                self.secret_key = SecretStr(DEVELOPMENT_SECRET)
            if self.internal_api_token is None:
                self.internal_api_token = SecretStr(DEVELOPMENT_TOKEN)
        if self.redis_auth_db == self.redis_cart_db:
            raise ValueError(
                "REDIS_CART_DB must differ from REDIS_AUTH_DB (the shared sign-in store)"
            )
        return self

    def url_for_app(self, name: str) -> str:
        """Base URL of a sibling coop app, without a trailing slash."""
        return self.app_urls.get(name, "").rstrip("/")


def mail_address(value: str) -> Address:
    """A sender as operators write it ("Rose Ash <shop@example.org>" or "shop@example.org"),
    checked: one address with a local part and a domain, nothing that could break a header."""
    if any(ch in value for ch in "\r\n\0"):
        raise ValueError("must be one line")
    name, address = parseaddr(value)
    local, at, domain = address.rpartition("@")
    dotted = "." in domain.strip(".")
    if not (at and local and dotted) or "," in value or " " in address:
        raise ValueError(
            f'{value!r} is not a mail address; write e.g. "Rose Ash <shop@example.org>"'
        )
    try:
        return Address(display_name=name, username=local, domain=domain)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a mail address: {error}") from None


def _key_list(value: str) -> list[str]:
    """Comma-separated keys, blanks around them ignored."""
    return [key.strip() for key in value.split(",") if key.strip()]


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}"


def resolve_database_url(database_url: str | None, database_url_async: str | None) -> str | None:
    """DATABASE_URL, else the seeds' DATABASE_URL_ASYNC; refused when both name other databases."""
    if database_url and database_url_async and not _same_database(database_url, database_url_async):
        raise ValueError(
            "DATABASE_URL and DATABASE_URL_ASYNC name different databases; set only one of them"
        )
    return database_url or database_url_async or None


def _same_database(first: str, second: str) -> bool:
    """The same database, whichever driver each URL names (postgresql:// or +asyncpg)."""
    try:
        left, right = make_url(first), make_url(second)
    except ArgumentError:  # not a URL SQLAlchemy reads: compared as written
        return first == second
    return left.set(drivername="postgresql") == right.set(drivername="postgresql")


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Build the settings, turning any validation error into one readable ConfigError."""
    try:
        return Settings(**(overrides or {}))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]).upper() or "settings"
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(message if where == "settings" else f"{where}: {message}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None
