"""Settling a refund or payout by Daraja's answer, exactly once: `completed` posts the
money out and marks the payment refunded; `failed` releases the reserved amount."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from pesadesk.b2c.requests import release
from pesadesk.b2c.rules import COMPLETED, FAILED, PROCESSING
from pesadesk.core.clock import Clock
from pesadesk.core.events import Event, refund_settled
from pesadesk.core.statuses import PaymentStatus
from pesadesk.db.models import Payment, Refund
from pesadesk.ledger import posting
from pesadesk.ledger import rules as ledger
from pesadesk.payments.views import refund_view
from pesadesk.shared import audit


def settle(
    session: Session,
    *,
    refund: Refund,
    succeeded: bool,
    code: str | None,
    desc: str,
    receipt: str | None,
    clock: Clock,
) -> Event | None:
    """Move a `processing` refund to completed or failed, exactly once; its event, or
    None when it was settled before."""
    now = clock.now()
    values: dict[str, Any] = {
        "status": COMPLETED if succeeded else FAILED,
        "result_code": code,
        "result_desc": desc[:300],
        "next_check_at": None,
        "updated_at": now,
    }
    if succeeded:
        values["receipt"] = receipt
    moved = session.execute(
        update(Refund)
        .where(Refund.id == refund.id, Refund.status == PROCESSING)
        .values(**values)
        .returning(Refund.id)
    ).first()
    if moved is None:
        return None
    before = refund_view(refund)
    if succeeded:
        _money_left(session, refund, now)
    else:
        release(session, refund, now)
    session.refresh(refund)
    audit.record(session, actor="daraja", subject=refund.refund_id, now=now, before=before,
                 action=f"{refund.kind}.{'completed' if succeeded else 'failed'}",
                 after=refund_view(refund))  # fmt: skip
    return refund_settled(refund.kind, succeeded, refund.refund_id)


def _money_left(session: Session, refund: Refund, now: datetime) -> None:
    """The ledger records money out only when Daraja says it left."""
    customer_pk = None
    if refund.payment_id is not None:
        customer_pk = session.execute(
            select(Payment.customer_pk).where(Payment.id == refund.payment_id)
        ).scalar_one()
    if customer_pk is not None:  # the credit it came from is used up (the lock first)
        posting.change_balance(session, customer_pk, refund.amount_cents, now)
        debit = ledger.Leg("refund_paid", ledger.RECEIVABLE, debit_cents=refund.amount_cents,
                           customer_key=customer_pk)  # fmt: skip
    else:
        account = "refunds" if refund.kind == "refund" else "payouts"
        debit = ledger.Leg(f"{refund.kind}_paid", account, debit_cents=refund.amount_cents)
    posting.write_legs(
        session,
        [debit, ledger.Leg(f"{refund.kind}_paid", ledger.CASH, credit_cents=refund.amount_cents)],
        journal_id=f"{refund.kind}:{refund.refund_id}",
        now=now,
        payment_id=refund.payment_id,
    )
    if refund.payment_id is not None:
        session.execute(
            update(Payment)
            .where(Payment.id == refund.payment_id)
            .values(
                refunded_cents=Payment.refunded_cents + refund.amount_cents,
                status=_refunded_status(refund.amount_cents),
                updated_at=now,
            )
        )


def _refunded_status(amount: int) -> Any:
    """refunded once refunds reach the amount, else partially_refunded (old values)."""
    return case(
        (Payment.refunded_cents + amount >= Payment.amount_cents, PaymentStatus.REFUNDED.value),
        else_=PaymentStatus.PARTIALLY_REFUNDED.value,
    )


def refund_for(
    session: Session, originator: str | None, conversation: str | None,
    refund_id: str | None = None,
) -> Refund | None:  # fmt: skip
    """The refund an answer is about, locked: by the OriginatorConversationID pesadesk
    made (random, so not guessable) or the ConversationID Daraja gave, each only in its
    own column; by `refund_id` (sequential, guessable) only where the caller says so."""
    for column, key in (
        (Refund.originator_conversation_id, originator),
        (Refund.conversation_id, conversation),
        (Refund.refund_id, refund_id),
    ):
        if not key:
            continue
        found = session.execute(
            select(Refund).where(column == key).with_for_update()
        ).scalar_one_or_none()
        if found is not None:
            return found
    return None
