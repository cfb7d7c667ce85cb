"""Refunds whose outcome is unknown (no result in time, a queue timeout, a lost answer)
are asked about with Transaction Status, with capped backoff; the answer comes back at
the ResultURL and settles them there. The money is never sent a second time."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog
from sqlalchemy import select, update

from pesadesk.accounts.clients import AccountClients
from pesadesk.accounts.registry import UnknownAccount
from pesadesk.accounts.urls import with_webhook_token
from pesadesk.b2c.rules import CHECK_BASE_SECONDS, CHECK_CAP_SECONDS, PROCESSING
from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.core.retry import backoff
from pesadesk.daraja.client import DarajaClient
from pesadesk.daraja.errors import DarajaError
from pesadesk.db.models import Refund
from pesadesk.db.session import Database
from pesadesk.jobs.context import JobContext
from pesadesk.pipeline.rerun import rerun_flagged

log = structlog.get_logger(__name__)


def _due_checks(db: Database, clock: Clock, limit: int) -> list[tuple[int, str, str, str | None]]:
    now = clock.now()
    with db.write() as session:
        rows = session.execute(
            select(
                Refund.id,
                Refund.originator_conversation_id,
                Refund.refund_id,
                Refund.checks,
                Refund.account,
            )
            .where(Refund.status == PROCESSING, Refund.next_check_at <= now)
            .order_by(Refund.next_check_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for pk, _, _, checks, _ in rows:
            delay = backoff(
                checks + 1, base_seconds=CHECK_BASE_SECONDS, cap_seconds=CHECK_CAP_SECONDS
            )
            session.execute(
                update(Refund)
                .where(Refund.id == pk)
                .values(next_check_at=now + delay, checks=checks + 1)
            )
    return [(pk, originator, refund_id, account) for pk, originator, refund_id, _, account in rows]


async def check_unknown(ctx: JobContext, limit: int = 20) -> int:
    """Ask Transaction Status (through the B2C that sent each refund) about refunds whose
    outcome is unknown; the answer comes back at the ResultURL and settles them there."""
    settings = ctx.settings
    b2c = settings.payments.b2c
    asked = 0
    due = await asyncio.to_thread(_due_checks, ctx.db, ctx.clock, limit)
    for pk, originator, refund_id, account in due:
        daraja = _b2c_of(ctx.clients, account)
        if daraja is None:
            continue
        try:
            question = await daraja.transaction_status(
                originator_conversation_id=originator,
                occasion=refund_id,
                result_url=with_webhook_token(b2c.callback_url, settings),
                timeout_url=with_webhook_token(b2c.timeout_url, settings),
            )
        except DarajaError as exc:
            log.warning("transaction_status_failed", refund_id=refund_id, error=exc.code)
            continue
        asked += 1
        if question.conversation_id:
            await asyncio.to_thread(_remember_question, ctx, pk, question.conversation_id)
    return asked


def _remember_question(ctx: JobContext, refund_pk: int, conversation_id: str) -> None:
    """Keep Daraja's ConversationID of the question (an unproven answer must name it),
    then apply an answer that came before it was kept."""
    with ctx.db.write() as session:
        session.execute(
            update(Refund).where(Refund.id == refund_pk).values(check_token=conversation_id[:100])
        )
    rerun_flagged(ctx.pipeline, source="b2c_result", external_id=conversation_id)


def _b2c_of(clients: AccountClients, account: str | None) -> DarajaClient | None:
    try:
        return clients.b2c(account)
    except UnknownAccount:  # an account that has left the settings: the default B2C
        return clients.b2c()


class StatusChecks:
    """Ask Transaction Status about refunds whose outcome is unknown."""

    name = "refund_status_checks"
    every = None

    async def run(self, ctx: JobContext) -> int:
        return await check_unknown(ctx)


class BalanceRefresh:
    """Ask for the B2C balances every hour, so refunds know the funds they may use."""

    name = "b2c_balance"
    every = timedelta(hours=1)

    async def run(self, ctx: JobContext) -> bool:
        if ctx.b2c is None:
            return False
        await ask_balance(ctx.b2c, ctx.settings)
        return True


async def ask_balance(b2c: DarajaClient, settings: Settings) -> None:
    """Ask Daraja for the B2C balances; the answer lands at the ResultURL and is kept."""
    urls = settings.payments.b2c
    await b2c.account_balance(
        result_url=with_webhook_token(urls.callback_url, settings),
        timeout_url=with_webhook_token(urls.timeout_url, settings),
    )


status_checks = StatusChecks()
balance_refresh = BalanceRefresh()
