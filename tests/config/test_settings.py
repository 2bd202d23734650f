"""Configuration: layered sources, and clear refusals when production lacks what it needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from app import create_app
from bp.runtime import runtime
from config.settings import (
    CONFIG_FILE,
    DEVELOPMENT_SECRET,
    DEVELOPMENT_TOKEN,
    ConfigError,
    Settings,
    load_settings,
)

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "app_env": "production",
    "secret_key": "x" * 40,
    "internal_api_token": "token-for-the-coop-apps-0123456789",
    "page_config_encryption_key": "a2V5LWZvci1zZWFsaW5nLXBhZ2UtYXBpLWtleXMtMzI=",
    "database_url": "postgresql://db/cart",
    "redis_url": "redis://redis:6379/0",
}


def test_yaml_defaults_are_loaded() -> None:
    settings = load_settings()
    assert settings.currency == "GBP"
    assert settings.redis_auth_db == 15
    assert settings.redis_cart_db == 2
    assert settings.url_for_app("market") == "http://127.0.0.1:8001"


def test_the_payment_window_is_read_under_its_former_name_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHECKOUT_SESSION_MINUTES", "12")
    assert load_settings().payment_window_minutes == 12
    monkeypatch.setenv("PAYMENT_WINDOW_MINUTES", "20")
    assert load_settings().payment_window_minutes == 20
    assert load_settings({"payment_window_minutes": 25}).payment_window_minutes == 25


def test_the_job_switch_is_read_under_its_former_name_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECONCILER_ENABLED", "false")
    assert load_settings().background_jobs_enabled is False
    monkeypatch.setenv("BACKGROUND_JOBS_ENABLED", "true")
    assert load_settings().background_jobs_enabled is True


def test_the_yaml_holds_only_what_differs_from_the_defaults() -> None:
    written = yaml.safe_load(CONFIG_FILE.read_text())
    same = [
        key
        for key, value in written.items()
        if key not in Settings.model_fields
        or load_settings({key: value}).model_dump()[key]
        == Settings.model_fields[key].get_default(call_default_factory=True)
    ]
    assert same == []


def test_environment_overrides_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURRENCY", "EUR")
    monkeypatch.setenv("ORDERS_PAGE_SIZE", "50")
    settings = load_settings()
    assert settings.currency == "EUR"
    assert settings.orders_page_size == 50


def test_create_app_config_overrides_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURRENCY", "EUR")
    app = create_app({"currency": "GBP"})
    assert runtime(app).settings.currency == "GBP"


def test_production_names_every_missing_setting() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"app_env": "production"})
    message = str(raised.value)
    for name in ("SECRET_KEY", "INTERNAL_API_TOKEN", "DATABASE_URL", "REDIS_URL"):
        assert name in message


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY must be at least 32 characters"):
        load_settings({**PRODUCTION, "secret_key": "short"})


def test_production_with_everything_set_starts() -> None:
    settings = load_settings(PRODUCTION)
    assert settings.is_production
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() != DEVELOPMENT_SECRET


def test_invalid_value_is_named() -> None:
    with pytest.raises(ConfigError, match="ORDERS_PAGE_SIZE"):
        load_settings({"orders_page_size": "lots"})
    with pytest.raises(ConfigError, match="CURRENCY"):
        load_settings({"currency": "pounds"})


def test_a_malformed_encryption_key_is_named_at_start() -> None:
    with pytest.raises(ConfigError, match="PAGE_CONFIG_ENCRYPTION_KEY: must be a Fernet key"):
        load_settings({**PRODUCTION, "page_config_encryption_key": "not-a-key"})


def test_shared_and_cart_redis_indexes_must_differ() -> None:
    with pytest.raises(ConfigError, match="REDIS_CART_DB must differ"):
        load_settings({"redis_cart_db": 15})


def test_development_fills_in_local_secrets() -> None:
    settings = load_settings({"app_env": "development"})
    assert settings.secret_key is not None and settings.internal_api_token is not None


def test_secrets_never_appear_in_the_settings_repr() -> None:
    settings = load_settings(PRODUCTION)
    assert "token-for-the-coop-apps-0123456789" not in repr(settings)


def test_the_server_refuses_to_start_in_production_without_its_settings() -> None:
    env = {"PATH": "/usr/bin:/bin", "APP_ENV": "production"}
    result = subprocess.run(
        [sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "required in production but not set: SECRET_KEY" in result.stderr


@pytest.mark.parametrize("name", ["secret_key", "internal_api_token", "page_config_encryption_key"])
@pytest.mark.parametrize("blank", ["", "   "])
def test_production_refuses_a_blank_secret_and_names_it(name: str, blank: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({**PRODUCTION, name: blank})
    assert name.upper() in str(raised.value)


def test_production_refuses_a_short_internal_token() -> None:
    with pytest.raises(ConfigError, match="INTERNAL_API_TOKEN must be at least 32 characters"):
        load_settings({**PRODUCTION, "internal_api_token": "t" * 31})


def test_production_names_every_short_secret_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({**PRODUCTION, "secret_key": "s" * 10, "internal_api_token": "t" * 10})
    assert "SECRET_KEY" in str(raised.value) and "INTERNAL_API_TOKEN" in str(raised.value)


def test_a_blank_secret_outside_production_is_never_used_as_one() -> None:
    # An empty variable left in a development shell must not become an empty bearer token.
    settings = load_settings({"app_env": "development", "internal_api_token": "", "secret_key": ""})
    assert settings.internal_api_token is not None and settings.secret_key is not None
    assert settings.internal_api_token.get_secret_value().strip()
    assert len(settings.secret_key.get_secret_value()) >= 32


def test_a_bare_start_is_production_and_refuses_to_start_without_real_secrets() -> None:
    # Only the two servers' URLs, as an operator who forgot everything else would start it.
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": "postgresql://db/cart",
        "REDIS_URL": "redis://redis:6379/0",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert (
        "required in production but not set: SECRET_KEY, INTERNAL_API_TOKEN, "
        "PAGE_CONFIG_ENCRYPTION_KEY" in result.stderr
    )


def test_without_app_env_there_is_no_development_sign_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APP_ENV", raising=False)
    app = create_app({key: value for key, value in PRODUCTION.items() if key != "app_env"})
    settings = runtime(app).settings
    assert settings.is_production
    assert settings.internal_api_token is not None
    assert settings.internal_api_token.get_secret_value() != DEVELOPMENT_TOKEN
    paths = {rule.rule for rule in app.url_map.iter_rules()}
    assert not any(path.startswith("/dev/") for path in paths)
