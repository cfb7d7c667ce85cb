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
from pesadesk.pipeline.contract import BatchHandler, Context, Handler, Origin, Outcome, Plan
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
    log_id: int | None = None  # its webhook_logs row, once written (or stored before)

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


def _plan_all(session: Session, ready: list[_Ready]) -> None:
    """Each message's plan; a handler that takes batches plans all of its own at once."""
    by_handler: dict[int, list[_Ready]] = {}
    for item in ready:
        by_handler.setdefault(id(item.handler), []).append(item)
    for items in by_handler.values():
        handler = items[0].handler
        if len(items) > 1 and isinstance(handler, BatchHandler):
            plans = handler.plan_many(session, [item.message for item in items])
        else:
            plans = [handler.plan(session, item.message) for item in items]
        for item, plan in zip(items, plans, strict=True):
            item.plan = plan


def _runs(ready: list[_Ready]) -> list[list[_Ready]]:
    """The sorted messages cut into runs to apply: neighbours with one batch handler go
    together, anything else alone."""
    runs: list[list[_Ready]] = []
    for item in ready:
        last = runs[-1] if runs else None
        if (
            last is not None
            and last[0].handler is item.handler
            and isinstance(item.handler, BatchHandler)
        ):
            last.append(item)
        else:
            runs.append([item])
    return runs


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
            _plan_all(session, ready)
            ready.sort(key=lambda r: (r.plan.lock, r.external_id or "", r.job.log_id or 0))
            self._store_new(session, ready, now)
            for run in _runs(ready):
                for item, outcome in zip(run, self._apply(session, run), strict=True):
                    self._record(session, item, outcome, now)
                    results.append((item.job, Ingested(item.log_id or 0, outcome, None)))
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

    def _store_new(self, session: Session, ready: list[_Ready], now: Any) -> None:
        """The new messages' log rows, written first (in one statement on PostgreSQL)."""
        new = [item for item in ready if item.job.log_id is None]
        arrivals = [self._arrival(item.job, item.external_id, now) for item in new]
        for item, log_id in zip(new, logrows.insert_applied_many(session.connection(), arrivals),
                                strict=True):  # fmt: skip
            item.log_id = log_id
        for item in ready:
            if item.job.log_id is not None:
                item.log_id = item.job.log_id

    def _apply(self, session: Session, run: list[_Ready]) -> list[Outcome]:
        """Apply a run of messages for one handler: together when it can take a batch."""
        handler = run[0].handler
        contexts = [replace(self.ctx, proven=item.job.proven) for item in run]
        if len(run) > 1 and isinstance(handler, BatchHandler):
            batch = [
                (item.message, item.plan, ctx) for item, ctx in zip(run, contexts, strict=True)
            ]
            return handler.apply_many(session, batch)
        return [handler.apply(session, run[0].message, run[0].plan, contexts[0])]

    def _record(self, session: Session, item: _Ready, outcome: Outcome, now: Any) -> None:
        conn = session.connection()
        log_id = item.log_id or 0
        if item.job.log_id is None:
            logrows.mark(conn, log_id, outcome)
        else:
            logrows.applied_again(conn, log_id, outcome, now)
        if outcome.duplicate:
            log.info("webhook_duplicate", source=item.job.source, log_id=log_id,
                     ref=outcome.external_id)  # fmt: skip

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
