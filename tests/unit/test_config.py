"""Configuration: YAML file, `PESADESK_` environment overrides, secrets kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from pesadesk.config import load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray ./config.yaml
    monkeypatch.delenv("PESADESK_CONFIG", raising=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_defaults_without_a_file() -> None:
    """With no config file the service starts on safe defaults: SQLite, payments sandbox."""
    settings = load_settings()
    assert settings.database_url == "sqlite:///data/pesadesk.db"
    assert settings.payments.mpesa.sandbox is True
    assert settings.payments.mpesa.query_after_seconds == 120
    assert settings.refunds.approval_threshold == 5000
    assert settings.security.webhook_ip_allowlist == []


def test_yaml_file_then_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Values come from the YAML file, and `PESADESK_A__B` overrides them, lists as JSON."""
    path = write(
        tmp_path,
        "database_url: sqlite:///x.db\n"
        "admin_numbers: ['+254700000000']\n"
        "payments:\n  mpesa:\n    shortcode: '111111'\n    base_url: http://file\n",
    )
    monkeypatch.setenv("PESADESK_PAYMENTS__MPESA__BASE_URL", "http://env")
    monkeypatch.setenv("PESADESK_ADMIN_NUMBERS", '["+254711111111", "+254722222222"]')
    settings = load_settings(path)
    assert settings.database_url == "sqlite:///x.db"
    assert settings.payments.mpesa.shortcode == "111111"
    assert settings.payments.mpesa.base_url == "http://env"
    assert settings.admin_numbers == ["+254711111111", "+254722222222"]


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`PESADESK_CONFIG` names the file when `--config` is not given."""
    path = write(tmp_path, "database_url: sqlite:///from-env.db\n")
    monkeypatch.setenv("PESADESK_CONFIG", str(path))
    assert load_settings().database_url == "sqlite:///from-env.db"


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    """A `--config` path that does not exist is reported, not silently ignored."""
    with pytest.raises(FileNotFoundError):
        load_settings(tmp_path / "nope.yaml")


def test_secrets_are_not_printed(tmp_path: Path) -> None:
    """Secrets are SecretStr: their repr and str never show the value."""
    path = write(
        tmp_path,
        "payments:\n  mpesa:\n    consumer_secret: hunter2-really\n"
        "security:\n  admin_api_key: topsecret-admin\n",
    )
    settings = load_settings(path)
    shown = repr(settings) + str(settings)
    assert "hunter2-really" not in shown
    assert "topsecret-admin" not in shown
    assert settings.payments.mpesa.consumer_secret.get_secret_value() == "hunter2-really"


def test_placeholder_secrets_refused_outside_sandbox(tmp_path: Path) -> None:
    """`sandbox: false` with the sample's `...` credentials refuses to start."""
    path = write(
        tmp_path,
        "payments:\n  mpesa:\n    sandbox: false\n    consumer_key: '...'\n"
        "    consumer_secret: '...'\n    passkey: '...'\n",
    )
    with pytest.raises(ValidationError, match="placeholder"):
        load_settings(path)


def test_placeholders_allowed_in_sandbox(tmp_path: Path) -> None:
    """In the sandbox the placeholders are fine (the emulator accepts any credentials)."""
    path = write(tmp_path, "payments:\n  mpesa:\n    sandbox: true\n    consumer_key: '...'\n")
    assert load_settings(path).payments.mpesa.sandbox is True


def test_b2c_incomplete_means_not_configured(tmp_path: Path) -> None:
    """Refunds are "not configured" until the B2C credentials are really filled in."""
    assert load_settings().payments.b2c.configured is False
    path = write(
        tmp_path,
        "payments:\n  b2c:\n    consumer_key: k\n    consumer_secret: s\n"
        "    security_credential: c\n",
    )
    assert load_settings(path).payments.b2c.configured is True
