"""The STK sweeper: payments still `processing` past `payments.mpesa.query_after_seconds`
are settled by STK Query (Safaricom sends the callback once and never retries it).

The money request is never sent again: a pending answer waits for the next round with
capped backoff; a final one settles the payment as the callback would have.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pesadesk.accounts.clients import AccountClients
from pesadesk.accounts.registry import UnknownAccount
from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.core.events import PaymentFlagged
from pesadesk.core.retry import backoff
from pesadesk.core.statuses import PaymentStatus, WebhookSource
from pesadesk.daraja.errors import DarajaError, TransactionNotFound
from pesadesk.daraja.result_codes import stk_message, stk_status
from pesadesk.db.models import Payment, WebhookLog
from pesadesk.db.session import Database
from pesadesk.events.publish import publish
from pesadesk.jobs.context import JobContext
from pesadesk.pipeline import logrows
from pesadesk.pipeline.contract import Origin
from pesadesk.pipeline.parse import parse
from pesadesk.stk.settle import settle

log = structlog.get_logger(__name__)

QUERY_BASE_SECONDS = 30.0
QUERY_CAP_SECONDS = 600.0
NOT_FOUND_GIVE_UP = 3


@dataclass(frozen=True)
class DueQuery:
    payment_id: str
    checkout: str
    attempts: int
    account: str | None = None


def _claim_due(db: Database, settings: Settings, clock: Clock, limit: int) -> list[DueQuery]:
    now = clock.now()
    with db.write() as session:
        # Past the deadline without a CheckoutRequestID (Daraja's answer was lost or the
        # process died before keeping it): nothing to query, so close it for a person.
        closed = session.execute(
            update(Payment)
            .where(
                Payment.source == "stk",
                Payment.status == PaymentStatus.PROCESSING.value,
                Payment.provider_ref.is_(None),
                Payment.next_query_at <= now,
            )
            .values(
                status=PaymentStatus.FAILED.value,
                needs_review=True,
                next_query_at=None,
                result_desc=(
                    "no CheckoutRequestID was received; if the customer paid, the callback "
                    "is flagged in the webhook log"
                ),
                updated_at=now,
            )
            .returning(Payment.id)
        ).scalars()
        reason = "no CheckoutRequestID was received"
        publish(session, [PaymentFlagged(i, reason) for i in closed], settings=settings, now=now)
        rows = session.execute(
            select(Payment.id, Payment.provider_ref, Payment.query_attempts, Payment.account)
            .where(
                Payment.source == "stk",
                Payment.status == PaymentStatus.PROCESSING.value,
                Payment.needs_review.is_(False),
                Payment.provider_ref.is_not(None),
                Payment.next_query_at <= now,
            )
            .order_by(Payment.next_query_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = []
        for payment_id, checkout, attempts, account in rows:
            delay = backoff(
                attempts + 1, base_seconds=QUERY_BASE_SECONDS, cap_seconds=QUERY_CAP_SECONDS
            )
            session.execute(
                update(Payment)
                .where(Payment.id == payment_id)
                .values(next_query_at=now + delay, query_attempts=attempts + 1)
            )
            claimed.append(DueQuery(payment_id, str(checkout), attempts + 1, account))
    return claimed


def _settle_from_query(
    db: Database, due: DueQuery, status: str, code: str | None, desc: str,
    settings: Settings, clock: Clock,
) -> bool:  # fmt: skip
    with db.write() as session:
        payment = session.execute(
            select(Payment).where(Payment.id == due.payment_id).with_for_update()
        ).scalar_one()
        receipt = _claimed_receipt(session, payment) if status == "completed" else None
        settled = settle(
            session, payment=payment, status=status, result_code=code, result_desc=desc,
            receipt=receipt, paid_at=payment.paid_at if receipt else None, clock=clock,
        )  # fmt: skip
        if settled.moved and payment.verify_reason is not None:
            _flag_contradicted(session, due.checkout, status)
        publish(session, settled.events, settings=settings, now=clock.now())
        return settled.moved


def _flag_contradicted(session: Session, checkout: str, status: str) -> None:
    """The callbacks that waited for this query and said something else than Daraja."""
    rows = session.execute(
        select(WebhookLog.id, WebhookLog.raw_body).where(
            WebhookLog.source == WebhookSource.STK.value,
            WebhookLog.external_id == checkout,
            WebhookLog.processed.is_(True),
        )
    ).all()
    wrong = []
    for log_id, raw in rows:
        said = stk_status(parse(WebhookSource.STK, Origin.CALLBACK, raw).result_code)
        if said != status:
            wrong.append(log_id)
    if wrong:
        note = f"STK Query says {status}; this callback said otherwise: settled by Daraja"
        logrows.flag(session.connection(), wrong, note)
        log.warning("stk_callback_contradicted", checkout=checkout, callbacks=len(wrong))


def _claimed_receipt(session: Session, payment: Payment) -> str | None:
    """The receipt a callback waiting for this query named, unless another payment has
    it already (then the payment is settled without one, and reconciliation finds it)."""
    claimed = payment.claimed_receipt
    if not claimed:
        return None
    taken = session.execute(select(Payment.id).where(Payment.receipt == claimed)).first()
    return None if taken else claimed


async def sweep(
    *, db: Database, clients: AccountClients, settings: Settings, clock: Clock, limit: int = 20
) -> int:
    """Ask STK Query about payments still `processing` past `query_after_seconds`.

    A pending answer waits for the next round (capped backoff); a final one settles the
    payment as the callback would have. Returns how many were settled.
    """
    settled = 0
    for due in await asyncio.to_thread(_claim_due, db, settings, clock, limit):
        started = time.perf_counter()
        try:
            answer = await clients.stk(due.account).stk_query(due.checkout)
        except UnknownAccount:
            log.error("stk_query_account_gone", payment_id=due.payment_id, account=due.account)
            continue
        except TransactionNotFound:
            if due.attempts < NOT_FOUND_GIVE_UP:
                continue
            status, code, desc = "failed", None, "Daraja has no such STK request"
        except DarajaError as exc:
            log.warning("stk_query_failed", payment_id=due.payment_id, error=exc.code)
            continue
        else:
            if answer.pending:
                continue
            status = str(answer.status)
            code = answer.result_code
            desc = "settled by STK Query: " + stk_message(code, answer.result_desc)
        moved = await asyncio.to_thread(
            _settle_from_query, db, due, status, code, desc, settings, clock
        )
        settled += moved
        log.info("stk_settled_by_query", payment_id=due.payment_id, status=status,
                 seconds=round(time.perf_counter() - started, 3))  # fmt: skip
    return settled


class StkSweep:
    """Settle STK payments the callback never settled, with STK Query."""

    name = "stk_sweep"
    every = None

    async def run(self, ctx: JobContext) -> int:
        if not ctx.settings.payments.enabled:
            return 0
        return await sweep(db=ctx.db, clients=ctx.clients, settings=ctx.settings, clock=ctx.clock)


job = StkSweep()
