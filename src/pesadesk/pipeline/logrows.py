"""The one writer of `webhook_logs`: every message pesadesk is given leaves a row here,
written first in the transaction that applies it, with what applying it concluded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from pesadesk.db.models import WebhookLog
from pesadesk.db.sql import Sql, db_time
from pesadesk.pipeline.contract import Outcome
from pesadesk.pipeline.failures import Failure

_INSERT = Sql(
    """INSERT INTO webhook_logs (source, origin, proven, raw_body, received_at,
       remote_addr, external_id, processed, is_duplicate, flagged, error, error_kind,
       attempts, next_attempt_at, processed_at)
       VALUES (:source, :origin, :proven, :raw, :received, :addr, :ext, :done, :dup,
       :flagged, :error, :kind, :attempts, :retry_at, :processed_at) RETURNING id"""
)
_MARK = Sql(
    "UPDATE webhook_logs SET is_duplicate = :dup, flagged = :flagged, error = :error WHERE id = :id"
)
_APPLIED_AGAIN = Sql(
    """UPDATE webhook_logs SET processed = :yes, processed_at = :now, is_duplicate = :dup,
       flagged = :flagged, error = :error, error_kind = NULL, next_attempt_at = NULL,
       external_id = COALESCE(:ext, external_id), attempts = attempts + 1 WHERE id = :id"""
)
_FAILED_AGAIN = Sql(
    """UPDATE webhook_logs SET error = :error, error_kind = :kind, flagged = :flagged,
       next_attempt_at = :retry_at, external_id = COALESCE(:ext, external_id),
       attempts = attempts + 1 WHERE id = :id"""
)


@dataclass(frozen=True)
class Arrival:
    """A message as it reached us, before it is applied."""

    source: str
    origin: str
    raw: bytes
    remote_addr: str | None
    received: datetime
    external_id: str | None
    proven: bool = True


def _row(conn: Connection, arrival: Arrival) -> dict[str, Any]:
    return {
        "source": arrival.source, "origin": arrival.origin, "proven": arrival.proven,
        "raw": arrival.raw,
        "received": db_time(conn, arrival.received), "addr": arrival.remote_addr,
        "ext": arrival.external_id,
    }  # fmt: skip


def insert_applied(conn: Connection, arrival: Arrival) -> int:
    """The row of a message about to be applied in this transaction: written processed,
    so the usual case costs no second write (`mark` follows only for the unusual)."""
    stamp = db_time(conn, arrival.received)
    values = {**_row(conn, arrival), "done": True, "dup": False, "flagged": False,
              "error": None, "kind": None, "attempts": 1, "retry_at": None,
              "processed_at": stamp}  # fmt: skip
    return int(_INSERT.run(conn, values).scalar_one())


_LOG_COLUMNS = (
    ("source", "text"), ("origin", "text"), ("proven", "boolean"), ("raw_body", "bytea"),
    ("received_at", "timestamptz"), ("remote_addr", "text"), ("external_id", "text"),
)  # fmt: skip
# The serial ids are drawn in the ORDER BY's order, so sorting the ids that come back
# gives them in the rows' order (the form SQLAlchemy's "insertmanyvalues" relies on).
_INSERT_MANY = (
    "INSERT INTO webhook_logs (source, origin, proven, raw_body, received_at, remote_addr, "  # noqa: S608 - fixed names only
    "external_id, processed, is_duplicate, flagged, attempts, processed_at) "
    "SELECT u.source, u.origin, u.proven, u.raw_body, u.received_at, u.remote_addr, "
    "u.external_id, true, false, false, 1, u.received_at FROM unnest("
    + ", ".join(f"CAST(%({name})b AS {kind}[])" for name, kind in _LOG_COLUMNS)
    + f") WITH ORDINALITY AS u({', '.join(name for name, _ in _LOG_COLUMNS)}, n) "
    "ORDER BY u.n RETURNING id"
)


def insert_applied_many(conn: Connection, arrivals: list[Arrival]) -> list[int]:
    """`insert_applied` for a batch, their ids in the same order: one statement on
    PostgreSQL whatever the batch's size."""
    if conn.dialect.name != "postgresql" or len(arrivals) < 2:
        return [insert_applied(conn, arrival) for arrival in arrivals]
    rows = [_row(conn, arrival) for arrival in arrivals]
    params = {
        "source": [r["source"] for r in rows], "origin": [r["origin"] for r in rows],
        "proven": [r["proven"] for r in rows], "raw_body": [r["raw"] for r in rows],
        "received_at": [r["received"] for r in rows], "remote_addr": [r["addr"] for r in rows],
        "external_id": [r["ext"] for r in rows],
    }  # fmt: skip
    return sorted(int(row[0]) for row in conn.exec_driver_sql(_INSERT_MANY, params))


def mark(conn: Connection, log_id: int, outcome: Outcome) -> None:
    """A duplicate, a flag or a note from applying it."""
    if outcome.duplicate or outcome.flagged or outcome.note:
        _MARK.run(conn, {"dup": outcome.duplicate, "flagged": outcome.flagged,
                         "error": outcome.note, "id": log_id})  # fmt: skip


def insert_failed(
    conn: Connection, arrival: Arrival, failure: Failure, *, attempts: int, now: datetime
) -> int:
    """The row of a message that was refused or could not be applied, with the reason."""
    retry_at = failure.retry_at(attempts, now)
    values = {**_row(conn, arrival), "done": False, "dup": False, "flagged": failure.flagged,
              "error": failure.error, "kind": failure.kind, "attempts": attempts,
              "retry_at": db_time(conn, retry_at) if retry_at else None,
              "processed_at": None}  # fmt: skip
    return int(_INSERT.run(conn, values).scalar_one())


def applied_again(conn: Connection, log_id: int, outcome: Outcome, now: datetime) -> None:
    """A stored message applied now (a re-run or the recovery pass)."""
    _APPLIED_AGAIN.run(conn, {"yes": True, "now": db_time(conn, now), "dup": outcome.duplicate,
                              "flagged": outcome.flagged, "error": outcome.note,
                              "ext": outcome.external_id, "id": log_id})  # fmt: skip


def failed_again(
    conn: Connection, log_id: int, failure: Failure, *, attempts: int, now: datetime,
    external_id: str | None,
) -> None:  # fmt: skip
    """A stored message that failed once more; `attempts` is its count after this one."""
    retry_at = failure.retry_at(attempts, now)
    values = {"error": failure.error, "kind": failure.kind, "flagged": failure.flagged,
              "ext": external_id, "id": log_id,
              "retry_at": db_time(conn, retry_at) if retry_at else None}  # fmt: skip
    _FAILED_AGAIN.run(conn, values)


_FLAG = Sql("UPDATE webhook_logs SET flagged = :yes, error = :note WHERE id = :id")


def flag(conn: Connection, log_ids: list[int], note: str) -> None:
    """Daraja contradicted what these messages said: flag them for a person."""
    for log_id in log_ids:
        _FLAG.run(conn, {"yes": True, "note": note[:2000], "id": log_id})


def lock(session: Session, log_id: int, *, skip_locked: bool) -> WebhookLog | None:
    """A stored row, locked for this transaction (None: gone, or another server holds it)."""
    query = select(WebhookLog).where(WebhookLog.id == log_id)
    return session.execute(query.with_for_update(skip_locked=skip_locked)).scalar_one_or_none()
