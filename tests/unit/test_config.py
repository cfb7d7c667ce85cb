"""Configuration: YAML file, `PESADESK_` environment overrides, secrets kept secret, and
where the file comes from."""

from __future__ import annotations

from pathlib import Path

import pytest

from pesadesk.config import ConfigError, Settings, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray ./config.yaml
    monkeypatch.delenv("PESADESK_CONFIG", raising=False)


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(config: Path | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    return caught.value.problems


def test_defaults_without_a_file() -> None:
    """With no config file the service starts on safe defaults: SQLite, payments sandbox."""
    settings = load_settings()
    assert settings.database_url == "sqlite:///data/pesadesk.db"
    assert settings.payments.mpesa.sandbox is True
    assert settings.payments.mpesa.query_after_seconds == 120
    assert settings.refunds.approval_threshold == 5000
    assert settings.security.webhook_ip_allowlist == []


def test_second_wave_keys_have_their_defaults() -> None:
    """The wave-2 keys exist with the defaults CONTRACT §8-§9 give, before their features."""
    settings = load_settings()
    assert settings.security.verify_callbacks == "auto"
    assert settings.security.allow_unprotected_webhooks is False
    assert settings.reconciliation.max_statement_bytes == 256 * 1024 * 1024
    assert settings.refund_requests.rate_limit_per_minute == 10
    assert settings.refunds.rate_limit_per_minute == 30
    assert settings.payments.accounts == []


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


def test_keyword_overrides_win_over_file(tmp_path: Path) -> None:
    """`load_settings(path, key=value)` beats both the file and the environment."""
    path = write(tmp_path, "log_json: true\n")
    assert load_settings(path, log_json=False).log_json is False


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`PESADESK_CONFIG` names the file when `--config` is not given."""
    path = write(tmp_path, "database_url: sqlite:///from-env.db\n")
    monkeypatch.setenv("PESADESK_CONFIG", str(path))
    assert load_settings().database_url == "sqlite:///from-env.db"


def test_default_file_is_read_when_present(tmp_path: Path) -> None:
    """Without `--config` or `PESADESK_CONFIG`, `./config.yaml` is read if it is there."""
    write(tmp_path, "database_url: sqlite:///here.db\n")
    assert load_settings().database_url == "sqlite:///here.db"


def test_empty_pesadesk_config_means_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`PESADESK_CONFIG=` (set, empty) reads no file at all, not even ./config.yaml."""
    write(tmp_path, "database_url: sqlite:///here.db\n")
    monkeypatch.setenv("PESADESK_CONFIG", "")
    assert load_settings().database_url == "sqlite:///data/pesadesk.db"


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    """A `--config` path that does not exist is reported, not silently ignored."""
    missing = tmp_path / "nope.yaml"
    assert problems(missing) == [f"{missing}: no such config file"]


def test_missing_pesadesk_config_file_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """`PESADESK_CONFIG=/nope.yaml` is an error too (it used to fall back to defaults)."""
    monkeypatch.setenv("PESADESK_CONFIG", "/nope.yaml")
    assert problems() == ["/nope.yaml: no such config file"]


def test_empty_file_is_all_defaults(tmp_path: Path) -> None:
    """An empty file (or one of comments) is a configuration with nothing changed."""
    path = write(tmp_path, "# nothing yet\n")
    assert load_settings(path).database_url == "sqlite:///data/pesadesk.db"


def test_settings_built_directly_read_no_file(tmp_path: Path) -> None:
    """`Settings(...)` takes defaults, environment and arguments, never ./config.yaml, so
    tests and servers that build their own settings are not changed by a stray file."""
    write(tmp_path, "database_url: sqlite:///stray.db\n")
    assert Settings().database_url == "sqlite:///data/pesadesk.db"


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
    """`sandbox: false` with the sample's `...` credentials refuses, naming every key."""
    path = write(
        tmp_path,
        "payments:\n  mpesa:\n    sandbox: false\n    consumer_key: '...'\n"
        "    consumer_secret: '...'\n    passkey: real-passkey\n",
    )
    assert problems(path) == [
        f"{path}: payments.mpesa.consumer_key is a placeholder; set it (sandbox: false)",
        f"{path}: payments.mpesa.consumer_secret is a placeholder; set it (sandbox: false)",
    ]


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


def test_sealed_secret_without_its_key_is_a_problem_at_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An `enc:` secret that $PESADESK_SECRET_KEY cannot open is reported when the
    settings are read, not when the first refund needs it."""
    from pesadesk.secrets import new_key, seal

    sealed = seal("the-credential", new_key())
    path = write(tmp_path, f"payments:\n  b2c:\n    security_credential: '{sealed}'\n")
    monkeypatch.delenv("PESADESK_SECRET_KEY", raising=False)
    assert problems(path) == [
        f"{path}: payments.b2c.security_credential: "
        "a sealed secret needs $PESADESK_SECRET_KEY to open it"
    ]
    monkeypatch.setenv("PESADESK_SECRET_KEY", new_key())
    assert "does not open" in problems(path)[0]
