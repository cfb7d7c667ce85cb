"""C2B money whose callback's origin is not proven waits for Daraja's word (CONTRACT §8).

The payment is kept `pending_verification`: recorded, visible, crediting nothing. Daraja
confirms it by Transaction Status (asked with the B2C initiator, answered at the ResultURL)
or by Pull Transactions, or a proven copy of the callback arrives; then it is placed as
any confirmation would be. What Daraja says wins: its amount and reference are the ones
placed. Daraja saying there is no such payment closes it `failed` for a person.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pesadesk.accounts.registry import CollectionAccount, UnknownAccount, named
from pesadesk.accounts.urls import with_webhook_token
from pesadesk.c2b import service
from pesadesk.core.clock import Clock
from pesadesk.core.errors import NeedsReview
from pesadesk.core.events import Event, PaymentCompleted, PaymentFlagged, invoice_events
from pesadesk.core.money import format_kes
from pesadesk.core.retry import backoff
from pesadesk.core.statuses import PaymentStatus
from pesadesk.daraja.callbacks import C2BPayment, TransactionStatusResult
from pesadesk.daraja.errors import DarajaError
from pesadesk.db.models import Payment
from pesadesk.db.session import Database
from pesadesk.jobs.context import JobContext
from pesadesk.pipeline.contract import Context, Outcome
from pesadesk.receivables import matching, placement

log = structlog.get_logger(__name__)

PENDING = PaymentStatus.PENDING_VERIFICATION.value
OCCASION_PREFIX = "c2b-verify:"
ASK_BASE_SECONDS = 20.0
ASK_CAP_SECONDS = 900.0
PULL_AT_MOST_EVERY = timedelta(seconds=60)
# Transaction Status's "no such transaction" (reference §9: OriginalTransactionID invalid).
NO_SUCH_TRANSACTION = frozenset({"R000002"})


def confirm_pending(
    session: Session, *, payment_id: str, trusted: C2BPayment | None, amount_cents: int,
    clock: Clock, source: str,
) -> tuple[str | None, list[Event]]:  # fmt: skip
    """Place a pending payment Daraja has confirmed (by `source`); returns a note when
    Daraja's amount differs from the callback's, and the events. Nothing when it is no
    longer pending (another confirmation came first)."""
    payment = session.execute(
        select(Payment).where(Payment.id == payment_id, Payment.status == PENDING).with_for_update()
    ).scalar_one_or_none()
    if payment is None:
        return None, []
    note = None
    if payment.amount_cents != amount_cents:
        note = (
            f"the unproven callback said {format_kes(payment.amount_cents)}; Daraja says"
            f" {format_kes(amount_cents)}: Daraja's amount is placed"
        )
    reference = trusted.bill_ref if trusted is not None else (payment.reference or "")
    now = clock.now()
    session.execute(
        update(Payment)
        .where(Payment.id == payment_id)
        .values(status=PaymentStatus.PROCESSING.value, amount_cents=amount_cents,
                reference=reference, verify_reason=None, next_query_at=None, updated_at=now,
                result_desc=f"confirmed by {source}"[:300])
    )  # fmt: skip
    target = matching.match(session, reference, payment.msisdn_hash)
    placed = placement.place(
        session, payment_id=payment_id, amount_cents=amount_cents, target=target, clock=clock
    )
    service.store_placement(session, payment_id, placed, now)
    log.info("c2b_verified", payment_id=payment_id, by=source)
    return note, [PaymentCompleted(payment_id), *invoice_events(placed.invoices)]


def reject_pending(session: Session, *, payment_id: str, reason: str, clock: Clock) -> list[Event]:
    """Daraja knows no such payment: nothing was received, a person looks at it."""
    closed = session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status == PENDING)
        .values(status=PaymentStatus.FAILED.value, needs_review=True, verify_reason=None,
                next_query_at=None, result_desc=reason[:300], updated_at=clock.now())
        .returning(Payment.id)
    ).first()  # fmt: skip
    if closed is None:
        return []
    log.warning("c2b_verification_refused", payment_id=payment_id, reason=reason)
    return [PaymentFlagged(payment_id, reason=reason)]


def _claim_due(db: Database, clock: Clock, limit: int) -> list[tuple[str, str, str | None]]:
    now = clock.now()
    with db.write() as session:
        rows = session.execute(
            select(Payment.id, Payment.receipt, Payment.query_attempts, Payment.account)
            .where(Payment.status == PENDING, Payment.next_query_at <= now)
            .order_by(Payment.next_query_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for payment_id, _, attempts, _ in rows:
            delay = backoff(
                attempts + 1, base_seconds=ASK_BASE_SECONDS, cap_seconds=ASK_CAP_SECONDS
            )
            session.execute(
                update(Payment)
                .where(Payment.id == payment_id)
                .values(next_query_at=now + delay, query_attempts=attempts + 1)
            )
    return [(payment_id, str(receipt), account) for payment_id, receipt, _, account in rows]


def _remember_question(ctx: JobContext, payment_id: str, conversation_id: str) -> None:
    """Keep Daraja's ConversationID of the question, then apply an answer that came first."""
    with ctx.db.write() as session:
        session.execute(
            update(Payment)
            .where(Payment.id == payment_id, Payment.status == PENDING)
            .values(verify_token=conversation_id[:100])
        )
    from pesadesk.pipeline.rerun import rerun_flagged  # the pipeline applies this module

    rerun_flagged(ctx.pipeline, source="b2c_result", external_id=conversation_id)


