"""Callbacks from Safaricom: store the raw body first, then process it exactly once.

The log row and the processing share one transaction, the row written first. If
processing fails, the body is still kept, with the reason, and can be re-run; if it
cannot be kept at all, the caller answers 503 and Safaricom retries.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from pesadesk.b2c import refunds
from pesadesk.c2b import service as c2b
from pesadesk.c2b.message import parse_c2b
from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.core.errors import InvalidInput, NeedsReview, StorageUnavailable, WebhookLogNotFound
from pesadesk.core.statuses import WebhookSource
from pesadesk.db.models import WebhookLog
from pesadesk.db.session import Database
from pesadesk.db.sql import Sql, db_time
from pesadesk.pipeline.outcome import Outcome
from pesadesk.receivables import placement
from pesadesk.stk import service as stk

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Ingested:
    log_id: int
    outcome: Outcome | None
    error: str | None


Processor = Callable[[Session, Any, Settings, Clock], Outcome]


def decode_json(raw: bytes) -> Any:
    """Strict JSON with exact decimals; a body that is not JSON is an `InvalidInput`."""
    try:
        return json.loads(raw, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}") from None


def describe(exc: BaseException) -> str:
    """The reason a person reads in the webhook log. For a database error, only the
    driver's primary message and SQLSTATE: SQLAlchemy's text carries the statement's
    parameters and PostgreSQL's DETAIL the failing row, both customer data."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        orig = exc.orig
        primary = getattr(getattr(orig, "diag", None), "message_primary", None)
        if primary:
            state = getattr(orig, "sqlstate", None)
            return f"{type(orig).__name__}: {primary} (SQLSTATE {state})"[:2000]
        exc = orig
    return f"{type(exc).__name__}: {exc}"[:2000]


def external_id(source: str, payload: Any) -> str | None:
    """M-Pesa's own id of a callback, read without trusting its shape."""
    if not isinstance(payload, dict):
        return None
    found: Any = None
    if source.startswith("c2b"):
        found = payload.get("TransID")
    elif source == WebhookSource.STK.value:
        body = payload.get("Body")
        callback = body.get("stkCallback") if isinstance(body, dict) else None
        found = callback.get("CheckoutRequestID") if isinstance(callback, dict) else None
    elif source.startswith("b2c"):
        result = payload.get("Result")
        found = result.get("ConversationID") if isinstance(result, dict) else None
    return str(found)[:100] if isinstance(found, str | int) and found != "" else None


class Work:
    """A parsed callback, ready to touch the database.

    `resolve` does the reads that decide which rows it will lock, and returns a key; a
    batch applies its work in key order, so two batches lock customers in the same
    order and cannot deadlock. `apply` does the writes.
    """

    LAST: tuple[int, int] = (9, 0)

    def __init__(
        self, processor: Processor, payload: Any, settings: Settings, clock: Clock, source: str
    ) -> None:
        self.processor = processor
        self.payload = payload
        self.settings = settings
        self.clock = clock
        self.external_id = external_id(source, payload)

    def resolve(self, session: Session) -> tuple[int, int]:
        return self.LAST

    def apply(self, session: Session) -> Outcome:
        return self.processor(session, self.payload, self.settings, self.clock)


class C2BConfirmationWork(Work):
    def __init__(self, payload: Any, settings: Settings, clock: Clock) -> None:
        super().__init__(_process_c2b_confirmation, payload, settings, clock, "c2b_confirmation")
        self.txn = parse_c2b(payload)  # bad input fails here, before any database work
        self.target: placement.Target | None = None

    def resolve(self, session: Session) -> tuple[int, int]:
        self.target = c2b.find_target(session, self.txn)
        if self.target is None:
            return (2, 0)
        if self.target.customer_pk is not None:
            return (0, self.target.customer_pk)
        return (1, self.target.sale_pk or self.target.invoice_pk or 0)

    def apply(self, session: Session) -> Outcome:
        recorded = c2b.record_confirmation(
            session, txn=self.txn, clock=self.clock, target=self.target
        )
        return Outcome(
            external_id=self.txn.trans_id,
            duplicate=recorded.duplicate,
            flagged=recorded.note is not None,
            note=recorded.note,
        )


def _process_c2b_confirmation(
    session: Session, payload: Any, settings: Settings, clock: Clock
) -> Outcome:
    work = C2BConfirmationWork(payload, settings, clock)
    work.resolve(session)
    return work.apply(session)


def _process_c2b_validation(
    session: Session, payload: Any, settings: Settings, clock: Clock
) -> Outcome:
    answer = c2b.validate(session, payload=payload, settings=settings.payments.c2b)
    trans_id = payload.get("TransID") if isinstance(payload, dict) else None
    return Outcome(external_id=str(trans_id)[:100] if trans_id else None, reply=answer.body())


