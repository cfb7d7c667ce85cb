"""The callback URLs pesadesk gives Daraja."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pesadesk.config import Settings


def with_webhook_token(url: str, settings: Settings) -> str:
    """Every callback URL we give Daraja carries `?token=` when `security.webhook_token`
    is set (CONTRACT §2), replacing any token already in it."""
    token = settings.security.webhook_token
    if token is None or not token.get_secret_value():
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "token"]
    query.append(("token", token.get_secret_value()))
    return urlunsplit(parts._replace(query=urlencode(query)))
