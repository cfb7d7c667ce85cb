"""Enqueue work for after the commit, inside the caller's transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from pesadesk.db.dml import insert_ignore
from pesadesk.db.models import OutboxMessage

PENDING = "pending"
SENDING = "sending"
DONE = "done"
FAILED = "failed"


def enqueue(
    session: Session, *, kind: str, dedupe_key: str, payload: dict[str, Any], now: datetime
) -> bool:
    """Add a message unless one with `dedupe_key` exists; True when this call added it."""
    table = OutboxMessage.__table__
    assert isinstance(table, Table)
    added = insert_ignore(
        session,
        table,
        {
            "kind": kind,
            "dedupe_key": dedupe_key,
            "payload": json.dumps(payload),
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        },
        returning=table.c.id,
    )
    return added is not None
