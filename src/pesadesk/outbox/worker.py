"""The outbox worker: claims due messages, runs each as its own task, records the result.
Several workers on one PostgreSQL share the table with `FOR UPDATE SKIP LOCKED`; on
SQLite the single writer lock makes claiming exclusive anyway.

Each claimed message runs in its own task, at most `concurrency` at once, and claiming
goes on while slow ones are in flight: a webhook endpoint that takes 10 s to answer
holds one slot for 10 s, never the whole queue. The periodic sweeps run in a loop of
their own, so a slow sweep does not hold messages back either.

A claim is a lease: a worker that dies mid-send leaves its messages `sending` until the
lease runs out, and another worker takes them up. That is the one way a message can
go out twice (the send succeeded, the process died before recording it).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from pesadesk.core.clock import Clock
from pesadesk.core.retry import RetryPolicy
from pesadesk.db.models import OutboxMessage
from pesadesk.db.session import Database
from pesadesk.outbox.store import DONE, FAILED, PENDING, SENDING

log = structlog.get_logger(__name__)

# What a handler may hand back: work to do in the transaction that records the message
# (e.g. a delivery log row), returning None when the message is done or the reason it
# is not (then it is retried by its kind's policy, like a raised error).
Finish = Callable[[Session], str | None]
Handler = Callable[[dict[str, Any]], Awaitable[Finish | None]]
Periodic = Callable[[], Awaitable[Any]]
RECORD_BATCH = 200


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class Result:
    message: Claimed
    error: BaseException | None
    finish: Finish | None


class Unfinished(Exception):
    """Raised (recorded) when a handler's finish said the message is not done."""


