"""Stored messages run again through the pipeline: a person's re-run, the callbacks an
STK push's late answer was waiting for, and the recovery pass that needs no person.

Safe to repeat and to race: the payment's unique TransID (or the payment's single
status change) turns a second run into a duplicate, never a second credit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import or_, select

from pesadesk.core.errors import WebhookLogNotFound
from pesadesk.db.models import WebhookLog
from pesadesk.db.session import Database
from pesadesk.pipeline.contract import Origin
from pesadesk.pipeline.failures import MAX_TRANSIENT_ATTEMPTS, TRANSIENT
from pesadesk.pipeline.run import Ingested, Job, Pipeline

log = structlog.get_logger(__name__)


def _job(entry: WebhookLog, *, wait: bool, by_person: bool = False) -> Job:
    """A stored message as a job; a person's re-run vouches for its origin (that is how a
    refused callback is let through), the recovery pass keeps what arrival proved."""
    return Job(
        source=entry.source, raw=entry.raw_body, remote_addr=entry.remote_addr,
        origin=Origin(entry.origin), proven=by_person or entry.proven, log_id=entry.id,
        wait_for_lock=wait,
    )  # fmt: skip


def reprocess(pipeline: Pipeline, *, log_id: int, by_person: bool = True) -> Ingested:
    """Run one stored message again; its outcome is None when it was processed already
    (or fails again: then `error` says why)."""
    with pipeline.db.read() as session:
        entry = session.get(WebhookLog, log_id)
        if entry is None:
            raise WebhookLogNotFound(f"no webhook log {log_id}")
        job = _job(entry, wait=True, by_person=by_person)
    return pipeline.run_one(job)


def rerun_flagged(pipeline: Pipeline, *, source: str, external_id: str) -> list[int]:
    """Run again the messages kept for review under `external_id` (an STK callback that
    beat our record of its CheckoutRequestID); returns the ids applied now."""
    with pipeline.db.read() as session:
        waiting = list(
            session.execute(
                select(WebhookLog.id).where(
                    WebhookLog.source == source,
                    WebhookLog.external_id == external_id,
                    WebhookLog.processed.is_(False),
                )
            ).scalars()
        )
    done = [reprocess(pipeline, log_id=i, by_person=False) for i in waiting]
    return [r.log_id for r in done if r.outcome is not None]


def failed_log_ids(db: Database, *, include_flagged: bool = False) -> list[int]:
    with db.read() as session:
        query = select(WebhookLog.id).where(WebhookLog.processed.is_(False))
        if not include_flagged:
            query = query.where(WebhookLog.flagged.is_(False))
        return list(session.execute(query.order_by(WebhookLog.id)).scalars())


def _due(db: Database, now: datetime, cutoff: datetime, limit: int) -> list[WebhookLog]:
    """Stored but never attempted (a process died in between), or a transient failure
    whose retry time has come."""
    with db.read() as session:
        return list(
            session.execute(
                select(WebhookLog)
                .where(
                    WebhookLog.processed.is_(False),
                    WebhookLog.flagged.is_(False),
                    or_(
                        (WebhookLog.attempts == 0) & (WebhookLog.received_at < cutoff),
                        (WebhookLog.error_kind == TRANSIENT)
                        & (WebhookLog.attempts < MAX_TRANSIENT_ATTEMPTS)
                        & (WebhookLog.next_attempt_at <= now),
                    ),
                )
                .order_by(WebhookLog.id)
                .limit(limit)
            ).scalars()
        )


def recover_stranded(pipeline: Pipeline, *, older_than: timedelta, limit: int = 100) -> int:
    """The recovery pass, every few seconds from each server; several servers on one
    PostgreSQL skip each other's rows. Returns how many were applied."""
    now = pipeline.ctx.clock.now()
    done = 0
    for entry in _due(pipeline.db, now, now - older_than, limit):
        result = pipeline.run_one(_job(entry, wait=False))
        if result.outcome is not None:
            done += 1
            log.info("webhook_recovered", source=entry.source, log_id=entry.id)
    return done
