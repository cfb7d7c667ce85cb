"""`publish`: store a transaction's events and run their consumers, in that transaction.

Events are written with one multi-row INSERT however many there are, so a batch of
callbacks pays one statement for all its events. Consumers (admin notices, webhook
deliveries) only add outbox rows here; the sending happens after the commit.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from pesadesk.config import Settings
from pesadesk.core.events import Event
from pesadesk.db.sql import db_time, insert_many
from pesadesk.events.consumers import CONSUMERS
from pesadesk.events.snapshots import Snapshot, subject_of, take
from pesadesk.events.types import Published


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


_COLUMNS = (
    ("event_id", "text"), ("type", "text"), ("subject", "text"), ("data", "text"),
    ("created_at", "timestamptz"),
)  # fmt: skip


def publish(
    session: Session, events: Sequence[Event], *, settings: Settings, now: datetime
) -> list[Published]:
    """Store `events` with their snapshots and hand them to every consumer."""
    if not events:
        return []
    snapshots: list[Snapshot] = take(session, events)
    published = [
        Published(event, new_event_id(), snap.data, snap.row)
        for event, snap in zip(events, snapshots, strict=True)
    ]
    conn = session.connection()
    at = db_time(conn, now)
    rows = [
        (item.event_id, item.event.type, subject_of(item.event), json.dumps(item.data), at)
        for item in published
    ]
    insert_many(conn, "events", _COLUMNS, rows)
    for run in CONSUMERS:
        run(session, published, settings, now)
    return published
