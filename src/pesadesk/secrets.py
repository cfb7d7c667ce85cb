"""Secrets kept encrypted in the config file: `enc:<token>`, opened with the Fernet key
in `$PESADESK_SECRET_KEY` (so the file alone gives nothing away). Make one with
`pesadesk seal-secret`."""

from __future__ import annotations

import os

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

SEALED_PREFIX = "enc:"
KEY_ENV = "PESADESK_SECRET_KEY"


class SecretKeyError(ValueError):
    """Raised when a sealed secret cannot be opened."""


def new_key() -> str:
    return Fernet.generate_key().decode()


def seal(plain: str, key: str) -> str:
    return SEALED_PREFIX + Fernet(key.encode()).encrypt(plain.encode()).decode()


def unseal(value: SecretStr | None) -> SecretStr | None:
    """The plain secret; values without the `enc:` prefix are returned as they are."""
    if value is None:
        return None
    text = value.get_secret_value()
    if not text.startswith(SEALED_PREFIX):
        return value
    key = os.environ.get(KEY_ENV)
    if not key:
        raise SecretKeyError(f"a sealed secret needs ${KEY_ENV} to open it")
    try:
        return SecretStr(Fernet(key.encode()).decrypt(text[len(SEALED_PREFIX) :]).decode())
    except (InvalidToken, ValueError):
        raise SecretKeyError(f"${KEY_ENV} does not open this sealed secret") from None
