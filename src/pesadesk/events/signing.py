"""Standard Webhooks signatures (https://www.standardwebhooks.com), made by the
`standardwebhooks` package: `webhook-signature: v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}" keyed with the secret's decoded bytes>`."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks import Webhook

from pesadesk.core.clock import require_aware

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def headers(secret: str, *, msg_id: str, at: datetime, body: str) -> dict[str, str]:
    """The three headers that let the receiver check who sent `body`, and when."""
    moment = require_aware(at)  # UTC: the package reads the instant with its zone replaced
    signature = Webhook(secret).sign(msg_id=msg_id, timestamp=moment, data=body)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    }
