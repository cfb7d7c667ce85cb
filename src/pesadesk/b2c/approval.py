"""A second person approves a refund or payout above the threshold (it is then sent) or
rejects it (its amount is released). The approver must be a different person from the one
who asked: a second key of the same owner does not count."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pesadesk.b2c.requests import check_funds, find_refund, release
from pesadesk.b2c.rules import (
    FIRST_CHECK_AFTER,
    PENDING_APPROVAL,
    PROCESSING,
    REJECTED,
    RefundNotAllowed,
    RefundNotPending,
    SamePerson,
)
from pesadesk.core.clock import Clock
from pesadesk.db.models import Order, Payment, Refund
from pesadesk.payments.views import refund_view
from pesadesk.shared import audit
from pesadesk.shared.apikeys import Principal
from pesadesk.stk.rules import OrderStatus


def same_person(refund: Refund, who: Principal) -> bool:
    """The same key, or another key of the same owner."""
    if refund.requested_key_id is not None and refund.requested_key_id == who.key_id:
        return True
    return (refund.requested_owner or refund.requested_by) == who.owner


def decide(
    session: Session, *, refund_id: str, approve: bool, who: Principal, clock: Clock
) -> Refund:
    """A second admin approves (it is then sent) or rejects (its amount is released)."""
    refund = find_refund(session, refund_id, lock=True)
    if refund.status != PENDING_APPROVAL:
        raise RefundNotPending(f"refund {refund.refund_id} is {refund.status}")
    if same_person(refund, who):
        raise SamePerson(
            f"{refund.requested_owner or refund.requested_by} asked for this refund;"
            " a different person must approve or reject it"
        )
    before = refund_view(refund)
    now = clock.now()
    new_status = PROCESSING if approve else REJECTED
    if approve:  # the rules may have changed while it waited
        _check_still_refundable(session, refund)
    session.execute(
        update(Refund)
        .where(Refund.id == refund.id, Refund.status == PENDING_APPROVAL)
        .values(
            status=new_status,
            decided_by=who.name,
            updated_at=now,
            next_check_at=now + FIRST_CHECK_AFTER if approve else None,
        )
    )
    if not approve:
        release(session, refund, now)
    session.refresh(refund)
    audit.record(session, actor=who.name, subject=refund.refund_id, now=now, before=before,
                 action=f"{refund.kind}.{'approved' if approve else 'rejected'}",
                 after=refund_view(refund))  # fmt: skip
    return refund


def _check_still_refundable(session: Session, refund: Refund) -> None:
    """At approval: the order not delivered since, and the known funds still enough."""
    if refund.payment_id is not None:
        order_status = session.execute(
            select(Order.status)
            .join(Payment, Payment.order_id == Order.id)
            .where(Payment.id == refund.payment_id)
        ).scalar_one_or_none()
        if order_status == OrderStatus.DELIVERED.value:
            raise RefundNotAllowed("the order has been delivered since; reject this refund")
    check_funds(session, refund.amount_cents)
