"""Secrets nobody has filled in yet: the sample config's `"..."` and its friends."""

from __future__ import annotations

from pydantic import SecretStr

PLACEHOLDER_SECRETS = frozenset({"", "...", "changeme", "change-me", "secret", "xxx", "todo"})


def is_placeholder(secret: SecretStr | None) -> bool:
    """True for a missing secret or one still holding a sample value."""
    return secret is None or secret.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS
