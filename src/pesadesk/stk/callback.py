"""The STK callback, as the pipeline applies it. Unknown CheckoutRequestIDs, amounts that
differ from the one asked and receipts already used are flagged and credit nothing."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pesadesk.core.clock import Clock
from pesadesk.core.errors import NeedsReview
from pesadesk.core.money import format_kes
from pesadesk.daraja.callbacks import StkCallback
from pesadesk.daraja.result_codes import stk_message, stk_status
from pesadesk.db.models import Payment
from pesadesk.pipeline.contract import Context, Outcome, Plan
from pesadesk.stk.settle import hold_for_review, settle


def _mismatch(callback: StkCallback, payment: Payment) -> str | None:
    """Why a success cannot be credited as it stands, or None."""
    if callback.amount_cents != payment.amount_cents:
        given = "missing" if callback.amount_cents is None else format_kes(callback.amount_cents)
        return (
            f"amount {given} differs from the {format_kes(payment.amount_cents)} asked;"
            " not credited, needs a person"
        )
    return None


ARRIVED = ("completed", "refunded", "partially_refunded")


def _late(checkout: str, said: str, settled: str) -> Outcome:
    """A callback for a payment already settled: a copy, or (when it says otherwise) one
    for a person to look at: Daraja or a forger said two different things."""
    if said == settled or (said == "completed" and settled in ARRIVED):
        return Outcome(external_id=checkout, duplicate=True)
    note = f"this callback says {said}, but the payment was settled {settled}: check it"
    return Outcome(external_id=checkout, duplicate=True, flagged=True, note=note)


def _why_ask(message: StkCallback, status: str, ctx: Context) -> str | None:
    """Why Daraja must confirm this callback before it settles anything (CONTRACT §8)."""
    if ctx.must_verify:
        return "origin not proven"
    if status == "completed" and ctx.checks_incomplete and message.incomplete_reason:
        return message.incomplete_reason
    return None


def await_query(
    session: Session, payment: Payment, message: StkCallback, status: str, reason: str,
    clock: Clock,
) -> None:  # fmt: skip
    """Keep what the callback claims and let the sweeper ask STK Query now; the payment
    stays `processing` and its order unconfirmed until Daraja answers."""
    now = clock.now()
    session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status == "processing")
        .values(verify_reason=reason[:120], claimed_status=status,
                claimed_receipt=(message.receipt or "")[:40] or None,
                paid_at=message.transaction_date, next_query_at=now, updated_at=now)
    )  # fmt: skip


class StkCallbackHandler:
    def external_id(self, message: StkCallback) -> str | None:
        return message.checkout_request_id

    def plan(self, session: Session, message: StkCallback) -> Plan:
        return Plan()

    def apply(self, session: Session, message: StkCallback, plan: Plan, ctx: Context) -> Outcome:
        checkout = message.checkout_request_id
        payment = session.execute(
            select(Payment).where(Payment.provider_ref == checkout).with_for_update()
        ).scalar_one_or_none()
        if payment is None:  # kept unprocessed: re-run if the push's answer comes later
            raise NeedsReview(f"unknown CheckoutRequestID {checkout}")
        status = stk_status(message.result_code)
        if payment.status != "processing":
            return _late(checkout, status, payment.status)
        reason = _why_ask(message, status, ctx)
        if reason is not None:
            await_query(session, payment, message, status, reason, ctx.clock)
            note = f"not applied until STK Query confirms it: {reason}"
            return Outcome(external_id=checkout, note=note)
        if status == "completed":
            problem = _mismatch(message, payment) or self._receipt_taken(session, message)
            if problem is not None:
                event = hold_for_review(session, payment.id, problem, ctx.clock)
                return Outcome(external_id=checkout, flagged=True, note=problem, events=(event,))
        settled = settle(
            session, payment=payment, status=status, result_code=message.result_code,
            result_desc=stk_message(message.result_code, message.result_desc),
            receipt=message.receipt, paid_at=message.transaction_date, clock=ctx.clock,
        )  # fmt: skip
        return Outcome(external_id=checkout, duplicate=not settled.moved, events=settled.events)

    @staticmethod
    def _receipt_taken(session: Session, message: StkCallback) -> str | None:
        if not message.receipt:
            return None
        taken = session.execute(
            select(Payment.id).where(Payment.receipt == message.receipt)
        ).scalar_one_or_none()
        if taken is None:
            return None
        return f"receipt {message.receipt} is already payment {taken}; needs a person"


handler = StkCallbackHandler()
