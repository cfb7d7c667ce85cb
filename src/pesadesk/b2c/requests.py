"""Asking for money to go out: a refund of a payment or a payout, checked against the
rules and reserved on the payment, waiting for approval above the threshold.

What remains refundable is enforced by the database: a refund reserves its amount on the
payment with one conditional UPDATE under a CHECK, so concurrent requests can never
together exceed the payment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pesadesk.b2c import balance
from pesadesk.b2c.rules import (
    FIRST_CHECK_AFTER,
    PENDING_APPROVAL,
    PROCESSING,
    REFUNDABLE,
    B2CNotConfigured,
    InsufficientFunds,
    NewPayout,
    NewRefund,
    RefundAmountInvalid,
    RefundNotAllowed,
    RefundNotFound,
    check_limits,
    command,
    needs_approval,
    originator_id,
    remaining,
)
from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.core.errors import NotFound, PesadeskError
from pesadesk.core.money import format_kes
from pesadesk.core.phone import normalize_phone
from pesadesk.db.models import Customer, Order, Payment, Refund
from pesadesk.ledger import posting
from pesadesk.payments.views import refund_view
from pesadesk.shared import audit, ids
from pesadesk.shared.apikeys import Principal
from pesadesk.stk.rules import OrderStatus


def require_b2c(settings: Settings) -> None:
    if not settings.payments.b2c.configured:
        raise B2CNotConfigured()


def _limits(amount: int, settings: Settings) -> None:
    check_limits(
        amount,
        min_shillings=settings.refunds.min_amount,
        max_shillings=settings.refunds.max_amount,
    )


def check_funds(session: Session, amount: int) -> None:
    known = balance.latest(session)
    if known is not None and amount > known.available_cents:
        raise InsufficientFunds(
            f"the B2C utility account has {format_kes(known.available_cents)} available "
            f"(as of {known.observed_at:%Y-%m-%d %H:%M} UTC); top it up first"
        )


def _check_credit(session: Session, customer_pk: int, amount: int) -> None:
    """Money placed on a customer's account can be refunded only from credit they still
    hold; what paid invoices stays on them (reopen or credit the invoice first)."""
    credit = posting.unapplied_credit(session, customer_pk)
    if amount > credit:
        raise RefundNotAllowed(
            f"the customer holds {format_kes(credit)} of credit; the rest of this payment "
            "settled invoices, so it cannot be refunded without reopening them"
        )


def _payer_phone(session: Session, payment: Payment) -> str:
    """Where a refund goes: the number that paid, or the customer's own number (C2B
    callbacks carry the payer's number hashed or masked, never usable)."""
    if payment.phone:
        try:
            return normalize_phone(payment.phone)
        except PesadeskError:
            pass
    if payment.customer_pk is not None:
        phone = session.execute(
            select(Customer.phone).where(Customer.id == payment.customer_pk)
        ).scalar_one_or_none()
        if phone:
            return phone
    raise RefundNotAllowed(
        "the payer's number is not known (M-Pesa sent it hashed); refund this one by hand"
    )


def _new_refund(
    session: Session, *, kind: str, payment_id: str | None, phone: str, amount: int,
    command_id: str, reason: str | None, who: Principal, settings: Settings, now: datetime,
    account: str | None = None, approval: bool = False,
) -> Refund:  # fmt: skip
    refund_id = ids.daily_id(session, "RF", now)
    waits = approval or needs_approval(
        amount, threshold_shillings=settings.refunds.approval_threshold
    )
    refund = Refund(
        refund_id=refund_id,
        kind=kind,
        account=account or "default",
        payment_id=payment_id,
        phone=phone,
        amount_cents=amount,
        command_id=command_id,
        reason=(reason or "").strip()[:300] or None,
        status=PENDING_APPROVAL if waits else PROCESSING,
        requested_by=who.name,
        requested_owner=who.owner,
        requested_key_id=who.key_id,
        originator_conversation_id=originator_id(refund_id),
        checks=0,
        next_check_at=None if waits else now + FIRST_CHECK_AFTER,
        created_at=now,
        updated_at=now,
    )
    session.add(refund)
    session.flush()
    audit.record(session, actor=who.name, action=f"{kind}.requested", subject=refund_id,
                 now=now, after=refund_view(refund))  # fmt: skip
    return refund


