"""`Idempotency-Key` for money-moving writes: the first answer is stored and replayed.

The key row is inserted in the same transaction as the payment it guards, so two
requests with one key can never both create a payment.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from pesadesk.core.errors import Conflict, InvalidInput
from pesadesk.db.dml import insert_ignore
from pesadesk.db.models import IdempotencyKey


class IdempotencyKeyReused(InvalidInput):
    """Raised when an Idempotency-Key comes back with a different request body."""

    code = "idempotency_key_reused"


class IdempotencyInProgress(Conflict):
    """Raised when a request with this Idempotency-Key is still being handled."""

    code = "idempotency_in_progress"


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: dict[str, Any]


def request_hash(body: object) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def claim(session: Session, *, scope: str, key: str, digest: str, now: datetime) -> Replay | None:
    """None when this request owns the key now; the stored answer when it was seen before."""
    if not key or len(key) > 200:
        raise InvalidInput("Idempotency-Key must be 1-200 characters")
    table = IdempotencyKey.__table__
    assert isinstance(table, Table)
    mine = insert_ignore(
        session,
        table,
        {"scope": scope, "key": key, "request_hash": digest, "created_at": now},
        returning=table.c.id,
    )
    if mine is not None:
        return None
    row = session.execute(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    ).scalar_one()
    if row.request_hash != digest:
        raise IdempotencyKeyReused("this Idempotency-Key was used with a different request")
    if row.status_code is None or row.response_json is None:
        raise IdempotencyInProgress("a request with this Idempotency-Key is in progress")
    return Replay(row.status_code, json.loads(row.response_json))


def complete(
    session: Session, *, scope: str, key: str, status_code: int, body: dict[str, Any]
) -> None:
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        .values(status_code=status_code, response_json=json.dumps(body))
    )
