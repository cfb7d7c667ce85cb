"""Settling an STK payment: `processing` to its final status, exactly once.

One conditional UPDATE moves it, so a callback, its duplicates and the sweeper's query
can race and only the first settles it. Success posts the money and confirms the order;
money for an order cancelled meanwhile is kept and flagged for a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from pesadesk.core.clock import Clock
from pesadesk.core.events import Event, PaymentCompleted, PaymentFailed, PaymentFlagged
from pesadesk.core.statuses import PaymentStatus
from pesadesk.db.models import Payment
from pesadesk.ledger import posting
from pesadesk.ledger import rules as ledger
from pesadesk.stk.orders import confirm_by_payment


@dataclass(frozen=True)
class Settled:
    moved: bool
    events: tuple[Event, ...] = ()


def settle(
    session: Session, *, payment: Payment, status: str, result_code: str | None,
    result_desc: str, receipt: str | None, paid_at: datetime | None, clock: Clock,
) -> Settled:  # fmt: skip
    """Move a `processing` payment to `status` with its effects; `moved` False when
    something else settled it first."""
    now = clock.now()
    values: dict[str, Any] = {
        "status": status,
        "result_code": result_code,
        "result_desc": result_desc[:300],
        "next_query_at": None,
        "updated_at": now,
    }
    if status == PaymentStatus.COMPLETED.value:
        values.update(receipt=receipt, paid_at=paid_at or now)
    moved = session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status == PaymentStatus.PROCESSING.value)
        .values(**values)
        .returning(Payment.id)
    ).first()
    if moved is None:
        return Settled(moved=False)
    if status != PaymentStatus.COMPLETED.value:
        return Settled(moved=True, events=(PaymentFailed(payment.id),))
    posting.write_legs(
        session,
        [
            ledger.payment_received(payment.amount_cents),
            ledger.Leg("order_paid", ledger.SALES, credit_cents=payment.amount_cents),
        ],
        journal_id=f"payment:{payment.id}",
        now=now,
        payment_id=payment.id,
    )
    events: list[Event] = [PaymentCompleted(payment.id)]
    if payment.order_id is not None and not confirm_by_payment(
        session, order_id=payment.order_id, clock=clock
    ):  # cancelled while the prompt was open: the money needs a decision
        session.execute(update(Payment).where(Payment.id == payment.id).values(needs_review=True))
        events.append(PaymentFlagged(payment.id, reason="paid for an order that is not pending"))
    return Settled(moved=True, events=tuple(events))


def hold_for_review(session: Session, payment_id: str, note: str, clock: Clock) -> Event:
    """Credit nothing and free the order: the payment is closed as failed and marked for a
    person, who finds the callback flagged in the webhook log."""
    session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status == PaymentStatus.PROCESSING.value)
        .values(
            status=PaymentStatus.FAILED.value,
            needs_review=True,
            next_query_at=None,
            result_desc=note[:300],
            updated_at=clock.now(),
        )
    )
    return PaymentFlagged(payment_id, reason=note)
