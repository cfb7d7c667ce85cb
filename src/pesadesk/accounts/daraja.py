"""Daraja client settings built from pesadesk's configuration.

The Daraja client knows nothing of `config.yaml`: it takes a plain `DarajaConfig`. This
is the one place that reads the `payments` keys (and unseals sealed secrets) into one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pesadesk.config import Settings
from pesadesk.daraja.client import DarajaConfig
from pesadesk.secrets import unseal


def stk_config(settings: Settings, **overrides: Any) -> DarajaConfig:
    """STK Push and Query: the `payments.mpesa` app and shortcode."""
    mpesa = settings.payments.mpesa
    config = DarajaConfig(
        consumer_key=mpesa.consumer_key,
        consumer_secret=mpesa.consumer_secret,
        sandbox=mpesa.sandbox,
        base_url=mpesa.base_url,
        shortcode=mpesa.shortcode,
        passkey=mpesa.passkey,
        transaction_type=mpesa.transaction_type,
        till_number=mpesa.till_number,
        callback_url=mpesa.callback_url,
    )
    return replace(config, **overrides)


def c2b_config(settings: Settings, **overrides: Any) -> DarajaConfig:
    """C2B register, simulate and Pull: the mpesa app's credentials, the C2B shortcode."""
    return stk_config(settings, **{"shortcode": settings.payments.c2b.shortcode, **overrides})


def b2c_config(settings: Settings, **overrides: Any) -> DarajaConfig:
    """Refunds, payouts, Transaction Status, balance and reversal (`payments.b2c`)."""
    b2c = settings.payments.b2c
    config = DarajaConfig(
        consumer_key=b2c.consumer_key,
        consumer_secret=b2c.consumer_secret,
        sandbox=b2c.sandbox,
        base_url=b2c.base_url,
        shortcode=b2c.shortcode,
        initiator_name=b2c.initiator_name,
        security_credential=unseal(b2c.security_credential),
        result_url=b2c.callback_url,
        timeout_url=b2c.timeout_url,
    )
    return replace(config, **overrides)