PROCESSORS: dict[str, Processor] = {
    WebhookSource.C2B_CONFIRMATION.value: _process_c2b_confirmation,
    WebhookSource.C2B_VALIDATION.value: _process_c2b_validation,
    WebhookSource.STK.value: stk.process_callback,
    WebhookSource.B2C_RESULT.value: refunds.process_result,
    WebhookSource.B2C_TIMEOUT.value: refunds.process_timeout,
}


def prepare(source: str, raw: bytes, settings: Settings, clock: Clock) -> Work:
    """Parse a body without touching the database; raises on anything malformed."""
    processor = PROCESSORS.get(source)
    if processor is None:
        raise InvalidInput(f"no processor for {source} callbacks yet")
    payload = decode_json(raw)
    if processor is _process_c2b_confirmation:  # its reads can be batched and ordered
        return C2BConfirmationWork(payload, settings, clock)
    return Work(processor, payload, settings, clock, source)


def _run(
    session: Session, entry_id: int, source: str, raw: bytes, settings: Settings, clock: Clock
) -> tuple[Outcome | None, str | None]:
    """Process a stored callback inside a savepoint and write the result on its row
    (re-runs and recovery; new callbacks go through `ingest`)."""
    now = clock.now()
    outcome: Outcome | None = None
    error: str | None = None
    try:
        work = prepare(source, raw, settings, clock)
        with session.begin_nested():
            work.resolve(session)
            outcome = work.apply(session)
    except StorageUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure is recorded, never lost
        error = describe(exc)
        log.warning("webhook_processing_failed", source=source, log_id=entry_id, error=error)
    values: dict[str, Any] = {"attempts": WebhookLog.attempts + 1, "error": error}
    if outcome is not None:
        values.update(
            processed=True,
            processed_at=now,
            is_duplicate=outcome.duplicate,
            flagged=outcome.flagged,
            error=outcome.note,
            external_id=outcome.external_id,
        )
    session.execute(update(WebhookLog).where(WebhookLog.id == entry_id).values(**values))
    return outcome, error


_INSERT_LOG = Sql(
    """INSERT INTO webhook_logs (source, raw_body, received_at, remote_addr, external_id,
       processed, is_duplicate, flagged, error, attempts, processed_at)
       VALUES (:source, :raw, :now, :addr, :ext, :done, :no, :flagged, :error, :attempts,
       :processed_at) RETURNING id"""
)
_MARK_OUTCOME = Sql(
    "UPDATE webhook_logs SET is_duplicate = :dup, flagged = :flagged, error = :error WHERE id = :id"
)


def store_failed(
    session: Session, *, source: str, raw: bytes, remote_addr: str | None, error: str,
    received: datetime, attempts: int, flagged: bool = False, external: str | None = None,
) -> int:  # fmt: skip
    """Keep a body that was refused or could not be processed, with the reason."""
    conn = session.connection()
    return int(
        _INSERT_LOG.run(
            conn,
            {"source": source, "raw": raw, "now": db_time(conn, received), "addr": remote_addr,
             "ext": external, "done": False, "no": False,
             "flagged": flagged or error.startswith("refused"), "error": error,
             "attempts": attempts, "processed_at": None},
        ).scalar_one()
    )  # fmt: skip


def store_processed(
    session: Session, *, source: str, raw: bytes, remote_addr: str | None, work: Work,
    received: datetime,
) -> Ingested:  # fmt: skip
    """The log row first, marked processed; then the work, in the same transaction."""
    conn = session.connection()
    stamp = db_time(conn, received)
    entry_id = int(
        _INSERT_LOG.run(
            conn,
            {"source": source, "raw": raw, "now": stamp, "addr": remote_addr,
             "ext": work.external_id, "done": True, "no": False, "flagged": False,
             "error": None, "attempts": 1, "processed_at": stamp},
        ).scalar_one()
    )  # fmt: skip
    outcome = work.apply(session)
    if outcome.duplicate or outcome.flagged or outcome.note:
        _MARK_OUTCOME.run(
            conn,
            {"dup": outcome.duplicate, "flagged": outcome.flagged, "error": outcome.note,
             "id": entry_id},
        )  # fmt: skip
    if outcome.duplicate:
        log.info("webhook_duplicate", source=source, log_id=entry_id, ref=outcome.external_id)
    return Ingested(entry_id, outcome, None)


