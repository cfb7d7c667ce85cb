"""Settings: `config.yaml` plus `PESADESK_` environment overrides (CONTRACT §2), checked.

Nothing here is built at import time. `load_settings()` reads the file and the environment
and raises `ConfigError` (one line per problem) when they cannot be used; `Settings(...)`
built directly takes defaults, environment and keyword arguments, but no file.
"""

from pesadesk.config.load import (
    CONFIG_ENV,
    ConfigError,
    config_path,
    load_settings,
    read_config_file,
    serving_problems,
)
from pesadesk.config.models import (
    AccountSettings,
    B2CSettings,
    C2BSettings,
    MpesaSettings,
    PaymentsSettings,
    ReconciliationSettings,
    RefundRequestSettings,
    RefundSettings,
    SecuritySettings,
    Settings,
    WhatsAppSettings,
)

__all__ = [
    "CONFIG_ENV",
    "AccountSettings",
    "B2CSettings",
    "C2BSettings",
    "ConfigError",
    "MpesaSettings",
    "PaymentsSettings",
    "ReconciliationSettings",
    "RefundRequestSettings",
    "RefundSettings",
    "SecuritySettings",
    "Settings",
    "WhatsAppSettings",
    "config_path",
    "load_settings",
    "read_config_file",
    "serving_problems",
]
