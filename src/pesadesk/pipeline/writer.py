"""Group commit: writer threads take whatever messages are waiting and hand them to the
pipeline as one batch, one transaction, one commit (one fsync) for all of them.

Each message still gets its answer only after that commit. SQLite has one writer anyway,
so it gets one thread; PostgreSQL gets a few, whose batches take customer locks in one
order (the pipeline sorts each batch) and so cannot deadlock.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

from pesadesk.pipeline.run import Ingested, Job, Pipeline


class IngestWriter:
    def __init__(self, pipeline: Pipeline, *, threads: int | None = None, max_batch: int = 64):
        self.pipeline = pipeline
        self.max_batch = max_batch
        self.count = threads or (1 if pipeline.db.is_sqlite else 4)
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

    def submit(self, job: Job) -> Future[Ingested]:
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
            self.pipeline.run(batch)
            if stop:
                return
