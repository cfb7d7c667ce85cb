"""Builds what runs beside the HTTP service (and alone as `pesadesk worker`): the Daraja
and WhatsApp clients, and the outbox worker with its periodic STK sweep."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from pesadesk.accounts.daraja import b2c_config, c2b_config, stk_config
from pesadesk.b2c import refunds
from pesadesk.c2b import pull
from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.daraja.client import DarajaClient
from pesadesk.db.session import Database
from pesadesk.metrics import Metrics
from pesadesk.notify import daily
from pesadesk.notify.admins import WHATSAPP_TEXT
from pesadesk.notify.whatsapp import WhatsAppClient
from pesadesk.outbox.worker import OutboxWorker
from pesadesk.stk import service as stk

PULL_INTERVAL = timedelta(minutes=15)
BALANCE_INTERVAL = timedelta(hours=1)


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


@dataclass
class Runtime:
    daraja: DarajaClient
    whatsapp: WhatsAppClient
    worker: OutboxWorker
    b2c: DarajaClient | None = None
    extra: list[DarajaClient] = field(default_factory=list)

    async def aclose(self) -> None:
        await self.daraja.aclose()
        await self.whatsapp.aclose()
        for client in [*self.extra, *([self.b2c] if self.b2c else [])]:
            await client.aclose()


def build_runtime(
    settings: Settings,
    db: Database,
    clock: Clock,
    *,
    daraja_transport: httpx.AsyncBaseTransport | None = None,
    whatsapp_transport: httpx.AsyncBaseTransport | None = None,
    metrics: Metrics | None = None,
    **worker_options: Any,
) -> Runtime:
    hooks = metrics.daraja_hooks() if metrics is not None else None
    daraja = DarajaClient(
        stk_config(settings),
        transport=daraja_transport,
        clock=clock,
        event_hooks=hooks,
    )
    whatsapp = WhatsAppClient(settings.whatsapp, transport=whatsapp_transport)

    async def send_whatsapp(payload: dict[str, Any]) -> None:
        await whatsapp.send_text(to=payload["to"], body=payload["body"])

    async def sweep_stk() -> int:
        if not settings.payments.enabled:
            return 0
        return await stk.sweep(db=db, daraja=daraja, settings=settings, clock=clock)

    pull_daraja = DarajaClient(
        c2b_config(settings),
        transport=daraja_transport,
        clock=clock,
        event_hooks=hooks,
    )
    pull_every = Every(PULL_INTERVAL, clock)

    async def pull_recent() -> int:
        """Pull Transactions every 15 minutes; a shortcode not registered for it just
        logs the refusal (it is optional at Safaricom)."""
        if not settings.payments.enabled or not pull_every.due():
            return 0
        result = await pull.pull_missed(db=db, daraja=pull_daraja, clock=clock, hours=1)
        return len(result.recorded)

    b2c = (
        DarajaClient(
            b2c_config(settings),
            transport=daraja_transport,
            clock=clock,
            event_hooks=hooks,
        )
        if settings.payments.b2c.configured
        else None
    )
    balance_every = Every(BALANCE_INTERVAL, clock)

    async def check_refunds() -> int:
        if b2c is None:
            return 0
        return await refunds.check_unknown(db=db, daraja=b2c, settings=settings, clock=clock)

    async def refresh_balance() -> bool:
        if b2c is None or not balance_every.due():
            return False
        await request_balance(b2c, settings)
        return True

    async def daily_summary() -> bool:
        return await asyncio.to_thread(
            daily.queue_daily_summary, db, settings=settings, clock=clock
        )

    worker = OutboxWorker(
        db,
        clock,
        {WHATSAPP_TEXT: send_whatsapp},
        periodic=[sweep_stk, pull_recent, daily_summary, check_refunds, refresh_balance],
        **worker_options,
    )
    return Runtime(daraja=daraja, whatsapp=whatsapp, worker=worker, b2c=b2c, extra=[pull_daraja])


async def request_balance(b2c: DarajaClient, settings: Settings) -> None:
    """Ask Daraja for the B2C balances; the answer lands at the ResultURL and is kept."""
    urls = settings.payments.b2c
    await b2c.account_balance(
        result_url=stk.with_webhook_token(urls.callback_url, settings),
        timeout_url=stk.with_webhook_token(urls.timeout_url, settings),
    )
