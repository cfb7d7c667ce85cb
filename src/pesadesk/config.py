"""Settings: `config.yaml` plus `PESADESK_` environment overrides (CONTRACT §2).

Nothing here is built at import time; `load_settings()` is called by the CLI and by tests,
so any number of differently configured apps can live in one process.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from pesadesk.core.placeholders import is_placeholder


class WhatsAppSettings(BaseModel):
    enabled: bool = False
    base_url: str = "https://graph.facebook.com/v21.0"
    phone_number_id: str = ""
    access_token: SecretStr = SecretStr("")
    # Hour of the day in Nairobi after which the admins get the daily summary; None = never.
    daily_summary_hour: int | None = Field(default=8, ge=0, le=23)


class MpesaSettings(BaseModel):
    """STK Push and C2B credentials of the collecting shortcode."""

    consumer_key: SecretStr = SecretStr("")
    consumer_secret: SecretStr = SecretStr("")
    shortcode: str = "174379"
    passkey: SecretStr = SecretStr("")
    callback_url: str = "http://127.0.0.1:8080/api/mpesa/callback"
    sandbox: bool = True
    base_url: str | None = None
    transaction_type: Literal["CustomerPayBillOnline", "CustomerBuyGoodsOnline"] = (
        "CustomerPayBillOnline"
    )
    till_number: str | None = None
    query_after_seconds: int = Field(default=120, ge=1)


class C2BSettings(BaseModel):
    shortcode: str = "600000"
    confirmation_url: str = "http://127.0.0.1:8080/api/webhooks/c2b/confirmation"
    validation_url: str = "http://127.0.0.1:8080/api/webhooks/c2b/validation"
    reject_unknown_accounts: bool = False


class B2CSettings(BaseModel):
    """Refund credentials; absent or incomplete means refunds are "not configured"."""

    consumer_key: SecretStr = SecretStr("")
    consumer_secret: SecretStr = SecretStr("")
    shortcode: str = "600000"
    initiator_name: str = "testapi"
    security_credential: SecretStr = SecretStr("")
    callback_url: str = "http://127.0.0.1:8080/api/mpesa/b2c/callback"
    timeout_url: str = "http://127.0.0.1:8080/api/mpesa/b2c/timeout"
    sandbox: bool = True
    base_url: str | None = None

    @property
    def configured(self) -> bool:
        return not any(
            is_placeholder(s)
            for s in (self.consumer_key, self.consumer_secret, self.security_credential)
        )


class PaymentsSettings(BaseModel):
    enabled: bool = True
    mpesa: MpesaSettings = Field(default_factory=MpesaSettings)
    c2b: C2BSettings = Field(default_factory=C2BSettings)
    b2c: B2CSettings = Field(default_factory=B2CSettings)


class RefundSettings(BaseModel):
    min_amount: int = Field(default=10, ge=1)
    max_amount: int = Field(default=150_000, ge=1)
    approval_threshold: int = Field(default=5_000, ge=0)
    rate_limit_per_minute: int = Field(default=30, ge=1)  # per API key, refunds and payouts


class ReconciliationSettings(BaseModel):
    max_statement_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)


class SecuritySettings(BaseModel):
    admin_api_key: SecretStr | None = None
    webhook_token: SecretStr | None = None
    webhook_ip_allowlist: list[str] = Field(default_factory=list)
    trust_forwarded_for: bool = False
    # auto: with `payments.mpesa.sandbox: false`, callbacks of unproven origin are
    # confirmed with Daraja before they move money; always: every callback is (§8).
    verify_callbacks: Literal["auto", "always", "never"] = "auto"
    allow_unprotected_webhooks: bool = False


class Settings(BaseSettings):
    """The whole configuration; see CONTRACT §2 for every key."""

    model_config = SettingsConfigDict(
        env_prefix="PESADESK_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    database_url: str = "sqlite:///data/pesadesk.db"
    admin_numbers: list[str] = Field(default_factory=list)
    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)
    payments: PaymentsSettings = Field(default_factory=PaymentsSettings)
    refunds: RefundSettings = Field(default_factory=RefundSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    max_webhook_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    reconciliation: ReconciliationSettings = Field(default_factory=ReconciliationSettings)
    log_json: bool = True

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        """Production credentials that are still the sample's `...` would fail at 3 a.m."""
        mpesa = self.payments.mpesa
        if self.payments.enabled and not mpesa.sandbox:
            for name in ("consumer_key", "consumer_secret", "passkey"):
                if is_placeholder(getattr(mpesa, name)):
                    raise ValueError(
                        f"payments.mpesa.{name} is a placeholder; set it (sandbox: false)"
                    )
        b2c = self.payments.b2c
        if not b2c.sandbox and not is_placeholder(b2c.consumer_key):
            for name in ("consumer_secret", "security_credential"):
                if is_placeholder(getattr(b2c, name)):
                    raise ValueError(
                        f"payments.b2c.{name} is a placeholder; set it (sandbox: false)"
                    )
        if self.refunds.min_amount > self.refunds.max_amount:
            raise ValueError("refunds.min_amount is above refunds.max_amount")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = os.environ.get("PESADESK_CONFIG", "config.yaml")
        return (
            init_settings,
            env_settings,
            YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file),
        )


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Read `config_file` (or `$PESADESK_CONFIG`, or `./config.yaml` when present).

    Environment variables win over the file; keyword overrides win over both.
    """
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise FileNotFoundError(f"config file not found: {path}")
        previous = os.environ.get("PESADESK_CONFIG")
        os.environ["PESADESK_CONFIG"] = str(path)
        try:
            return Settings(**overrides)
        finally:
            if previous is None:
                del os.environ["PESADESK_CONFIG"]
            else:
                os.environ["PESADESK_CONFIG"] = previous
    return Settings(**overrides)
