"""Builds what runs beside the HTTP service (and alone as `pesadesk worker`): the Daraja
and WhatsApp clients, and the outbox worker that runs the periodic jobs on its passes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from pesadesk.accounts.clients import AccountClients
from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.core.retry import WEBHOOK_RETRY
from pesadesk.daraja.client import DarajaClient
from pesadesk.db.session import Database
from pesadesk.events.delivery import WebhookSender
from pesadesk.events.fanout import WEBHOOK_DELIVERY
from pesadesk.jobs.context import JobContext, PeriodicJob
from pesadesk.jobs.registry import JOBS
from pesadesk.metrics import Metrics
from pesadesk.notify.admins import WHATSAPP_TEXT
from pesadesk.notify.whatsapp import WhatsAppClient
from pesadesk.outbox.worker import OutboxWorker
from pesadesk.pipeline.run import Pipeline


class Every:
    """True once per `interval` (the first call included)."""

    def __init__(self, interval: timedelta, clock: Clock) -> None:
        self.interval = interval
        self.clock = clock
        self.last: datetime | None = None

    def due(self) -> bool:
        now = self.clock.now()
        if self.last is not None and now - self.last < self.interval:
            return False
        self.last = now
        return True


def scheduled(job: PeriodicJob, ctx: JobContext) -> Callable[[], Awaitable[Any]]:
    """The job as the worker calls it: every pass, or once per `job.every`."""
    gate = Every(job.every, ctx.clock) if job.every is not None else None

    async def run() -> Any:
        if gate is not None and not gate.due():
            return None
        return await job.run(ctx)

    run.__name__ = job.name
    return run


@dataclass
class Runtime:
    context: JobContext
    whatsapp: WhatsAppClient
    worker: OutboxWorker
    webhooks: WebhookSender

    @property
    def daraja(self) -> DarajaClient:
        return self.context.daraja

    @property
    def b2c(self) -> DarajaClient | None:
        return self.context.b2c

    @property
    def clients(self) -> AccountClients:
        return self.context.clients

    async def aclose(self) -> None:
        await self.context.clients.aclose()
        await self.whatsapp.aclose()
        await self.webhooks.aclose()


def build_runtime(
    settings: Settings,
    db: Database,
    clock: Clock,
    *,
    daraja_transport: httpx.AsyncBaseTransport | None = None,
    whatsapp_transport: httpx.AsyncBaseTransport | None = None,
    metrics: Metrics | None = None,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
    **worker_options: Any,
) -> Runtime:
    hooks = metrics.daraja_hooks() if metrics is not None else None
    clients = AccountClients(settings, clock=clock, transport=daraja_transport, event_hooks=hooks)
    context = JobContext(
        db=db, settings=settings, clock=clock, pipeline=Pipeline(db, settings, clock),
        clients=clients,
    )  # fmt: skip
    whatsapp = WhatsAppClient(settings.whatsapp, transport=whatsapp_transport)

    async def send_whatsapp(payload: dict[str, Any]) -> None:
        await whatsapp.send_text(to=payload["to"], body=payload["body"])

    webhooks = WebhookSender(db, settings, clock, transport=webhook_transport)
    policies = {WEBHOOK_DELIVERY: WEBHOOK_RETRY, **worker_options.pop("policies", {})}
    worker = OutboxWorker(
        db,
        clock,
        {WHATSAPP_TEXT: send_whatsapp, WEBHOOK_DELIVERY: webhooks},
        periodic=[scheduled(job, context) for job in JOBS],
        policies=policies,
        **worker_options,
    )
    return Runtime(context=context, whatsapp=whatsapp, worker=worker, webhooks=webhooks)
