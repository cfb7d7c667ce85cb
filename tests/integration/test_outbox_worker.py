"""The outbox worker runs each message as its own task: a slow one never holds back the
others or the next claim; leases, postponement and per-kind retry policies hold."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from pesadesk.core.retry import RetryPolicy
from pesadesk.db.models import OutboxMessage
from pesadesk.db.session import Database
from pesadesk.outbox import store
from pesadesk.outbox.worker import OutboxWorker, Postpone, current_message
from pesadesk.testing import FrozenClock


def _enqueue(db: Database, clock: FrozenClock, kind: str, *names: str) -> None:
    with db.write() as session:
        for name in names:
            store.enqueue(session, kind=kind, dedupe_key=f"{kind}:{name}",
                          payload={"name": name}, now=clock.now())  # fmt: skip


def _states(db: Database) -> dict[str, tuple[str, int]]:
    with db.read() as session:
        rows = session.execute(select(OutboxMessage)).scalars()
        return {row.dedupe_key: (row.status, row.attempts) for row in rows}


async def _until(check: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_a_slow_message_does_not_hold_back_the_others(db: Database, clock: FrozenClock) -> None:
    """One 3 s handler in flight; messages queued before and after it finish in well
    under a second, claimed while the slow one is still running."""
    finished: dict[str, float] = {}
    release = asyncio.Event()

    async def slow(payload: dict[str, Any]) -> None:
        await asyncio.wait_for(release.wait(), timeout=3)
        finished[payload["name"]] = time.monotonic()

    async def fast(payload: dict[str, Any]) -> None:
        finished[payload["name"]] = time.monotonic()

    worker = OutboxWorker(db, clock, {"slow": slow, "fast": fast}, batch_size=2)
    _enqueue(db, clock, "slow", "s1")
    _enqueue(db, clock, "fast", "f1", "f2", "f3")

    async def scenario() -> None:
        started = time.monotonic()
        runner = asyncio.create_task(worker.run_forever(interval=0.05))
        await _until(lambda: {"f1", "f2", "f3"} <= finished.keys())
        _enqueue(db, clock, "fast", "f4")  # queued while the slow one is in flight
        await _until(lambda: "f4" in finished)
        assert "s1" not in finished
        assert finished["f4"] - started < 1.5
        release.set()
        await _until(lambda: "s1" in finished)
        await _until(lambda: all(s == store.DONE for s, _ in _states(db).values()))
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)

    asyncio.run(scenario())


def test_concurrency_is_bounded(db: Database, clock: FrozenClock) -> None:
    """With 3 slots, never more than 3 handlers run at once, and all 10 messages finish."""
    running, peak = 0, 0

    async def handler(payload: dict[str, Any]) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1

    worker = OutboxWorker(db, clock, {"job": handler}, concurrency=3)
    _enqueue(db, clock, "job", *(f"m{i}" for i in range(10)))

    async def scenario() -> None:
        runner = asyncio.create_task(worker.run_forever(interval=0.02))
        await _until(lambda: all(s == store.DONE for s, _ in _states(db).values()))
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)

    asyncio.run(scenario())
    assert peak == 3


def test_a_message_cut_off_mid_send_is_taken_up_after_its_lease(
    db: Database, clock: FrozenClock
) -> None:
    """A worker stopped while a handler ran leaves the message `sending`; no one takes it
    before the lease ends, and another worker does after."""
    calls: list[int] = []

    async def hang(payload: dict[str, Any]) -> None:
        calls.append(current_message().attempts)
        if len(calls) == 1:
            await asyncio.sleep(30)

    first = OutboxWorker(db, clock, {"job": hang}, lease=timedelta(seconds=60))
    _enqueue(db, clock, "job", "m1")

    async def cut_off() -> None:
        runner = asyncio.create_task(first.run_forever(interval=0.02))
        await _until(lambda: calls)
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)

    asyncio.run(cut_off())
    assert _states(db)["job:m1"] == (store.SENDING, 1)
    second = OutboxWorker(db, clock, {"job": hang}, lease=timedelta(seconds=60))
    assert asyncio.run(second.run_once()) == 0
    clock.advance(seconds=61)
    assert asyncio.run(second.run_once()) == 1
    assert calls == [1, 2]
    assert _states(db)["job:m1"] == (store.DONE, 2)


def test_postponed_messages_come_back_without_using_an_attempt(
    db: Database, clock: FrozenClock
) -> None:
    """A handler that postpones puts the message back for later, attempts unchanged."""

    async def busy(payload: dict[str, Any]) -> None:
        raise Postpone(5)

    worker = OutboxWorker(db, clock, {"job": busy})
    _enqueue(db, clock, "job", "m1")
    assert asyncio.run(worker.run_once()) == 1
    assert _states(db)["job:m1"] == (store.PENDING, 0)
    assert asyncio.run(worker.run_once()) == 0  # not due for 5 s
    clock.advance(seconds=5)
    assert asyncio.run(worker.run_once()) == 1


def test_each_kind_keeps_its_own_retry_policy(db: Database, clock: FrozenClock) -> None:
    """A kind whose policy allows two attempts fails after two; the default allows more."""

    async def broken(payload: dict[str, Any]) -> None:
        raise RuntimeError("endpoint down")

    policy = RetryPolicy(base_seconds=1, cap_seconds=1, max_attempts=2)
    worker = OutboxWorker(db, clock, {"strict": broken, "lenient": broken},
                          max_attempts=5, base_delay_seconds=1, max_delay_seconds=1,
                          policies={"strict": policy})  # fmt: skip
    _enqueue(db, clock, "strict", "a")
    _enqueue(db, clock, "lenient", "b")
    for _ in range(3):
        asyncio.run(worker.run_once())
        clock.advance(seconds=2)
    states = _states(db)
    assert states["strict:a"] == (store.FAILED, 2)
    assert states["lenient:b"] == (store.PENDING, 3)
