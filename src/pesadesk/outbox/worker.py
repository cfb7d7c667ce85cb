"""The outbox worker: claims due messages, runs their handlers in parallel, records the
result. Several workers on one PostgreSQL share the table with `FOR UPDATE SKIP LOCKED`;
on SQLite the single writer lock makes claiming exclusive anyway.

A claim is a lease: a worker that dies mid-send leaves its messages `sending` until the
lease runs out, and another worker takes them up. That is the one way a message can
go out twice (the send succeeded, the process died before recording it).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import or_, select, update

from pesadesk.core.clock import Clock
from pesadesk.core.retry import backoff
from pesadesk.db.models import OutboxMessage
from pesadesk.db.session import Database
from pesadesk.outbox.store import DONE, FAILED, PENDING, SENDING

log = structlog.get_logger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]
Periodic = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


class OutboxWorker:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        handlers: dict[str, Handler],
        *,
        batch_size: int = 20,
        lease: timedelta = timedelta(seconds=120),
        max_attempts: int = 10,
        base_delay_seconds: float = 2.0,
        max_delay_seconds: float = 600.0,
        periodic: Sequence[Periodic] = (),
    ) -> None:
        self.db = db
        self.clock = clock
        self.handlers = handlers
        self.batch_size = batch_size
        self.lease = lease
        self.max_attempts = max_attempts
        self.base_delay_seconds = base_delay_seconds
        self.max_delay_seconds = max_delay_seconds
        self.periodic = list(periodic)

    def claim(self) -> list[Claimed]:
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
                    .limit(self.batch_size)
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
                )
            ).all()
        return [Claimed(r.id, r.kind, json.loads(r.payload), r.attempts) for r in rows]

    def _record(self, message: Claimed, error: str | None) -> None:
        now = self.clock.now()
        values: dict[str, Any] = {"updated_at": now, "locked_until": None}
        if error is None:
            values.update(status=DONE, last_error=None)
        elif message.attempts >= self.max_attempts:
            values.update(status=FAILED, last_error=error)
            log.error("outbox_gave_up", kind=message.kind, id=message.id, error=error)
        else:
            delay = backoff(
                message.attempts,
                base_seconds=self.base_delay_seconds,
                cap_seconds=self.max_delay_seconds,
            )
            values.update(status=PENDING, last_error=error, next_attempt_at=now + delay)
            log.warning("outbox_retry", kind=message.kind, id=message.id, error=error)
        with self.db.write() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id, OutboxMessage.status == SENDING)
                .values(**values)
            )

    async def _handle(self, message: Claimed) -> None:
        handler = self.handlers.get(message.kind)
        error: str | None = None
        try:
            if handler is None:
                raise LookupError(f"no handler for outbox kind {message.kind!r}")
            await handler(message.payload)
        except Exception as exc:  # noqa: BLE001 - recorded and retried, never lost
            error = f"{type(exc).__name__}: {exc}"[:2000]
        await asyncio.to_thread(self._record, message, error)

    async def run_once(self) -> int:
        """One pass: the periodic sweeps, then one batch of messages, sent in parallel."""
        for task in self.periodic:
            try:
                await task()
            except Exception as exc:  # noqa: BLE001 - a sweep must not stop the worker
                log.warning("periodic_task_failed", task=getattr(task, "__name__", "?"),
                            error=f"{type(exc).__name__}: {exc}")  # fmt: skip
        claimed = await asyncio.to_thread(self.claim)
        await asyncio.gather(*(self._handle(message) for message in claimed))
        return len(claimed)

    async def run_forever(self, *, interval: float = 1.0) -> None:
        while True:
            try:
                busy = await self.run_once()
            except Exception as exc:  # noqa: BLE001 - e.g. the database restarting
                log.warning("outbox_pass_failed", error=type(exc).__name__)
                busy = 0
            if busy < self.batch_size:
                await asyncio.sleep(interval)
