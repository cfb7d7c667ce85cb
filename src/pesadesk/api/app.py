"""The FastAPI app factory. Nothing is built at import time: each call makes a fresh app
around the settings (and, for tests, the database and clock) it is given."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import structlog
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from pesadesk import __version__
from pesadesk.api import pages, problems
from pesadesk.api.deps import AppState
from pesadesk.api.guard import WebhookGuard
from pesadesk.api.limits import BodyLimit
from pesadesk.api.middleware import RequestIdMiddleware
from pesadesk.api.openapi import install_openapi
from pesadesk.api.routes import (
    customers,
    dashboard,
    events,
    health,
    invoices,
    keys,
    ledger,
    orders,
    payments,
    pos,
    reconciliation,
    refund_requests,
    refunds,
    stats,
    webhook_logs,
)
from pesadesk.api.webhooks import WebhookLane
from pesadesk.config import Settings
from pesadesk.core.clock import Clock, SystemClock
from pesadesk.db.session import Database
from pesadesk.jobs.runtime import build_runtime
from pesadesk.pipeline import rerun
from pesadesk.pipeline.writer import IngestWriter

log = structlog.get_logger(__name__)

RECOVERY_INTERVAL_SECONDS = 5.0


async def _recovery_loop(state: AppState, interval: float) -> None:
    """Pick up callbacks stored but never processed (a crash between store and process)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await run_in_threadpool(
                rerun.recover_stranded, state.pipeline, older_than=timedelta(seconds=interval)
            )
        except Exception as exc:  # noqa: BLE001 - the loop must outlive a bad minute
            log.warning("recovery_pass_failed", error=type(exc).__name__)


@dataclass(frozen=True)
class Background:
    """What runs beside the routes, and the seams tests set."""

    enabled: bool = True
    recovery_interval: float = RECOVERY_INTERVAL_SECONDS
    worker_interval: float = 1.0
    daraja_transport: httpx.AsyncBaseTransport | None = None
    whatsapp_transport: httpx.AsyncBaseTransport | None = None
    worker_options: dict[str, Any] = field(default_factory=dict)
    ingest_threads: int | None = None


@contextlib.asynccontextmanager
async def _running(state: AppState, run: Background, owns_db: bool) -> AsyncIterator[None]:
    """The clients, the writer threads and (when enabled) the recovery loop and the
    outbox worker, for the life of the app; all closed in order at shutdown."""
    runtime = build_runtime(
        state.settings, state.db, state.clock, daraja_transport=run.daraja_transport,
        whatsapp_transport=run.whatsapp_transport, metrics=state.metrics, **run.worker_options,
    )  # fmt: skip
    state.runtime = runtime
    writer = IngestWriter(state.pipeline, threads=run.ingest_threads)
    writer.start()
    state.writer = writer
    tasks = []
    if run.enabled:
        tasks.append(asyncio.create_task(_recovery_loop(state, run.recovery_interval)))
        tasks.append(asyncio.create_task(runtime.worker.run_forever(interval=run.worker_interval)))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await runtime.aclose()
        state.writer = None
        await asyncio.to_thread(writer.close)
        if owns_db:
            state.db.dispose()


ROUTERS = (
    health, customers, invoices, pos, orders, payments, webhook_logs, keys,
    stats, reconciliation, refunds, refund_requests, events, ledger, dashboard,
)  # fmt: skip


def create_app(
    settings: Settings,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    background: bool = True,
    recovery_interval: float = RECOVERY_INTERVAL_SECONDS,
    worker_interval: float = 1.0,
    daraja_transport: httpx.AsyncBaseTransport | None = None,
    whatsapp_transport: httpx.AsyncBaseTransport | None = None,
    worker_options: dict[str, Any] | None = None,
    ingest_threads: int | None = None,
) -> FastAPI:
    """A fresh app. `background=False` leaves out the recovery loop and the outbox worker
    (tests then drive them by hand)."""
    state = AppState(
        settings=settings,
        db=db if db is not None else Database(settings.database_url),
        clock=clock or SystemClock(),
    )
    run = Background(
        background, recovery_interval, worker_interval, daraja_transport, whatsapp_transport,
        worker_options or {}, ingest_threads,
    )  # fmt: skip

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with _running(state, run, owns_db=db is None):
            yield

    state.metrics.watch_database(state.db)
    app = FastAPI(
        title="pesadesk", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.add_middleware(BodyLimit, statement_limit=settings.reconciliation.max_statement_bytes)
    app.add_middleware(WebhookLane, state=state, guard=WebhookGuard(settings.security))
    app.add_middleware(RequestIdMiddleware)
    app.state.pesadesk = state
    problems.install(app)
    pages.install(app)
    for module in ROUTERS:
        app.include_router(module.router)
    install_openapi(app)
    return app
