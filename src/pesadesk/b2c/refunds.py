"""Money going out over B2C: refunds of payments and payouts (rewards, compensation).

The rules, in the order they are checked: B2C configured; the payment completed and
not fully refunded; its order not delivered; the amount within `refunds.min_amount`,
`refunds.max_amount` and what remains unrefunded; within the utility account's known
funds. What remains is enforced by the database: a refund reserves its amount on the
payment with one conditional UPDATE under a CHECK, so concurrent requests can never
together exceed the payment. Above `refunds.approval_threshold` a second admin must
approve. The B2C request is sent once; an unknown outcome is settled by Transaction
Status, never by paying again.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from pesadesk.b2c import balance
from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.core.errors import Conflict, Forbidden, InvalidInput, NotFound, PesadeskError
from pesadesk.core.money import format_kes, to_json_number
from pesadesk.core.phone import normalize_phone
from pesadesk.core.retry import backoff
from pesadesk.core.statuses import PaymentStatus
from pesadesk.daraja.callbacks import (
    parse_account_balance_result,
    parse_b2c_result,
    parse_b2c_timeout,
    parse_result,
    parse_transaction_status_result,
)
from pesadesk.daraja.client import DarajaClient
from pesadesk.daraja.errors import DarajaError, never_sent
from pesadesk.daraja.result_codes import b2c_message
from pesadesk.db.models import Customer, Order, Payment, Refund
from pesadesk.db.session import Database
from pesadesk.ledger import posting
from pesadesk.ledger import rules as ledger
from pesadesk.notify.admins import WHATSAPP_TEXT
from pesadesk.outbox import store as outbox
from pesadesk.pipeline.outcome import Outcome
from pesadesk.shared import audit, ids
from pesadesk.shared.apikeys import Principal
from pesadesk.stk.rules import OrderStatus
from pesadesk.stk.service import with_webhook_token

log = structlog.get_logger(__name__)

PENDING_APPROVAL = "pending_approval"
PROCESSING = "processing"
COMPLETED = "completed"
FAILED = "failed"
REJECTED = "rejected"
COMMANDS = ("BusinessPayment", "SalaryPayment", "PromotionPayment")
REFUNDABLE = (PaymentStatus.COMPLETED.value, PaymentStatus.PARTIALLY_REFUNDED.value)
CHECK_BASE_SECONDS = 30.0
FIRST_CHECK_AFTER = timedelta(minutes=10)  # no result by then (or a crash): ask
CHECK_CAP_SECONDS = 900.0


class B2CNotConfigured(PesadeskError):
    """M-Pesa B2C (refunds) not configured. Contact admin."""

    code = "b2c_not_configured"
    status = 503


class RefundNotFound(NotFound):
    """Raised when no refund has that id."""

    code = "refund_not_found"


class RefundNotAllowed(Conflict):
    """Raised when the payment cannot be refunded in its present state."""

    code = "refund_not_allowed"


class RefundAmountInvalid(InvalidInput):
    """Raised when a refund amount is outside the limits or above what remains."""

    code = "refund_amount_invalid"


class InsufficientFunds(Conflict):
    """Raised when the B2C utility account is known to hold less than the refund."""

    code = "insufficient_funds"


class RefundNotPending(Conflict):
    """Raised when a refund is no longer waiting for approval."""

    code = "refund_not_pending"


class SelfApproval(Forbidden):
    """Raised when the key that asked for a refund tries to approve it."""

    code = "self_approval"


@dataclass(frozen=True)
class NewRefund:
    payment_id: str
    amount_cents: int | None
    reason: str | None
    command_id: str | None


@dataclass(frozen=True)
class NewPayout:
    phone: str
    amount_cents: int
    command_id: str | None
    remarks: str | None


def originator_id(refund_id: str) -> str:
    """Our OriginatorConversationID: the refund id plus a random part, because refund ids
    restart with a new database and a sandbox shortcode is shared by every developer, and
    Daraja (and Transaction Status) must never take one refund for another."""
    return f"pesadesk-{refund_id}-{secrets.token_hex(4)}"


def require_b2c(settings: Settings) -> None:
    if not settings.payments.b2c.configured:
        raise B2CNotConfigured()


def _command(command_id: str | None) -> str:
    command = command_id or "BusinessPayment"
    if command not in COMMANDS:
        raise InvalidInput(f"command_id must be one of {', '.join(COMMANDS)}")
    return command


def _check_limits(amount: int, settings: Settings) -> None:
    low, high = settings.refunds.min_amount * 100, settings.refunds.max_amount * 100
    if amount < low:
        raise RefundAmountInvalid(f"{format_kes(amount)} is under the minimum {format_kes(low)}")
    if amount > high:
        raise RefundAmountInvalid(f"{format_kes(amount)} is over the maximum {format_kes(high)}")
    if amount % 100:
        raise RefundAmountInvalid("B2C pays whole shillings only")


def _check_funds(session: Session, amount: int) -> None:
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
    command: str, reason: str | None, who: Principal, settings: Settings, now: datetime,
) -> Refund:  # fmt: skip
    refund_id = ids.daily_id(session, "RF", now)
    needs_approval = amount > settings.refunds.approval_threshold * 100
    refund = Refund(
        refund_id=refund_id,
        kind=kind,
        payment_id=payment_id,
        phone=phone,
        amount_cents=amount,
        command_id=command,
        reason=(reason or "").strip()[:300] or None,
        status=PENDING_APPROVAL if needs_approval else PROCESSING,
        requested_by=who.name,
        requested_key_id=who.key_id,
        originator_conversation_id=originator_id(refund_id),
        checks=0,
        next_check_at=None if needs_approval else now + FIRST_CHECK_AFTER,
        created_at=now,
        updated_at=now,
    )
    session.add(refund)
    session.flush()
    audit.record(session, actor=who.name, action=f"{kind}.requested", subject=refund_id,
                 now=now, after=refund_view(refund))  # fmt: skip
    return refund


def request_refund(
    session: Session, *, new: NewRefund, who: Principal, settings: Settings, clock: Clock
) -> Refund:
    require_b2c(settings)
    payment = session.get(Payment, new.payment_id)
    if payment is None:
        raise NotFound(f"no payment {new.payment_id!r}")
    remaining = payment.amount_cents - payment.refund_reserved_cents
    if payment.status not in REFUNDABLE:
        raise RefundNotAllowed(
            f"payment {payment.id} is {payment.status}; only completed payments are refunded"
        )
    if remaining <= 0:
        raise RefundNotAllowed(f"payment {payment.id} is already fully refunded (or pending)")
    if payment.order_id is not None:
        status = session.execute(
            select(Order.status).where(Order.id == payment.order_id)
        ).scalar_one_or_none()
        if status == OrderStatus.DELIVERED.value:
            raise RefundNotAllowed(f"order {payment.order_id} was delivered; it is not refunded")
    amount = new.amount_cents if new.amount_cents is not None else remaining
    _check_limits(amount, settings)
    if amount > remaining:
        raise RefundAmountInvalid(
            f"{format_kes(amount)} is more than the {format_kes(remaining)} left to refund"
        )
    _check_funds(session, amount)
    if payment.customer_pk is not None:
        _check_credit(session, payment.customer_pk, amount)
    phone = _payer_phone(session, payment)
    command = _command(new.command_id)
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
        command=command, reason=new.reason, who=who, settings=settings, now=now,
    )  # fmt: skip


def request_payout(
    session: Session, *, new: NewPayout, who: Principal, settings: Settings, clock: Clock
) -> Refund:
    require_b2c(settings)
    _check_limits(new.amount_cents, settings)
    _check_funds(session, new.amount_cents)
    return _new_refund(
        session, kind="payout", payment_id=None, phone=normalize_phone(new.phone),
        amount=new.amount_cents, command=_command(new.command_id), reason=new.remarks,
        who=who, settings=settings, now=clock.now(),
    )  # fmt: skip


def find_refund(session: Session, refund_id: str, *, lock: bool = False) -> Refund:
    query = select(Refund).where(Refund.refund_id == refund_id.strip().upper())
    refund = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if refund is None:
        raise RefundNotFound(f"no refund {refund_id!r}")
    return refund


def _same_key(refund: Refund, who: Principal) -> bool:
    if refund.requested_key_id is not None or who.key_id is not None:
        return refund.requested_key_id == who.key_id
    return refund.requested_by == who.name


def decide(
    session: Session, *, refund_id: str, approve: bool, who: Principal, clock: Clock
) -> Refund:
    """A second admin approves (it is then sent) or rejects (its amount is released)."""
    refund = find_refund(session, refund_id, lock=True)
    if refund.status != PENDING_APPROVAL:
        raise RefundNotPending(f"refund {refund.refund_id} is {refund.status}")
    if _same_key(refund, who):
        raise SelfApproval("the key that asked for this refund cannot approve or reject it")
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
        _release(session, refund, now)
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
    _check_funds(session, refund.amount_cents)


def _release(session: Session, refund: Refund, now: datetime) -> None:
    if refund.payment_id is not None:
        session.execute(
            update(Payment)
            .where(Payment.id == refund.payment_id)
            .values(
                refund_reserved_cents=Payment.refund_reserved_cents - refund.amount_cents,
                updated_at=now,
            )
        )


async def send(
    *, db: Database, daraja: DarajaClient, settings: Settings, clock: Clock, refund_pk: int
) -> Refund:
    """Send the B2C request for a `processing` refund, once."""
    b2c = settings.payments.b2c
    with db.read() as session:
        refund = session.get(Refund, refund_pk)
        assert refund is not None
    remarks = (refund.reason or f"{refund.kind.title()} {refund.refund_id}")[:100]
    if len(remarks) < 2:
        remarks = f"Refund {refund.refund_id}"
    try:
        accepted = await daraja.b2c_payment(
            originator_conversation_id=refund.originator_conversation_id,
            phone=refund.phone,
            amount_cents=refund.amount_cents,
            remarks=remarks,
            command_id=refund.command_id,  # type: ignore[arg-type]
            occasion=refund.refund_id,
            result_url=with_webhook_token(b2c.callback_url, settings),
            timeout_url=with_webhook_token(b2c.timeout_url, settings),
        )
    except DarajaError as exc:
        if never_sent(exc):
            await asyncio.to_thread(_mark_not_sent, db, refund_pk, exc, clock)
        else:  # it may have gone out: ask, never pay again
            note = f"outcome unknown ({exc.code}); checking with Transaction Status"
            await asyncio.to_thread(_mark_unknown, db, refund_pk, note, clock)
    else:
        await asyncio.to_thread(_mark_sent, db, refund_pk, accepted.conversation_id, clock)
    with db.read() as session:
        sent = session.get(Refund, refund_pk)
        assert sent is not None
        return sent


def _mark_sent(db: Database, refund_pk: int, conversation_id: str | None, clock: Clock) -> None:
    now = clock.now()
    with db.write() as session:
        session.execute(
            update(Refund)
            .where(Refund.id == refund_pk)
            .values(
                conversation_id=conversation_id or None,
                next_check_at=now + timedelta(minutes=10),  # no result by then: ask
                updated_at=now,
            )
        )
        refund = session.get(Refund, refund_pk)
        assert refund is not None
        audit.record(session, actor="pesadesk", action=f"{refund.kind}.sent",
                     subject=refund.refund_id, now=now, after=refund_view(refund))  # fmt: skip


def _mark_unknown(db: Database, refund_pk: int, note: str, clock: Clock) -> None:
    now = clock.now()
    with db.write() as session:
        session.execute(
            update(Refund)
            .where(Refund.id == refund_pk)
            .values(result_desc=note[:300], next_check_at=now, updated_at=now)
        )


def _mark_not_sent(db: Database, refund_pk: int, exc: DarajaError, clock: Clock) -> None:
    """Daraja refused the request outright: nothing left, the amount is released."""
    now = clock.now()
    with db.write() as session:
        refund = session.execute(
            select(Refund).where(Refund.id == refund_pk).with_for_update()
        ).scalar_one()
        moved = session.execute(
            update(Refund)
            .where(Refund.id == refund_pk, Refund.status == PROCESSING)
            .values(status=FAILED, result_code=exc.error_code, updated_at=now,
                    result_desc=f"Daraja refused the request: {exc.message}"[:300])
            .returning(Refund.id)
        ).first()  # fmt: skip
        if moved is not None:
            _release(session, refund, now)
            session.refresh(refund)
            audit.record(session, actor="pesadesk", action=f"{refund.kind}.failed",
                         subject=refund.refund_id, now=now, after=refund_view(refund))  # fmt: skip


def settle(
    session: Session,
    *,
    refund: Refund,
    succeeded: bool,
    code: str | None,
    desc: str,
    receipt: str | None,
    settings: Settings,
    clock: Clock,
) -> bool:
    """Move a `processing` refund to completed or failed, exactly once."""
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
        return False
    before = refund_view(refund)
    if succeeded:
        _money_left(session, refund, now)
        text = (
            f"Your M-Pesa {refund.kind} of {format_kes(refund.amount_cents)} has been sent"
            f" (receipt {receipt or 'pending'})."
        )
        if settings.whatsapp.enabled:
            outbox.enqueue(session, kind=WHATSAPP_TEXT, dedupe_key=f"wa:refund:{refund.refund_id}",
                           payload={"to": refund.phone, "body": text}, now=now)  # fmt: skip
    else:
        _release(session, refund, now)
    session.refresh(refund)
    audit.record(session, actor="daraja", subject=refund.refund_id, now=now, before=before,
                 action=f"{refund.kind}.{'completed' if succeeded else 'failed'}",
                 after=refund_view(refund))  # fmt: skip
    return True


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


def _refund_for(session: Session, *keys: str | None) -> Refund | None:
    for key in keys:
        if not key:
            continue
        found = session.execute(
            select(Refund)
            .where(
                (Refund.originator_conversation_id == key)
                | (Refund.conversation_id == key)
                | (Refund.refund_id == key)
            )
            .with_for_update()
        ).scalar_one_or_none()
        if found is not None:
            return found
    return None


def process_result(session: Session, payload: Any, settings: Settings, clock: Clock) -> Outcome:
    """A `Result` at the B2C ResultURL: a B2C result, a Transaction Status result or an
    Account Balance result, told apart by their parameters."""
    result = parse_result(payload)
    params = result.parameters
    now = clock.now()
    if "AccountBalance" in params:
        found = parse_account_balance_result(payload).account(balance.UTILITY)
        if found is not None:
            balance.observe(
                session, available_cents=found.available_cents,
                current_cents=found.current_cents, source="account_balance", now=now,
            )  # fmt: skip
        return Outcome(external_id=result.conversation_id or None)
    if "TransactionStatus" in params or "Occasion" in result.reference_data:
        return _status_result(session, payload, settings, clock)
    b2c = parse_b2c_result(payload)
    if b2c.utility_available_cents is not None:
        balance.observe(session, available_cents=b2c.utility_available_cents,
                        current_cents=None, source="b2c_result", now=now)  # fmt: skip
    refund = _refund_for(session, b2c.originator_conversation_id, b2c.conversation_id)
    if refund is None:
        return Outcome(external_id=b2c.conversation_id or None, flagged=True,
                       note="no refund or payout has this conversation id")  # fmt: skip
    moved = settle(
        session, refund=refund, succeeded=b2c.succeeded, code=b2c.result_code,
        desc=b2c_message(b2c.result_code, b2c.result.result_desc), receipt=b2c.receipt,
        settings=settings, clock=clock,
    )  # fmt: skip
    return _settled_outcome(refund, moved, b2c.succeeded, b2c.conversation_id or None)


def _settled_outcome(refund: Refund, moved: bool, succeeded: bool, external: str | None) -> Outcome:
    """A repeat is a duplicate, unless it says money left for a refund we had closed as
    failed or rejected: that needs a person at once."""
    if moved or not succeeded or refund.status == COMPLETED:
        return Outcome(external_id=external, duplicate=not moved)
    note = f"Daraja says {refund.refund_id} was paid, but it is {refund.status}: check it"
    log.error("refund_paid_after_closing", refund_id=refund.refund_id, status=refund.status)
    return Outcome(external_id=external, flagged=True, note=note)


def _status_result(session: Session, payload: Any, settings: Settings, clock: Clock) -> Outcome:
    status = parse_transaction_status_result(payload)
    occasion = str(status.result.reference_data.get("Occasion") or "")
    refund = _refund_for(session, status.originator_conversation_id, status.conversation_id,
                         occasion or None)  # fmt: skip
    external = status.result.conversation_id or None
    if refund is None:
        return Outcome(external_id=external, flagged=True,
                       note="a Transaction Status result for nothing we sent")  # fmt: skip
    if not status.result.succeeded or not status.transaction_status:
        note = f"Transaction Status could not tell ({status.result.result_code}); asking again"
        return Outcome(external_id=external, note=note)
    succeeded = status.completed
    # Another amount means another transaction, whatever it says: settling ours on it, as
    # paid or as failed (which frees the amount to be refunded again), is never safe.
    if status.amount_cents is not None and status.amount_cents != refund.amount_cents:
        note = (
            f"Transaction Status names a {status.transaction_status} payment of"
            f" {format_kes(status.amount_cents)}"
            f" (receipt {status.receipt_no}), not {refund.refund_id}'s"
            f" {format_kes(refund.amount_cents)}: not settled, check it"
        )
        log.error("refund_status_mismatch", refund_id=refund.refund_id)
        return Outcome(external_id=external, flagged=True, note=note)
    moved = settle(
        session, refund=refund, succeeded=succeeded, code=status.result.result_code,
        desc=f"settled by Transaction Status: {status.transaction_status}",
        receipt=status.receipt_no if succeeded else None, settings=settings, clock=clock,
    )  # fmt: skip
    return _settled_outcome(refund, moved, succeeded, external)


def process_timeout(session: Session, payload: Any, settings: Settings, clock: Clock) -> Outcome:
    """A queue timeout is not a failure: the refund stays `processing` and is asked about."""
    timeout = parse_b2c_timeout(payload)
    refund = _refund_for(session, timeout.originator_conversation_id, timeout.conversation_id)
    if refund is None:
        return Outcome(external_id=timeout.conversation_id or None, flagged=True,
                       note="no refund or payout has this conversation id")  # fmt: skip
    if refund.status == PROCESSING:
        now = clock.now()
        session.execute(
            update(Refund)
            .where(Refund.id == refund.id)
            .values(next_check_at=now, updated_at=now,
                    result_desc="B2C queue timeout; checking with Transaction Status")
        )  # fmt: skip
    return Outcome(external_id=timeout.conversation_id or None)


def _due_checks(db: Database, clock: Clock, limit: int) -> list[tuple[int, str, str]]:
    now = clock.now()
    with db.write() as session:
        rows = session.execute(
            select(Refund.id, Refund.originator_conversation_id, Refund.refund_id, Refund.checks)
            .where(Refund.status == PROCESSING, Refund.next_check_at <= now)
            .order_by(Refund.next_check_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for pk, _, _, checks in rows:
            delay = backoff(
                checks + 1, base_seconds=CHECK_BASE_SECONDS, cap_seconds=CHECK_CAP_SECONDS
            )
            session.execute(
                update(Refund)
                .where(Refund.id == pk)
                .values(next_check_at=now + delay, checks=checks + 1)
            )
    return [(pk, originator, refund_id) for pk, originator, refund_id, _ in rows]


async def check_unknown(
    *, db: Database, daraja: DarajaClient, settings: Settings, clock: Clock, limit: int = 20
) -> int:
    """Ask Transaction Status about refunds whose outcome is unknown; the answer comes
    back at the ResultURL and settles them there."""
    b2c = settings.payments.b2c
    asked = 0
    for _, originator, refund_id in await asyncio.to_thread(_due_checks, db, clock, limit):
        try:
            await daraja.transaction_status(
                originator_conversation_id=originator,
                occasion=refund_id,
                result_url=with_webhook_token(b2c.callback_url, settings),
                timeout_url=with_webhook_token(b2c.timeout_url, settings),
            )
            asked += 1
        except DarajaError as exc:
            log.warning("transaction_status_failed", refund_id=refund_id, error=exc.code)
    return asked


def refund_view(refund: Refund) -> dict[str, Any]:
    return {
        "refund_id": refund.refund_id,
        "kind": refund.kind,
        "payment_id": refund.payment_id,
        "phone": refund.phone,
        "amount": to_json_number(refund.amount_cents),
        "command_id": refund.command_id,
        "reason": refund.reason,
        "status": refund.status,
        "requested_by": refund.requested_by,
        "decided_by": refund.decided_by,
        "originator_conversation_id": refund.originator_conversation_id,
        "conversation_id": refund.conversation_id,
        "receipt": refund.receipt,
        "result_code": refund.result_code,
        "result_desc": refund.result_desc,
        "created_at": refund.created_at.isoformat() if refund.created_at else None,
        "updated_at": refund.updated_at.isoformat() if refund.updated_at else None,
    }
