"""`Idempotency-Key` for money-moving writes (CONTRACT §3): the first result is stored
and replayed for the same key and body, never a second movement.

The key row is claimed in the same transaction as the movement it guards, so two
requests with one key can never both create a payment or a refund. What is stored is
the service's own result (a JSON object), not an HTTP answer: the API maps a replayed
result to its status exactly as it mapped the first one.
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

MAX_KEY_LENGTH = 200


class IdempotencyKeyReused(InvalidInput):
    """Raised when an Idempotency-Key comes back with a different request body."""

    code = "idempotency_key_reused"


class IdempotencyInProgress(Conflict):
    """Raised when a request with this Idempotency-Key is still being handled."""

    code = "idempotency_in_progress"


@dataclass(frozen=True)
class Claim:
    """A request's hold on its Idempotency-Key within one operation (`scope`)."""

    scope: str
    key: str
    digest: str


def request_hash(body: object) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def claim_for(scope: str, key: str | None, request: object) -> Claim | None:
    """The claim a request makes, or None when it sent no Idempotency-Key."""
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} characters")
    return Claim(scope, key, request_hash(request))


def claim(session: Session, held: Claim | None, *, now: datetime) -> dict[str, Any] | None:
    """None when this request owns the key now (or has none); the stored result when the
    same request was handled before."""
    if held is None:
        return None
    table = IdempotencyKey.__table__
    assert isinstance(table, Table)
    mine = insert_ignore(
        session,
        table,
        {"scope": held.scope, "key": held.key, "request_hash": held.digest, "created_at": now},
        returning=table.c.id,
    )
    if mine is not None:
        return None
    row = session.execute(
        select(IdempotencyKey).where(
            IdempotencyKey.scope == held.scope, IdempotencyKey.key == held.key
        )
    ).scalar_one()
    if row.request_hash != held.digest:
        raise IdempotencyKeyReused("this Idempotency-Key was used with a different request")
    if row.completed_at is None or row.response_json is None:
        raise IdempotencyInProgress("a request with this Idempotency-Key is in progress")
    stored: dict[str, Any] = json.loads(row.response_json)
    return stored


def complete(
    session: Session, held: Claim | None, result: dict[str, Any], *, now: datetime
) -> None:
    """Keep `result` as the answer to every later request with this key."""
    if held is None:
        return
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.scope == held.scope, IdempotencyKey.key == held.key)
        .values(completed_at=now, response_json=json.dumps(result))
    )
