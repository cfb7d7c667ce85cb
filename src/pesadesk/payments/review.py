"""Closing a payment's review: the person's decision on money pesadesk would not place by
itself (a paid order that was cancelled, an amount that differs from the one asked, a push
whose outcome is unknown). What was done is written to the audit trail; the flag goes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pesadesk.core.errors import Conflict, PaymentNotFound
from pesadesk.db.models import Payment
from pesadesk.shared import audit
from pesadesk.shared.apikeys import Principal


class NotUnderReview(Conflict):
    """Raised when a payment has no open review to close."""

    code = "not_under_review"


def close_review(
    session: Session, *, payment_id: str, note: str, who: Principal, now: datetime
) -> None:
    """Clear `needs_review` once, under the payment's row lock, with the note audited."""
    payment = session.execute(
        select(Payment).where(Payment.id == payment_id).with_for_update()
    ).scalar_one_or_none()
    if payment is None:
        raise PaymentNotFound(f"no payment {payment_id!r}")
    if not payment.needs_review:
        raise NotUnderReview(f"payment {payment_id} is not waiting for a review")
    before = {"needs_review": True, "status": payment.status, "result_desc": payment.result_desc}
    payment.needs_review = False
    payment.updated_at = now
    audit.record(
        session,
        actor=who.name,
        action="payment.review_closed",
        subject=payment_id,
        now=now,
        before=before,
        after={"needs_review": False, "status": payment.status, "note": note},
    )