class Postpone(Exception):
    """Raised by a handler that cannot run the message now (e.g. its endpoint already has
    enough requests in flight): it goes back to the queue without counting an attempt."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"postponed {seconds} s")
        self.seconds = seconds


_current: contextvars.ContextVar[Claimed] = contextvars.ContextVar("outbox_message")


def current_message() -> Claimed:
    """The message the running handler was called for (each task has its own)."""
    return _current.get()


class OutboxWorker:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        handlers: dict[str, Handler],
        *,
        batch_size: int = 20,
        concurrency: int = 32,
        lease: timedelta = timedelta(seconds=120),
        max_attempts: int = 10,
        base_delay_seconds: float = 2.0,
        max_delay_seconds: float = 600.0,
        policies: Mapping[str, RetryPolicy] | None = None,
        periodic: Sequence[Periodic] = (),
    ) -> None:
        self.db = db
        self.clock = clock
        self.handlers = handlers
        self.batch_size = batch_size
        self.concurrency = max(1, concurrency)
        self.lease = lease
        self.default_policy = RetryPolicy(base_delay_seconds, max_delay_seconds, max_attempts)
        self.policies = dict(policies or {})
        self.periodic = list(periodic)
        self._inflight: set[asyncio.Task[None]] = set()

    def policy(self, kind: str) -> RetryPolicy:
        return self.policies.get(kind, self.default_policy)

    def claim(self, limit: int | None = None) -> list[Claimed]:
        now = self.clock.now()
        due = or_(
            (OutboxMessage.status == PENDING) & (OutboxMessage.next_attempt_at <= now),
            (OutboxMessage.status == SENDING) & (OutboxMessage.locked_until < now),
        )
        with self.db.write() as session:
            ids = list(
                session.execute(
                    select(OutboxMessage.id)
                    .where(due)
                    .order_by(OutboxMessage.id)
                    .limit(limit if limit is not None else self.batch_size)
                    .with_for_update(skip_locked=True)
                ).scalars()
            )
            if not ids:
                return []
            rows = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(
                    status=SENDING,
                    locked_until=now + self.lease,
                    attempts=OutboxMessage.attempts + 1,
                    updated_at=now,
                )
                .returning(
                    OutboxMessage.id,
                    OutboxMessage.kind,
                    OutboxMessage.payload,
                    OutboxMessage.attempts,
                    OutboxMessage.created_at,
                )
            ).all()
        return [
            Claimed(r.id, r.kind, json.loads(r.payload), r.attempts, r.created_at) for r in rows
        ]

    def _values(self, message: Claimed, error: BaseException | None) -> dict[str, Any]:
        now = self.clock.now()
        values: dict[str, Any] = {"updated_at": now, "locked_until": None}
        if error is None:
            values.update(status=DONE, last_error=None)
            return values
        if isinstance(error, Postpone):
            values.update(status=PENDING, attempts=message.attempts - 1,
                          next_attempt_at=now + timedelta(seconds=error.seconds))  # fmt: skip
            return values
        text = f"{type(error).__name__}: {error}"[:2000]
        policy = self.policy(message.kind)
        if policy.gives_up(message.attempts, now - message.created_at):
            values.update(status=FAILED, last_error=text)
            log.error("outbox_gave_up", kind=message.kind, id=message.id, error=text)
        else:
            delay = policy.delay(message.attempts)
            values.update(status=PENDING, last_error=text, next_attempt_at=now + delay)
            log.warning("outbox_retry", kind=message.kind, id=message.id, error=text)
        return values

    def record(self, results: Sequence[Result]) -> None:
        """Record finished messages, many in one transaction (one commit, one fsync, for a
        whole burst); each handler's `finish` runs in it. Should that transaction fail,
        each message is recorded alone, so one bad result cannot hold back the others."""
        if not results:
            return
        try:
            with self.db.write() as session:
                for result in results:
                    self._record_one(session, result)
        except Exception as exc:  # noqa: BLE001 - fall back to one transaction each
            log.warning("outbox_record_batch_failed", error=type(exc).__name__, size=len(results))
            for result in results:
                self._record_alone(result)

    def _record_alone(self, result: Result) -> None:
        try:
            with self.db.write() as session:
                self._record_one(session, result)
        except Exception as exc:  # noqa: BLE001 - record the failure without the finish
            failed = Result(result.message, exc, None)
            with self.db.write() as session:
                self._record_one(session, failed)

    def _record_one(self, session: Session, result: Result) -> None:
        error = result.error
        if result.finish is not None and error is None:
            verdict = result.finish(session)
            if verdict is not None:
                error = Unfinished(verdict)
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == result.message.id, OutboxMessage.status == SENDING)
            .values(**self._values(result.message, error))
        )

    async def _run(self, message: Claimed) -> Result:
        handler = self.handlers.get(message.kind)
        _current.set(message)
        try:
            if handler is None:
                raise LookupError(f"no handler for outbox kind {message.kind!r}")
            return Result(message, None, await handler(message.payload))
        except Exception as exc:  # noqa: BLE001 - recorded and retried, never lost
            return Result(message, exc, None)

    async def sweep(self) -> None:
        """The periodic jobs, one after another; a failing one does not stop the rest."""
        for task in self.periodic:
            try:
                await task()
            except Exception as exc:  # noqa: BLE001 - a sweep must not stop the worker
                log.warning("periodic_task_failed", task=getattr(task, "__name__", "?"),
                            error=f"{type(exc).__name__}: {exc}")  # fmt: skip

    async def run_once(self, *, sweep: bool = True) -> int:
        """One pass: the periodic sweeps (unless `sweep` is False), then one batch of
        messages, all awaited."""
        if sweep:
            await self.sweep()
        claimed = await asyncio.to_thread(self.claim)
        results = await asyncio.gather(*(self._run(message) for message in claimed))
        await asyncio.to_thread(self.record, results)
        return len(claimed)

    def _start(self, message: Claimed, finished: asyncio.Queue[Result]) -> None:
        async def run() -> None:
            finished.put_nowait(await self._run(message))

        task = asyncio.create_task(run(), name=f"outbox-{message.id}")
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _record_forever(self, finished: asyncio.Queue[Result]) -> None:
        """Record results as they come, all that are waiting in one go."""
        while True:
            batch = [await finished.get()]
            while not finished.empty() and len(batch) < RECORD_BATCH:
                batch.append(finished.get_nowait())
            try:
                await asyncio.to_thread(self.record, batch)
            except Exception as exc:  # noqa: BLE001 - their leases run out; tried again
                log.warning("outbox_record_failed", error=type(exc).__name__, size=len(batch))

    async def _claim_more(self, finished: asyncio.Queue[Result]) -> int:
        """Claims as many due messages as there are free slots (at most a batch) and starts
        each; returns how many it asked for that it did not get (0: the queue may hold more)."""
        room = min(self.batch_size, self.concurrency - len(self._inflight))
        if room <= 0:
            return -1
        claimed = await asyncio.to_thread(self.claim, room)
        for message in claimed:
            self._start(message, finished)
        return room - len(claimed)

    async def _sweep_forever(self, interval: float) -> None:
        while True:
            await self.sweep()
            await asyncio.sleep(interval)

    async def run_forever(self, *, interval: float = 1.0) -> None:
        """Claim and run messages until cancelled; in-flight ones are cancelled with it
        (their leases run out and they are taken up again), finished ones recorded."""
        finished: asyncio.Queue[Result] = asyncio.Queue()
        sweeps = asyncio.create_task(self._sweep_forever(interval), name="outbox-sweeps")
        recorder = asyncio.create_task(self._record_forever(finished), name="outbox-recorder")
        try:
            while True:
                try:
                    short = await self._claim_more(finished)
                except Exception as exc:  # noqa: BLE001 - e.g. the database restarting
                    log.warning("outbox_pass_failed", error=type(exc).__name__)
                    short = 1
                if short < 0:  # every slot busy: wait for one to free up
                    await asyncio.wait(
                        set(self._inflight), timeout=interval, return_when=asyncio.FIRST_COMPLETED
                    )
                elif short > 0:  # the queue is drained for now
                    await asyncio.sleep(interval)
        finally:
            for task in (sweeps, *self._inflight):
                task.cancel()
            await asyncio.gather(sweeps, *self._inflight, return_exceptions=True)
            recorder.cancel()
            await asyncio.gather(recorder, return_exceptions=True)
            left = [finished.get_nowait() for _ in range(finished.qsize())]
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.record, left)