def owning_name(ctx: JobContext, name: str | None) -> CollectionAccount:
    """The payment's collection account (the default one if it has left the settings)."""
    try:
        return named(ctx.settings, name)
    except UnknownAccount:
        return named(ctx.settings, None)


class VerifyPending:
    """Ask Daraja about pending C2B payments: Transaction Status when the B2C initiator is
    configured, else Pull Transactions (at most once a minute)."""

    name = "c2b_verify"
    every = None

    def __init__(self) -> None:
        self._last_pull: Any = None

    async def run(self, ctx: JobContext) -> int:
        due = await asyncio.to_thread(_claim_due, ctx.db, ctx.clock, 20)
        b2c = ctx.settings.payments.b2c
        asked, pull = 0, False
        for payment_id, receipt, account_name in due:
            account = owning_name(ctx, account_name)
            daraja = ctx.clients.b2c(account.name)
            if daraja is None:  # no initiator for this account: Pull Transactions tells
                pull = True
                continue
            try:
                accepted = await daraja.transaction_status(
                    transaction_id=receipt, occasion=f"{OCCASION_PREFIX}{payment_id}",
                    party_a=account.shortcode, remarks="Payment check",
                    result_url=with_webhook_token(b2c.callback_url, ctx.settings),
                    timeout_url=with_webhook_token(b2c.timeout_url, ctx.settings),
                )  # fmt: skip
            except DarajaError as exc:
                log.warning("c2b_verify_ask_failed", payment_id=payment_id, error=exc.code)
                continue
            asked += 1
            if accepted.conversation_id:
                await asyncio.to_thread(
                    _remember_question, ctx, payment_id, accepted.conversation_id
                )
        return asked + (await self._pull(ctx) if pull else 0)

    async def _pull(self, ctx: JobContext) -> int:
        from pesadesk.c2b.pull import pull_every_account  # the pull job imports this module

        now = ctx.clock.now()
        if self._last_pull is not None and now - self._last_pull < PULL_AT_MOST_EVERY:
            return 0
        self._last_pull = now
        return await pull_every_account(ctx, hours=48)


job = VerifyPending()


def status_answered(
    session: Session, status: TransactionStatusResult, occasion: str, ctx: Context
) -> Outcome:
    """Transaction Status's answer about a pending payment: completed for its TransID
    places it (Daraja's amount); no such transaction closes it for a person."""
    payment_id = occasion.removeprefix(OCCASION_PREFIX)
    external = status.result.conversation_id or None
    payment = session.get(Payment, payment_id)
    if payment is None or payment.status != PENDING:
        return Outcome(external_id=external, duplicate=True)
    if not external or payment.verify_token != external:
        # Not (yet) the answer to a question pesadesk asked: kept, and run again once the
        # question's ConversationID is known; a forged answer stays here for a person.
        raise NeedsReview(f"a Transaction Status answer pesadesk has not asked for ({external})")
    if status.completed and status.amount_cents and status.receipt_no == payment.receipt:
        note, events = confirm_pending(
            session, payment_id=payment_id, trusted=None, amount_cents=status.amount_cents,
            clock=ctx.clock, source="Transaction Status",
        )  # fmt: skip
        return Outcome(external_id=external, note=note, events=tuple(events))
    if status.result.succeeded and status.transaction_status:
        reason = f"Daraja says {payment.receipt} is {status.transaction_status}, not received"
    elif status.result.result_code in NO_SUCH_TRANSACTION:
        reason = f"Daraja knows no transaction {payment.receipt}: the callback was not real"
    else:  # Daraja could not tell now: the job asks again later
        return Outcome(
            external_id=external, note=f"Transaction Status: {status.result.result_desc}"
        )
    events = reject_pending(session, payment_id=payment_id, reason=reason, clock=ctx.clock)
    return Outcome(external_id=external, flagged=True, note=reason, events=tuple(events))
