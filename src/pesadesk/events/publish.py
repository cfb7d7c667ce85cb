"""`publish`: store a transaction's events and run their consumers, in that transaction.

Events are written with one multi-row INSERT however many there are, so a batch of
callbacks pays one statement for all its events. Consumers (admin notices, webhook
deliveries) only add outbox rows here; the sending happens after the commit.
"""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from pesadesk.config import Settings
from pesadesk.core.events import Event
from pesadesk.db.sql import Sql, db_time
from pesadesk.events.consumers import CONSUMERS
from pesadesk.events.snapshots import Snapshot, subject_of, take
from pesadesk.events.types import Published


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


@functools.cache
def _insert(count: int) -> Sql:
    rows = ", ".join(f"(:id_{i}, :type_{i}, :subject_{i}, :data_{i}, :at)" for i in range(count))
    return Sql(
        "INSERT INTO events (event_id, type, subject, data, created_at) "  # noqa: S608 - fixed columns
        f"VALUES {rows}"
    )


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
    params: dict[str, Any] = {"at": db_time(conn, now)}
    for i, item in enumerate(published):
        params.update(
            {f"id_{i}": item.event_id, f"type_{i}": item.event.type,
             f"subject_{i}": subject_of(item.event), f"data_{i}": json.dumps(item.data)}
        )  # fmt: skip
    _insert(len(published)).run(conn, params)
    for run in CONSUMERS:
        run(session, published, settings, now)
    return published