def request_refund(
    session: Session, *, new: NewRefund, who: Principal, settings: Settings, clock: Clock,
    approval: bool = False,
) -> Refund:  # fmt: skip
    """A refund of a payment, reserved on it; `approval`: waits for a person whatever the
    amount (a customer's own request)."""
    require_b2c(settings)
    payment = session.get(Payment, new.payment_id)
    if payment is None:
        raise NotFound(f"no payment {new.payment_id!r}")
    left = remaining(payment.amount_cents, payment.refund_reserved_cents)
    if payment.status not in REFUNDABLE:
        raise RefundNotAllowed(
            f"payment {payment.id} is {payment.status}; only completed payments are refunded"
        )
    if left <= 0:
        raise RefundNotAllowed(f"payment {payment.id} is already fully refunded (or pending)")
    if payment.order_id is not None:
        status = session.execute(
            select(Order.status).where(Order.id == payment.order_id)
        ).scalar_one_or_none()
        if status == OrderStatus.DELIVERED.value:
            raise RefundNotAllowed(f"order {payment.order_id} was delivered; it is not refunded")
    amount = new.amount_cents if new.amount_cents is not None else left
    _limits(amount, settings)
    if amount > left:
        raise RefundAmountInvalid(
            f"{format_kes(amount)} is more than the {format_kes(left)} left to refund"
        )
    check_funds(session, amount)
    if payment.customer_pk is not None:
        _check_credit(session, payment.customer_pk, amount)
    phone = _payer_phone(session, payment)
    chosen = command(new.command_id)
    now = clock.now()
    reserved = session.execute(
        update(Payment)
        .where(
            Payment.id == payment.id,
            Payment.refund_reserved_cents + amount <= Payment.amount_cents,
        )
        .values(refund_reserved_cents=Payment.refund_reserved_cents + amount, updated_at=now)
        .returning(Payment.id)
    ).first()
    if reserved is None:  # another refund took it first
        raise RefundAmountInvalid("other refunds of this payment leave less than that")
    return _new_refund(
        session, kind="refund", payment_id=payment.id, phone=phone, amount=amount,
        command_id=chosen, reason=new.reason, who=who, settings=settings, now=now,
        account=payment.account, approval=approval,
    )  # fmt: skip


def request_payout(
    session: Session, *, new: NewPayout, who: Principal, settings: Settings, clock: Clock
) -> Refund:
    require_b2c(settings)
    _limits(new.amount_cents, settings)
    check_funds(session, new.amount_cents)
    return _new_refund(
        session, kind="payout", payment_id=None, phone=normalize_phone(new.phone),
        amount=new.amount_cents, command_id=command(new.command_id), reason=new.remarks,
        who=who, settings=settings, now=clock.now(),
    )  # fmt: skip


def find_refund(session: Session, refund_id: str, *, lock: bool = False) -> Refund:
    query = select(Refund).where(Refund.refund_id == refund_id.strip().upper())
    refund = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if refund is None:
        raise RefundNotFound(f"no refund {refund_id!r}")
    return refund


def release(session: Session, refund: Refund, now: datetime) -> None:
    """Give a refund's reserved amount back to its payment (rejected, refused, failed)."""
    if refund.payment_id is not None:
        session.execute(
            update(Payment)
            .where(Payment.id == refund.payment_id)
            .values(
                refund_reserved_cents=Payment.refund_reserved_cents - refund.amount_cents,
                updated_at=now,
            )
        )
