"""The settings models: every key of `config.yaml` with its default (CONTRACT §2, §8, §9).

Every model refuses keys it does not know, so a misspelt key is an error rather than a
silently ignored line. Values that would only fail later (a URL, a CIDR, a database URL)
are checked here, when the settings are built. Reading the file is `pesadesk.config.load`.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from pesadesk.config.checks import (
    check_account_name,
    check_database_url,
    check_digits,
    check_network,
    check_url,
)
from pesadesk.core.placeholders import is_placeholder

Url = Annotated[str, AfterValidator(check_url)]
Network = Annotated[str, AfterValidator(check_network)]
DatabaseUrl = Annotated[str, AfterValidator(check_database_url)]
Digits = Annotated[str, AfterValidator(check_digits)]
AccountName = Annotated[str, AfterValidator(check_account_name)]

MIB = 1024 * 1024

# The parsed config file, set by `load_settings` while it builds a Settings (below the
# environment in priority). A Settings built directly reads defaults and environment only.
FILE_VALUES: ContextVar[dict[str, Any] | None] = ContextVar("pesadesk_config_file", default=None)


class Section(BaseModel):
    """A part of the configuration: unknown keys are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class WhatsAppSettings(Section):
    enabled: bool = False
    base_url: Url = "https://graph.facebook.com/v21.0"
    phone_number_id: str = ""
    access_token: SecretStr = SecretStr("")
    # Hour of the day in Nairobi after which the admins get the daily summary; None = never.
    daily_summary_hour: int | None = Field(default=8, ge=0, le=23)


class MpesaSettings(Section):
    """STK Push and C2B credentials of the collecting shortcode."""

    consumer_key: SecretStr = SecretStr("")
    consumer_secret: SecretStr = SecretStr("")
    shortcode: str = "174379"
    passkey: SecretStr = SecretStr("")
    callback_url: Url = "http://127.0.0.1:8080/api/mpesa/callback"
    sandbox: bool = True
    base_url: Url | None = None
    transaction_type: Literal["CustomerPayBillOnline", "CustomerBuyGoodsOnline"] = (
        "CustomerPayBillOnline"
    )
    till_number: str | None = None
    query_after_seconds: int = Field(default=120, ge=1)


class C2BSettings(Section):
    shortcode: str = "600000"
    confirmation_url: Url = "http://127.0.0.1:8080/api/webhooks/c2b/confirmation"
    validation_url: Url = "http://127.0.0.1:8080/api/webhooks/c2b/validation"
    reject_unknown_accounts: bool = False


class B2CSettings(Section):
    """Refund credentials; absent or incomplete means refunds are "not configured"."""

    consumer_key: SecretStr = SecretStr("")
    consumer_secret: SecretStr = SecretStr("")
    shortcode: str = "600000"
    initiator_name: str = "testapi"
    security_credential: SecretStr = SecretStr("")
    callback_url: Url = "http://127.0.0.1:8080/api/mpesa/b2c/callback"
    timeout_url: Url = "http://127.0.0.1:8080/api/mpesa/b2c/timeout"
    sandbox: bool = True
    base_url: Url | None = None

    @property
    def configured(self) -> bool:
        return not any(
            is_placeholder(s)
            for s in (self.consumer_key, self.consumer_secret, self.security_credential)
        )


class AccountSettings(Section):
    """One collection account of `payments.accounts` (CONTRACT §9). `base_url` and `sandbox`
    left out (None) mean those of `payments.mpesa`."""

    name: AccountName
    shortcode: Digits
    kind: Literal["paybill", "till"]
    consumer_key: SecretStr
    consumer_secret: SecretStr
    passkey: SecretStr | None = None
    till_number: Digits | None = None
    c2b_register_version: Literal["v2", "v1"] = "v2"
    base_url: Url | None = None
    sandbox: bool | None = None
    b2c: B2CSettings | None = None


