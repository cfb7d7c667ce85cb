"""Admin alerts are outbox rows, one per admin number, keyed so a replayed callback
cannot queue a second message to anyone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from pesadesk.config import Settings
from pesadesk.core.phone import normalize_phone
from pesadesk.outbox import store as outbox

WHATSAPP_TEXT = "whatsapp_text"


def notify_admins(
    session: Session, *, settings: Settings, event: str, subject: str, text: str, now: datetime
) -> int:
    """Queue `text` for every admin number; returns how many were newly queued."""
    if not settings.whatsapp.enabled:
        return 0
    queued = 0
    for raw in settings.admin_numbers:
        number = normalize_phone(raw)
        queued += outbox.enqueue(
            session,
            kind=WHATSAPP_TEXT,
            dedupe_key=f"wa:{event}:{subject}:{number}",
            payload={"to": number, "body": text},
            now=now,
        )
    return queued