def ingest(
    db: Database,
    *,
    source: str,
    raw: bytes,
    remote_addr: str | None,
    settings: Settings,
    clock: Clock,
    refused: str | None = None,
) -> Ingested:
    """Store one callback and process it, in one durable commit.

    The log row goes in first, already marked processed, and the processing follows in
    the same transaction: one commit holds both, so the usual case costs no savepoint
    and no second write. If processing fails, that transaction is rolled back whole and
    the body is stored again in a new one, with the reason, for a re-run. Only when that
    second write fails too does the caller answer 503. (`IngestWriter` does the same for
    many callbacks per commit.)

    A `refused` callback (bad token, address not allowed) is kept, flagged, for a person
    to look at; it moves no money unless an admin re-runs it.
    """
    received = clock.now()
    failure = refused
    attempts = 0
    review = False
    external: str | None = None
    if failure is None:
        try:
            work = prepare(source, raw, settings, clock)
            external = work.external_id
            with db.write() as session:
                work.resolve(session)
                return store_processed(
                    session, source=source, raw=raw, remote_addr=remote_addr, work=work,
                    received=received,
                )  # fmt: skip
        except StorageUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure is recorded, never lost
            failure = describe(exc)
            # A lock timeout, deadlock or busy database is not the callback's fault: kept
            # as never attempted, the recovery loop runs it again within seconds.
            attempts = 0 if isinstance(exc, OperationalError) else 1
            review = isinstance(exc, NeedsReview)
            log.warning("webhook_processing_failed", source=source, error=failure)
    with db.write() as session:
        entry_id = store_failed(
            session, source=source, raw=raw, remote_addr=remote_addr, error=failure,
            received=received, attempts=attempts, flagged=review, external=external,
        )  # fmt: skip
    return Ingested(entry_id, None, failure)


def reprocess(db: Database, *, log_id: int, settings: Settings, clock: Clock) -> bool:
    """Re-run one logged callback; False when it was already processed.

    Safe to repeat and to race: the payment's unique TransID turns a second run into a
    duplicate, never a second credit.
    """
    with db.write() as session:
        entry = session.execute(
            select(WebhookLog).where(WebhookLog.id == log_id).with_for_update()
        ).scalar_one_or_none()
        if entry is None:
            raise WebhookLogNotFound(f"no webhook log {log_id}")
        if entry.processed:
            return False
        outcome, _ = _run(session, entry.id, entry.source, entry.raw_body, settings, clock)
        return outcome is not None


def rerun_flagged(
    db: Database, *, source: str, external_id: str, settings: Settings, clock: Clock
) -> list[int]:
    """Re-run callbacks kept for review under `external_id` (e.g. an STK callback that
    beat our record of its CheckoutRequestID); returns the ids processed now."""
    with db.read() as session:
        waiting = list(
            session.execute(
                select(WebhookLog.id).where(
                    WebhookLog.source == source,
                    WebhookLog.external_id == external_id,
                    WebhookLog.processed.is_(False),
                )
            ).scalars()
        )
    return [i for i in waiting if reprocess(db, log_id=i, settings=settings, clock=clock)]


def failed_log_ids(db: Database, *, include_flagged: bool = False) -> list[int]:
    with db.read() as session:
        query = select(WebhookLog.id).where(WebhookLog.processed.is_(False))
        if not include_flagged:
            query = query.where(WebhookLog.flagged.is_(False))
        return list(session.execute(query.order_by(WebhookLog.id)).scalars())


def recover_stranded(
    db: Database, *, settings: Settings, clock: Clock, older_than: timedelta, limit: int = 100
) -> int:
    """Process callbacks that were stored but never attempted: a process died between,
    or the first attempt met a transient database error (lock timeout, deadlock).

    Runs from the server every few seconds; several servers on one PostgreSQL skip each
    other's rows (`SKIP LOCKED`). Returns how many were processed.
    """
    cutoff: datetime = clock.now() - older_than
    done = 0
    with db.read() as session:
        candidates = list(
            session.execute(
                select(WebhookLog.id)
                .where(
                    WebhookLog.processed.is_(False),
                    WebhookLog.flagged.is_(False),
                    WebhookLog.attempts == 0,
                    WebhookLog.received_at < cutoff,
                )
                .order_by(WebhookLog.id)
                .limit(limit)
            ).scalars()
        )
    for log_id in candidates:
        with db.write() as session:
            entry = session.execute(
                select(WebhookLog)
                .where(WebhookLog.id == log_id, WebhookLog.attempts == 0)
                .with_for_update(skip_locked=True)
            ).scalar_one_or_none()
            if entry is None or entry.processed:
                continue
            outcome, _ = _run(session, entry.id, entry.source, entry.raw_body, settings, clock)
            done += outcome is not None
            log.info("webhook_recovered", source=entry.source, log_id=entry.id)
    return done