class PaymentsSettings(Section):
    enabled: bool = True
    mpesa: MpesaSettings = Field(default_factory=MpesaSettings)
    c2b: C2BSettings = Field(default_factory=C2BSettings)
    b2c: B2CSettings = Field(default_factory=B2CSettings)
    accounts: list[AccountSettings] = Field(default_factory=list)

    @field_validator("accounts")
    @classmethod
    def _names_and_shortcodes_unique(cls, accounts: list[AccountSettings]) -> list[AccountSettings]:
        """A payment is routed to its account by shortcode and shown by name: both must be
        unambiguous, and `default` is the account the wave-1 keys define."""
        problems: list[str] = []
        names: set[str] = set()
        shortcodes: set[str] = set()
        for account in accounts:
            if account.name == "default":
                problems.append(
                    "the name 'default' is reserved for payments.mpesa / c2b / b2c; choose another"
                )
            elif account.name in names:
                problems.append(f"two accounts are named {account.name!r}")
            if account.shortcode in shortcodes:
                problems.append(f"two accounts have shortcode {account.shortcode}")
            names.add(account.name)
            shortcodes.add(account.shortcode)
        if problems:
            raise ValueError("\n".join(problems))
        return accounts


class RefundSettings(Section):
    min_amount: int = Field(default=10, ge=1)
    max_amount: int = Field(default=150_000, ge=1)
    approval_threshold: int = Field(default=5_000, ge=0)
    rate_limit_per_minute: int = Field(default=30, ge=1)  # per API key, refunds and payouts


class RefundRequestSettings(Section):
    """The public refund-request form (CONTRACT §9)."""

    rate_limit_per_minute: int = Field(default=10, ge=1)  # per client address


class ReconciliationSettings(Section):
    max_statement_bytes: int = Field(default=256 * MIB, ge=1024)


class SecuritySettings(Section):
    admin_api_key: SecretStr | None = None
    webhook_token: SecretStr | None = None
    webhook_ip_allowlist: list[Network] = Field(default_factory=list)
    trust_forwarded_for: bool = False
    # CONTRACT §8: when a callback's money waits for Daraja to confirm it.
    verify_callbacks: Literal["auto", "always", "never"] = "auto"
    allow_unprotected_webhooks: bool = False

    @property
    def webhooks_protected(self) -> bool:
        """True when a callback's origin can be proven (a token or an allow-list is set)."""
        return not is_placeholder(self.webhook_token) or bool(self.webhook_ip_allowlist)


class Settings(BaseSettings):
    """The whole configuration; see CONTRACT §2 for every key."""

    model_config = SettingsConfigDict(
        env_prefix="PESADESK_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    database_url: DatabaseUrl = "sqlite:///data/pesadesk.db"
    admin_numbers: list[str] = Field(default_factory=list)
    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)
    payments: PaymentsSettings = Field(default_factory=PaymentsSettings)
    refunds: RefundSettings = Field(default_factory=RefundSettings)
    refund_requests: RefundRequestSettings = Field(default_factory=RefundRequestSettings)
    reconciliation: ReconciliationSettings = Field(default_factory=ReconciliationSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    max_webhook_body_bytes: int = Field(default=2 * MIB, ge=1024)
    log_json: bool = True

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        """Production credentials that are still the sample's `...` would fail at 3 a.m.
        Every such key is named, one per line."""
        problems = [
            f"{key} is a placeholder; set it (sandbox: false)"
            for key in _production_placeholders(self)
        ]
        if self.refunds.min_amount > self.refunds.max_amount:
            problems.append("refunds.min_amount is above refunds.max_amount")
        if problems:
            raise ValueError("\n".join(problems))
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
        """Keyword arguments win over the environment, which wins over the file."""
        return (
            init_settings,
            env_settings,
            InitSettingsSource(settings_cls, init_kwargs=FILE_VALUES.get() or {}),
        )


def _production_placeholders(settings: Settings) -> list[str]:
    """The keys still holding a sample value where money is real."""
    found: list[str] = []
    mpesa = settings.payments.mpesa
    if settings.payments.enabled and not mpesa.sandbox:
        for name in ("consumer_key", "consumer_secret", "passkey"):
            if is_placeholder(getattr(mpesa, name)):
                found.append(f"payments.mpesa.{name}")
    b2c = settings.payments.b2c
    if not b2c.sandbox and not is_placeholder(b2c.consumer_key):
        for name in ("consumer_secret", "security_credential"):
            if is_placeholder(getattr(b2c, name)):
                found.append(f"payments.b2c.{name}")
    for n, account in enumerate(settings.payments.accounts):
        sandbox = mpesa.sandbox if account.sandbox is None else account.sandbox
        if settings.payments.enabled and not sandbox:
            for name in ("consumer_key", "consumer_secret"):
                if is_placeholder(getattr(account, name)):
                    found.append(f"payments.accounts[{n}].{name}")
    return found
