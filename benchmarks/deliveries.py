"""Signed webhook delivery throughput from the outbox (CONTRACT §10).

A database is seeded with N `payment.completed` events fanned out to K endpoints (the
same INSERT ... SELECT a callback runs), then pesadesk's `OutboxWorker` with its
`WebhookSender` delivers them (sign, POST, log the try, record the result) to a receiver
in its own uvicorn process on loopback, which answers 204. The figure is deliveries per
second from the first claim to the last record, checked against the receiver's count
and the attempts log: every (event, endpoint) delivered exactly once.

`--slow` adds an endpoint whose receiver takes 10 s to answer (the sender's limit), to
show the fast endpoints' rate with a slow one in the queue.

    .venv/bin/python -m benchmarks.deliveries [--backend sqlite|postgres|both]
        [--events 2000] [--endpoints 1] [--concurrency 32] [--slow] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.common import fresh_database, postgres_reachable

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG_URL = os.environ.get("PESADESK_TEST_PG_URL", "postgresql://postgres@127.0.0.1/test")


# --------------------------------------------------------------------------- the receiver


def serve_receiver(port: int, delay: float) -> None:
    """The receiver process: counts POSTs per webhook-id, answers 204 (after `delay`)."""
    import uvicorn

    seen: dict[str, int] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            more = bool(message.get("more_body", False))
        if scope["method"] == "POST":
            if delay:
                await asyncio.sleep(delay)
            hook_id = dict(scope["headers"]).get(b"webhook-id", b"").decode()
            seen[hook_id] = seen.get(hook_id, 0) + 1
            body, status = b"", 204
        else:
            body, status = json.dumps({"posts": sum(seen.values()), "ids": len(seen)}).encode(), 200
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextlib.contextmanager
def receiver(delay: float = 0.0) -> Iterator[str]:
    from pesadesk.testing import free_port

    port = free_port()
    command = [sys.executable, "-m", "benchmarks.deliveries", "--receiver", str(port)]
    command += ["--delay", str(delay)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while _counts(f"http://127.0.0.1:{port}") is None:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the receiver did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


def _counts(base: str) -> dict[str, int] | None:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=2)
    try:
        conn.request("GET", "/")
        counts: dict[str, int] = json.loads(conn.getresponse().read())
        return counts
    except OSError:
        return None
    finally:
        conn.close()


# --------------------------------------------------------------------------- the run


def seed(url: str, events: int, targets: list[str]) -> list[int]:
    """Migrate; endpoints for `targets`; `events` events fanned out to them."""
    from pesadesk.config import Settings
    from pesadesk.core.clock import SystemClock
    from pesadesk.core.events import PaymentCompleted
    from pesadesk.core.statuses import Role
    from pesadesk.db.migrate import upgrade
    from pesadesk.db.models import Event
    from pesadesk.db.session import Database
    from pesadesk.events import endpoints
    from pesadesk.events.fanout import webhook_deliveries
    from pesadesk.events.publish import new_event_id
    from pesadesk.events.types import Published
    from pesadesk.shared.apikeys import Principal

    db, clock = Database(url), SystemClock()
    who = Principal(name="bench", role=Role.ADMIN, key_id=None, owner="bench")
    payment = {"id": "PAY-C2B-BENCH", "amount": 100.0, "status": "completed",
               "receipt": "BENCH00001", "phone": "254722000000", "source": "c2b"}  # fmt: skip
    data = json.dumps(payment)
    try:
        upgrade(db)
        ids = [endpoints.create(db, url=t, events=["*"], actor=who, clock=clock)["id"]
               for t in targets]  # fmt: skip
        for start in range(0, events, 200):
            with db.write() as session:
                now = clock.now()
                batch = [Event(event_id=new_event_id(), type="payment.completed",
                               subject=f"PAY-{start + i}", data=data, created_at=now)
                         for i in range(min(200, events - start))]  # fmt: skip
                session.add_all(batch)
                session.flush()
                published = [Published(PaymentCompleted(e.subject), e.event_id, {}, None)
                             for e in batch]  # fmt: skip
                webhook_deliveries(session, published, Settings(database_url=url), now)
        return ids
    finally:
        db.dispose()


async def deliver(url: str, concurrency: int, fast: int, limit: float) -> tuple[float, int]:
    """Run the worker until `fast` deliveries are recorded done; (seconds, done)."""
    from sqlalchemy import func, select

    from pesadesk.config import Settings
    from pesadesk.core.clock import SystemClock
    from pesadesk.core.retry import WEBHOOK_RETRY
    from pesadesk.db.models import OutboxMessage
    from pesadesk.db.session import Database
    from pesadesk.events.delivery import WebhookSender
    from pesadesk.events.fanout import WEBHOOK_DELIVERY
    from pesadesk.outbox.worker import OutboxWorker

    db, clock = Database(url), SystemClock()
    sender = WebhookSender(db, Settings(database_url=url), clock)
    worker = OutboxWorker(db, clock, {WEBHOOK_DELIVERY: sender}, concurrency=concurrency,
                          batch_size=50, policies={WEBHOOK_DELIVERY: WEBHOOK_RETRY})  # fmt: skip

    def done() -> int:
        with db.read() as session:
            query = select(func.count()).where(OutboxMessage.status == "done")
            return int(session.execute(query).scalar_one())

    started = time.perf_counter()
    runner = asyncio.create_task(worker.run_forever(interval=0.05))
    finished = 0
    try:
        while finished < fast and time.perf_counter() - started < limit:
            await asyncio.sleep(0.1)
            finished = await asyncio.to_thread(done)
        return time.perf_counter() - started, finished
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await sender.aclose()
        db.dispose()


def attempts_ok(url: str) -> tuple[int, int]:
    """(successful tries, distinct event-endpoint pairs among them) in the log."""
    from sqlalchemy import distinct, func, select, tuple_

    from pesadesk.db.models.webhooks import WebhookAttempt
    from pesadesk.db.session import Database

    db = Database(url)
    try:
        with db.read() as session:
            ok = WebhookAttempt.succeeded.is_(True)
            tries = session.execute(select(func.count()).where(ok)).scalar_one()
            pair = tuple_(WebhookAttempt.event_id, WebhookAttempt.endpoint_id)
            if db.is_sqlite:
                pairs = len(set(session.execute(
                    select(WebhookAttempt.event_id, WebhookAttempt.endpoint_id).where(ok)
                ).all()))  # fmt: skip
            else:
                pairs = session.execute(select(func.count(distinct(pair))).where(ok)).scalar_one()
            return int(tries), int(pairs)
    finally:
        db.dispose()


def run(backend: str, args: argparse.Namespace) -> list[str]:
    problems: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="pesadesk-deliveries-") as tmp,
        fresh_database(backend, Path(tmp), "deliveries", args.pg_url) as url,
        receiver() as fast_url,
        receiver(delay=10.0) as slow_url,
    ):
        targets = [f"{fast_url}/hooks/{n}" for n in range(args.endpoints)]
        if args.slow:
            targets.append(f"{slow_url}/hooks/slow")
        seed(url, args.events, targets)
        expected = args.events * args.endpoints
        seconds, done = asyncio.run(deliver(url, args.concurrency, expected, limit=300))
        counts = _counts(fast_url) or {}
        tries, pairs = attempts_ok(url)
    rate = done / seconds if seconds else float("nan")
    slow = " (+ one 10 s endpoint in the queue)" if args.slow else ""
    print(f"  {backend:<9}{expected:>7} deliveries to {args.endpoints} endpoint(s){slow}: "
          f"{done} in {seconds:.2f} s = {rate:,.0f} deliveries/s")  # fmt: skip
    if done < expected:
        problems.append(f"{backend}: only {done} of {expected} delivered within 300 s")
    if counts.get("posts") != expected or counts.get("ids") != args.events:
        problems.append(f"{backend}: receiver counted {counts}, expected {expected} posts")
    if tries != expected or pairs != expected:
        problems.append(f"{backend}: log has {tries} successful tries for {pairs} pairs")
    return problems


def fanout_cost(backend: str, args: argparse.Namespace) -> None:
    """Time of the fan-out statement a callback's transaction runs for its events (two, as
    a payment placed on an invoice has), with no endpoint and with `--endpoints`."""
    from pesadesk.config import Settings
    from pesadesk.core.clock import SystemClock
    from pesadesk.core.events import PaymentCompleted
    from pesadesk.db.migrate import upgrade
    from pesadesk.db.models import Event
    from pesadesk.db.session import Database
    from pesadesk.events.fanout import webhook_deliveries
    from pesadesk.events.publish import new_event_id
    from pesadesk.events.types import Published

    rounds = 500
    with (
        tempfile.TemporaryDirectory(prefix="pesadesk-fanout-") as tmp,
        fresh_database(backend, Path(tmp), "fanout", args.pg_url) as url,
    ):
        seed(url, 0, [f"http://127.0.0.1:9/hooks/{n}" for n in range(args.endpoints)])
        db, clock, settings = Database(url), SystemClock(), Settings(database_url=url)
        upgrade(db)
        timings = {}
        for label, enabled in (("no endpoint", False), (f"{args.endpoints} endpoint(s)", True)):
            with db.write() as session:
                session.execute(text_update(enabled))
            spent = 0.0
            for _ in range(rounds):
                with db.write() as session:
                    now = clock.now()
                    rows = [
                        Event(event_id=new_event_id(), type="payment.completed",
                              subject="PAY-X", data="{}", created_at=now)
                        for _ in range(2)
                    ]  # fmt: skip
                    session.add_all(rows)
                    session.flush()
                    published = [Published(PaymentCompleted("PAY-X"), r.event_id, {}, None)
                                 for r in rows]  # fmt: skip
                    started = time.perf_counter()
                    webhook_deliveries(session, published, settings, now)
                    spent += time.perf_counter() - started
            timings[label] = spent / rounds * 1e6
        db.dispose()
    print(f"  {backend:<9}fan-out statement per callback (2 events): "
          + ", ".join(f"{k}: {v:.0f} µs" for k, v in timings.items()))  # fmt: skip


def text_update(enabled: bool) -> Any:
    from sqlalchemy import update

    from pesadesk.db.models.webhooks import WebhookEndpoint

    return update(WebhookEndpoint).values(enabled=enabled)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--endpoints", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--slow", action="store_true", help="add an endpoint that takes 10 s")
    parser.add_argument(
        "--fanout", action="store_true", help="time the fan-out statement a callback runs"
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--delay", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.receiver:
        serve_receiver(args.receiver, args.delay)
        return 0
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if "postgres" in backends and (why := postgres_reachable(args.pg_url)) is not None:
        print(f"skipping PostgreSQL ({args.pg_url}): {why}")
        backends.remove("postgres")
    print(f"webhook deliveries from the outbox, worker concurrency {args.concurrency}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    if args.fanout:
        for backend in backends:
            fanout_cost(backend, args)
        return 0
    problems = [p for backend in backends for p in run(backend, args)]
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
