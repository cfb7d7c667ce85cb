"""Group commit for callbacks: writer threads take whatever callbacks are waiting and
store and process them in one transaction, one commit (one fsync) for all of them.

Each callback still gets its answer only after that commit. Work in a batch is applied
in lock-key order (see `webhooks.Work.resolve`), so concurrent batches on PostgreSQL
take customer locks in the same order. If anything goes wrong inside a batch, the
batch is rolled back whole and each callback is redone on its own (`webhooks.ingest`),
so one bad callback never costs another one its place.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

import structlog

from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.core.errors import StorageUnavailable
from pesadesk.db.session import Database
from pesadesk.pipeline import ingest as webhooks

log = structlog.get_logger(__name__)


@dataclass
class Job:
    source: str
    raw: bytes
    remote_addr: str | None
    refused: str | None
    future: Future[webhooks.Ingested] = field(default_factory=Future)


class IngestWriter:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        *,
        threads: int | None = None,
        max_batch: int = 64,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.max_batch = max_batch
        self.count = threads or (1 if db.is_sqlite else 4)  # SQLite has one writer anyway
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for n in range(self.count):
            thread = threading.Thread(target=self._loop, name=f"ingest-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        """Finish what is queued, then stop."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()

    def submit(
        self, *, source: str, raw: bytes, remote_addr: str | None, refused: str | None
    ) -> Future[webhooks.Ingested]:
        job = Job(source, raw, remote_addr, refused)
        self._queue.put(job)
        return job.future

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._run(batch)
            if stop:
                return

    def _run(self, jobs: list[Job]) -> None:
        received = self.clock.now()
        ready: list[tuple[Job, webhooks.Work]] = []
        failed: list[tuple[Job, str, int]] = []
        for job in jobs:
            if job.refused is not None:
                failed.append((job, job.refused, 0))
                continue
            try:
                ready.append(
                    (job, webhooks.prepare(job.source, job.raw, self.settings, self.clock))
                )
            except Exception as exc:  # noqa: BLE001 - malformed input is kept with its reason
                failed.append((job, webhooks.describe(exc), 1))
        results: list[tuple[Job, webhooks.Ingested]] = []
        try:
            with self.db.write() as session:
                keyed = sorted(
                    ((work.resolve(session), n, job, work) for n, (job, work) in enumerate(ready)),
                    key=lambda item: (item[0], item[3].external_id or "", item[1]),
                )  # by lock, then by M-Pesa id: concurrent batches take locks in one order
                for _, _, job, work in keyed:
                    results.append((job, webhooks.store_processed(
                        session, source=job.source, raw=job.raw, remote_addr=job.remote_addr,
                        work=work, received=received,
                    )))  # fmt: skip
                for job, error, attempts in failed:
                    entry_id = webhooks.store_failed(
                        session, source=job.source, raw=job.raw, remote_addr=job.remote_addr,
                        error=error, received=received, attempts=attempts,
                    )  # fmt: skip
                    results.append((job, webhooks.Ingested(entry_id, None, error)))
        except StorageUnavailable as exc:
            for job in jobs:
                job.future.set_exception(exc)
            return
        except Exception as exc:  # noqa: BLE001 - redo one by one; each gets its own answer
            log.warning("ingest_batch_redone", size=len(jobs), error=webhooks.describe(exc))
            for job in jobs:
                self._one(job)
            return
        for job, result in results:
            job.future.set_result(result)

    def _one(self, job: Job) -> None:
        try:
            job.future.set_result(
                webhooks.ingest(
                    self.db,
                    source=job.source,
                    raw=job.raw,
                    remote_addr=job.remote_addr,
                    settings=self.settings,
                    clock=self.clock,
                    refused=job.refused,
                )
            )
        except Exception as exc:  # noqa: BLE001 - handed to the waiting request
            job.future.set_exception(exc)
