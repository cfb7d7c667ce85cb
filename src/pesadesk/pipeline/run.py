"""The one path from a message to the ledger.

    parse (no database) -> plan (reads, lock order) -> log row -> handler -> events

A batch is one transaction and one commit; a message alone is a batch of one. New
messages get their log row written first, already marked processed, and the handler's
writes follow in the same transaction; a stored message being run again (a re-run, the
recovery pass) has its row locked and updated instead. If anything fails inside a batch,
it is rolled back whole and each message is redone alone; a message that fails alone is
stored (or its row updated) with the reason in a transaction of its own. Only when that
write fails too does the caller hear `StorageUnavailable` (and answer 503).
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

import structlog
from sqlalchemy.orm import Session

from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.core.errors import DatabaseBusy, StorageUnavailable
from pesadesk.core.events import Event
from pesadesk.core.statuses import WebhookSource
from pesadesk.db.session import Database
from pesadesk.events.publish import publish
from pesadesk.pipeline import logrows
from pesadesk.pipeline.contract import Context, Handler, Origin, Outcome, Plan
from pesadesk.pipeline.failures import Failure, classify, refused
from pesadesk.pipeline.parse import parse
from pesadesk.pipeline.registry import HANDLERS

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Ingested:
    """What became of one message: its log row, and the outcome or the error."""

    log_id: int
    outcome: Outcome | None
    error: str | None


@dataclass
class Job:
    """One message for the pipeline; `log_id` when it is stored already (a re-run)."""

    source: str
    raw: bytes
    remote_addr: str | None = None
    refused: str | None = None
    origin: Origin = Origin.CALLBACK
    proven: bool = True
    log_id: int | None = None
    wait_for_lock: bool = True
    future: Future[Ingested] = field(default_factory=Future)


@dataclass
class _Ready:
    job: Job
    message: Any
    handler: Handler[Any]
    plan: Plan = field(default_factory=Plan)

    @property
    def external_id(self) -> str | None:
        return self.handler.external_id(self.message)


def _prepare(job: Job) -> _Ready | Failure:
    """Parse outside the transaction; a bad message fails here, before any database work."""
    if job.refused is not None:
        return refused(job.refused)
    try:
        source = WebhookSource(job.source)
        message = parse(source, Origin(job.origin), job.raw)
        return _Ready(job, message, HANDLERS[source])
    except Exception as exc:  # noqa: BLE001 - malformed input is kept with its reason
        return classify(exc)


class Pipeline:
    def __init__(self, db: Database, settings: Settings, clock: Clock) -> None:
        self.db = db
        self.ctx = Context(settings, clock)

    def run_one(self, job: Job) -> Ingested:
        self.run([job])
        return job.future.result()

    def run(self, jobs: list[Job]) -> None:
        """Apply `jobs` in one transaction; each job's future gets its own answer."""
        prepared = [(job, _prepare(job)) for job in jobs]
        try:
            results = self._commit(prepared)
        except Exception as exc:  # noqa: BLE001 - redo one by one; each gets its own answer
            if isinstance(exc, StorageUnavailable) and not isinstance(exc, DatabaseBusy):
                for job in jobs:
                    job.future.set_exception(exc)
            elif len(jobs) > 1:
                log.warning("ingest_batch_redone", size=len(jobs), error=type(exc).__name__)
                for job in jobs:
                    self.run([job])
            else:
                self._fail_alone(prepared[0], classify(exc))
            return
        for job, result in results:
            job.future.set_result(result)

    def _commit(self, prepared: list[tuple[Job, _Ready | Failure]]) -> list[tuple[Job, Ingested]]:
        now = self.ctx.clock.now()
        results: list[tuple[Job, Ingested]] = []
        events: list[Event] = []
        with self.db.write() as session:
            ready = self._claim(session, prepared, results)
            for item in ready:
                item.plan = item.handler.plan(session, item.message)
            ready.sort(key=lambda r: (r.plan.lock, r.external_id or "", r.job.log_id or 0))
            for item in ready:
                log_id, outcome = self._apply(session, item, now)
                results.append((item.job, Ingested(log_id, outcome, None)))
                events.extend(outcome.events)
            for job, failure in prepared:
                if isinstance(failure, Failure) and job.log_id is None:
                    log_id = logrows.insert_failed(
                        session.connection(), self._arrival(job, None, now), failure,
                        attempts=0 if job.refused else 1, now=now,
                    )  # fmt: skip
                    results.append((job, Ingested(log_id, None, failure.error)))
            publish(session, events, settings=self.ctx.settings, now=now)
        return results

    def _claim(
        self, session: Session, prepared: list[tuple[Job, _Ready | Failure]],
        results: list[tuple[Job, Ingested]],
    ) -> list[_Ready]:  # fmt: skip
        """The messages to apply now: new ones, and stored ones still unprocessed (their
        rows locked). A stored one that fails to parse again is written off here."""
        ready: list[_Ready] = []
        for job, item in prepared:
            if job.log_id is None:
                if isinstance(item, _Ready):
                    ready.append(item)
                continue
            row = logrows.lock(session, job.log_id, skip_locked=not job.wait_for_lock)
            if row is None or row.processed:
                results.append((job, Ingested(job.log_id, None, None)))
            elif isinstance(item, _Ready):
                ready.append(item)
            else:
                logrows.failed_again(session.connection(), job.log_id, item,
                                     attempts=row.attempts + 1, now=self.ctx.clock.now(),
                                     external_id=None)  # fmt: skip
                results.append((job, Ingested(job.log_id, None, item.error)))
        return ready

    def _apply(self, session: Session, item: _Ready, now: Any) -> tuple[int, Outcome]:
        conn = session.connection()
        job = item.job
        log_id = job.log_id
        if log_id is None:
            log_id = logrows.insert_applied(conn, self._arrival(job, item.external_id, now))
        ctx = replace(self.ctx, proven=job.proven)
        outcome = item.handler.apply(session, item.message, item.plan, ctx)
        if job.log_id is None:
            logrows.mark(conn, log_id, outcome)
        else:
            logrows.applied_again(conn, log_id, outcome, now)
        if outcome.duplicate:
            log.info("webhook_duplicate", source=job.source, log_id=log_id,
                     ref=outcome.external_id)  # fmt: skip
        return log_id, outcome

    def _arrival(self, job: Job, external_id: str | None, now: Any) -> logrows.Arrival:
        return logrows.Arrival(
            source=job.source, origin=str(job.origin), raw=job.raw,
            remote_addr=job.remote_addr, received=now, external_id=external_id,
            proven=job.proven and job.refused is None,
        )  # fmt: skip

    def _fail_alone(self, prepared: tuple[Job, _Ready | Failure], failure: Failure) -> None:
        """Keep a message that failed on its own, with the reason, in a new transaction."""
        job, item = prepared
        external = item.external_id if isinstance(item, _Ready) else None
        log.warning("webhook_processing_failed", source=job.source, kind=failure.kind,
                    error=failure.error)  # fmt: skip
        now = self.ctx.clock.now()
        try:
            with self.db.write() as session:
                conn = session.connection()
                if job.log_id is None:
                    log_id = logrows.insert_failed(
                        conn, self._arrival(job, external, now), failure, attempts=1, now=now
                    )
                else:
                    log_id = job.log_id
                    row = logrows.lock(session, log_id, skip_locked=False)
                    attempts = (row.attempts if row else 0) + 1
                    logrows.failed_again(conn, log_id, failure, attempts=attempts, now=now,
                                         external_id=external)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - the caller answers 503 on this
            log.error("webhook_not_stored", source=job.source, error=type(exc).__name__)
            job.future.set_exception(
                exc
                if isinstance(exc, StorageUnavailable)
                else StorageUnavailable("could not store the callback")
            )
            return
        job.future.set_result(Ingested(log_id, None, failure.error))
