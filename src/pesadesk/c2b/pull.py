"""Pull Transactions recovery: C2B payments Daraja received but whose confirmation never
reached us go through the callback pipeline as if it had (their log rows marked `pull`).
The TransID decides: a payment already known is left alone."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import select

from pesadesk.core.statuses import PaymentStatus, WebhookSource
from pesadesk.daraja.client import DarajaClient
from pesadesk.daraja.errors import DarajaError
from pesadesk.daraja.schemas import PullTransaction
from pesadesk.db.models import Payment
from pesadesk.db.session import Database
from pesadesk.jobs.context import JobContext
from pesadesk.pipeline.contract import Origin
from pesadesk.pipeline.run import Job, Pipeline

log = structlog.get_logger(__name__)
MAX_PAGES = 100
CLOCK_SLACK = timedelta(minutes=2)
PULL_INTERVAL = timedelta(minutes=15)


@dataclass(frozen=True)
class PullResult:
    seen: int
    recorded: list[str]


def _unknown(db: Database, items: list[PullTransaction]) -> list[PullTransaction]:
    """The items pesadesk has no settled payment for: new ones, and those waiting for
    Daraja's confirmation (the rest need no log row each pass)."""
    ids = {item.transaction_id.strip() for item in items}
    waiting = PaymentStatus.PENDING_VERIFICATION.value
    with db.read() as session:
        query = select(Payment.receipt).where(Payment.receipt.in_(ids), Payment.status != waiting)
        known = set(session.execute(query).scalars())
    return [item for item in items if item.transaction_id.strip() not in known]


def _record(pipeline: Pipeline, item: PullTransaction, shortcode: str | None) -> bool:
    """Through the pipeline; kept as Daraja's item with the shortcode it was asked for."""
    raw = json.dumps(
        {"ShortCode": shortcode, "Item": item.model_dump(mode="json", by_alias=True)}
    ).encode()
    result = pipeline.run_one(
        Job(source=WebhookSource.C2B_CONFIRMATION.value, raw=raw, origin=Origin.PULL)
    )
    return result.outcome is not None and bool(result.outcome.events)


async def pull_missed(
    *, pipeline: Pipeline, daraja: DarajaClient, hours: float = 24, shortcode: str | None = None
) -> PullResult:
    """Ask for the last `hours` (Daraja keeps 48) and record what we lack."""
    now = pipeline.ctx.clock.now()
    start = now - timedelta(hours=min(hours, 48))
    end = now + CLOCK_SLACK  # Daraja takes whole seconds, and its clock is not ours
    seen = 0
    recorded: list[str] = []
    offset = 0
    for _ in range(MAX_PAGES):
        answer = await daraja.pull_query(start=start, end=end, offset=offset)
        if not answer.transactions:
            break
        seen += len(answer.transactions)
        for item in await asyncio.to_thread(_unknown, pipeline.db, answer.transactions):
            if await asyncio.to_thread(_record, pipeline, item, shortcode):
                recorded.append(item.transaction_id.strip())
                log.info("c2b_recovered_by_pull", trans_id=item.transaction_id)
        offset += len(answer.transactions)
    return PullResult(seen=seen, recorded=recorded)


class PullRecent:
    """Pull Transactions every 15 minutes; a shortcode not registered for it just logs
    the refusal (it is optional at Safaricom)."""

    name = "c2b_pull"
    every = PULL_INTERVAL

    async def run(self, ctx: JobContext) -> int:
        if not ctx.settings.payments.enabled:
            return 0
        return await pull_every_account(ctx, hours=1)


async def pull_every_account(ctx: JobContext, *, hours: float) -> int:
    """Pull Transactions for each collection account; one refusing does not stop the rest."""
    recovered = 0
    for account in ctx.clients.every():
        try:
            result = await pull_missed(
                pipeline=ctx.pipeline, daraja=ctx.clients.c2b(account.name), hours=hours,
                shortcode=account.shortcode,
            )  # fmt: skip
        except DarajaError as exc:
            log.info("c2b_pull_refused", account=account.name, error=exc.code)
            continue
        recovered += len(result.recorded)
    return recovered


job = PullRecent()
