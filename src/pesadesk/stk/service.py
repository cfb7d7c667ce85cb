"""Orders paid by STK Push: send the prompt once, settle by callback or by STK Query.

The money request is never sent twice. A payment moves out of `processing` by one
conditional UPDATE, so a callback, its duplicates and the sweeper's query can race and
only the first one settles it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import structlog
from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.core.errors import Conflict, NeedsReview
from pesadesk.core.money import format_kes
from pesadesk.core.phone import normalize_phone
from pesadesk.core.retry import backoff
from pesadesk.core.statuses import PaymentStatus
from pesadesk.daraja.callbacks import parse_stk_callback
from pesadesk.daraja.client import DarajaClient
from pesadesk.daraja.errors import DarajaError, TransactionNotFound, never_sent
from pesadesk.daraja.result_codes import stk_message, stk_status
from pesadesk.db.dml import insert_ignore
from pesadesk.db.models import Order, Payment
from pesadesk.db.session import Database
from pesadesk.ledger import posting
from pesadesk.ledger import rules as ledger
from pesadesk.notify import templates
from pesadesk.notify.admins import notify_admins
from pesadesk.pipeline.outcome import Outcome
from pesadesk.shared import idempotency
from pesadesk.stk.orders import confirm_by_payment, find_order
from pesadesk.stk.rules import OrderStatus

log = structlog.get_logger(__name__)

QUERY_BASE_SECONDS = 30.0
QUERY_CAP_SECONDS = 600.0
NOT_FOUND_GIVE_UP = 3


class PaymentInProgress(Conflict):
    """Raised when the order already has a PIN prompt waiting for the customer."""

    code = "payment_in_progress"


class OrderNotPayable(Conflict):
    """Raised when the order is not pending, so there is nothing to pay."""

    code = "order_not_payable"


def with_webhook_token(url: str, settings: Settings) -> str:
    """Every callback URL we give Daraja carries `?token=` when one is configured."""
    token = settings.security.webhook_token
    if token is None or not token.get_secret_value():
        return url
    parts = urlsplit(url)
    query = (parts.query + "&" if parts.query else "") + urlencode(
        {"token": token.get_secret_value()}
    )
    return urlunsplit(parts._replace(query=query))


@dataclass(frozen=True)
class PayResult:
    status_code: int
    body: dict[str, Any]


def _open_payment(
    db: Database,
    *,
    order_id: int,
    phone: str | None,
    idem: tuple[str, str] | None,
    clock: Clock,
    query_after: int,
) -> PayResult | Payment:
    """Claim the idempotency key and write the `processing` payment in one transaction."""
    now = clock.now()
    with db.write() as session:
        if idem is not None:
            replay = idempotency.claim(
                session, scope=f"order-pay:{order_id}", key=idem[0], digest=idem[1], now=now
            )
            if replay is not None:
                return PayResult(replay.status_code, replay.body)
        order = find_order(session, order_id, lock=True)
        if order.status != OrderStatus.PENDING.value:
            raise OrderNotPayable(f"order {order_id} is {order.status}; only pending orders pay")
        payer = normalize_phone(phone) if phone else order.customer_phone
        table = Payment.__table__
        assert isinstance(table, Table)
        for offset in range(60):
            payment_id = f"PAY-{order_id}-{int(now.timestamp()) + offset}"
            with session.begin_nested():
                inserted = insert_ignore(
                    session,
                    table,
                    {
                        "id": payment_id,
                        "order_id": order_id,
                        "amount_cents": order.amount_cents,
                        "status": PaymentStatus.PROCESSING.value,
                        "source": "stk",
                        "phone": payer,
                        "reference": f"Order #{order_id}",
                        # a deadline even before Daraja answers: a crash in between must
                        # not leave the payment processing for ever
                        "next_query_at": now + timedelta(seconds=query_after),
                        "created_at": now,
                        "updated_at": now,
                    },
                    returning=table.c.id,
                )
            if inserted is not None:
                break
            if session.execute(
                select(Payment.id).where(
                    Payment.order_id == order_id,
                    Payment.status == PaymentStatus.PROCESSING.value,
                )
            ).first():
                raise PaymentInProgress(f"order {order_id} already has a payment in progress")
        else:  # pragma: no cover - sixty payments for one order in one second
            raise PaymentInProgress("too many payment attempts; try again shortly")
        payment = session.get(Payment, payment_id)
        assert payment is not None
        return payment


async def pay_order(
    *,
    db: Database,
    daraja: DarajaClient,
    settings: Settings,
    clock: Clock,
    order_id: int,
    phone: str | None,
    idempotency_key: str | None,
) -> PayResult:
    """Send the STK Push for an order; 202 with the CheckoutRequestID once Daraja accepts."""
    digest = idempotency.request_hash({"order": order_id, "phone": phone})
    idem = (idempotency_key, digest) if idempotency_key else None
    opened = await asyncio.to_thread(
        _open_payment,
        db,
        order_id=order_id,
        phone=phone,
        idem=idem,
        clock=clock,
        query_after=settings.payments.mpesa.query_after_seconds,
    )
    if isinstance(opened, PayResult):
        return opened
    payment = opened
    mpesa = settings.payments.mpesa
    try:
        answer = await daraja.stk_push(
            phone=payment.phone or "",
            amount_cents=payment.amount_cents,
            account_reference=f"Order{order_id}"[:12],
            description=f"Order {order_id}"[:13],
            callback_url=with_webhook_token(mpesa.callback_url, settings),
        )
    except DarajaError as exc:
        unknown = not never_sent(exc)
        if unknown:  # the prompt may be on the phone: no second one until it has expired
            reason = (
                "Daraja's answer was lost; the prompt may have reached the customer. The "
                "payment stays open until its deadline and is then closed for review."
            )
            status = PaymentStatus.PROCESSING.value
        else:
            reason = f"Daraja refused the STK Push: {exc.message}"
            status = PaymentStatus.FAILED.value
        result = PayResult(
            exc.status,
            {"error": reason, "code": exc.code, "payment_id": payment.id, "status": status},
        )
        await asyncio.to_thread(
            _close_failed, db, payment.id, reason, idem, order_id, result, clock, unknown
        )
        log.warning("stk_push_failed", order_id=order_id, error=exc.code, unknown=unknown)
        return result
    result = PayResult(
        202,
        {
            "payment_id": payment.id,
            "order_id": order_id,
            "status": PaymentStatus.PROCESSING.value,
            "provider_ref": answer.checkout_request_id,
            "amount": payment.amount_cents / 100,
            "message": answer.customer_message or "PIN prompt sent",
        },
    )
    await asyncio.to_thread(
        _record_sent,
        db,
        payment.id,
        answer.checkout_request_id,
        answer.merchant_request_id,
        idem,
        order_id,
        result,
        clock,
        mpesa.query_after_seconds,
    )
    return result


def _record_sent(
    db: Database,
    payment_id: str,
    checkout: str,
    merchant: str,
    idem: tuple[str, str] | None,
    order_id: int,
    result: PayResult,
    clock: Clock,
    query_after: int,
) -> None:
    now = clock.now()
    with db.write() as session:
        session.execute(
            update(Payment)
            .where(Payment.id == payment_id)
            .values(
                provider_ref=checkout,
                merchant_request_id=merchant,
                next_query_at=now + timedelta(seconds=query_after),
                updated_at=now,
            )
        )
        _remember(session, idem, order_id, result)


def _remember(
    session: Session, idem: tuple[str, str] | None, order_id: int, result: PayResult
) -> None:
    """Store the answer under the request's Idempotency-Key, if it had one."""
    if idem is not None:
        idempotency.complete(
            session,
            scope=f"order-pay:{order_id}",
            key=idem[0],
            status_code=result.status_code,
            body=result.body,
        )


def _close_failed(
    db: Database,
    payment_id: str,
    reason: str,
    idem: tuple[str, str] | None,
    order_id: int,
    result: PayResult,
    clock: Clock,
    unknown: bool,
) -> None:
    now = clock.now()
    values: dict[str, Any] = {"result_desc": reason[:300], "updated_at": now}
    if unknown:
        values["needs_review"] = True
    else:
        values["status"] = PaymentStatus.FAILED.value
    with db.write() as session:
        session.execute(
            update(Payment)
            .where(Payment.id == payment_id, Payment.status == PaymentStatus.PROCESSING.value)
            .values(**values)
        )
        _remember(session, idem, order_id, result)


@dataclass(frozen=True)
class Settled:
    payment_id: str
    status: str
    moved: bool


def settle(
    session: Session,
    *,
    payment: Payment,
    status: str,
    result_code: str | None,
    result_desc: str,
    receipt: str | None,
    paid_at: datetime | None,
    settings: Settings,
    clock: Clock,
) -> Settled:
    """Move a `processing` payment to its final status, exactly once, with its effects:
    ledger rows and the order confirmed on success, admin messages either way."""
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
        return Settled(payment.id, payment.status, moved=False)
    order = session.get(Order, payment.order_id) if payment.order_id is not None else None
    if status == PaymentStatus.COMPLETED.value:
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
        if order is not None:
            if confirm_by_payment(session, order_id=order.id, clock=clock):
                text = templates.order_paid(
                    order_id=order.id,
                    amount_cents=payment.amount_cents,
                    receipt=receipt,
                    phone=payment.phone or order.customer_phone,
                    location=order.delivery_location,
                )
            else:  # cancelled while the prompt was open: the money needs a decision
                session.execute(
                    update(Payment).where(Payment.id == payment.id).values(needs_review=True)
                )
                text = templates.paid_but_not_pending(
                    order_id=order.id,
                    amount_cents=payment.amount_cents,
                    receipt=receipt,
                    status=order.status,
                )
            notify_admins(
                session, settings=settings, event="paid", subject=payment.id, text=text, now=now
            )
    elif order is not None:
        text = templates.order_payment_failed(
            order_id=order.id, amount_cents=payment.amount_cents, status=status, reason=result_desc
        )
        notify_admins(
            session, settings=settings, event="unpaid", subject=payment.id, text=text, now=now
        )
    return Settled(payment.id, status, moved=True)


def _hold_for_review(session: Session, payment_id: str, note: str, clock: Clock) -> None:
    """Credit nothing and free the order: the payment is closed as failed, marked for a
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


def process_callback(session: Session, payload: Any, settings: Settings, clock: Clock) -> Outcome:
    """The STK callback: unknown or mismatched ones are flagged and credit nothing."""
    callback = parse_stk_callback(payload)
    checkout = callback.checkout_request_id
    payment = session.execute(
        select(Payment).where(Payment.provider_ref == checkout).with_for_update()
    ).scalar_one_or_none()
    if payment is None:  # kept unprocessed: it is re-run if the push's answer comes later
        raise NeedsReview(f"unknown CheckoutRequestID {checkout}")
    if payment.status != PaymentStatus.PROCESSING.value:
        return Outcome(external_id=checkout, duplicate=True)
    status = stk_status(callback.result_code)
    if status == "completed" and callback.amount_cents != payment.amount_cents:
        given = "missing" if callback.amount_cents is None else format_kes(callback.amount_cents)
        note = (
            f"amount {given} differs from the {format_kes(payment.amount_cents)} asked;"
            " not credited, needs a person"
        )
        _hold_for_review(session, payment.id, note, clock)
        return Outcome(external_id=checkout, flagged=True, note=note)
    if status == "completed" and callback.receipt:
        taken = session.execute(
            select(Payment.id).where(Payment.receipt == callback.receipt)
        ).scalar_one_or_none()
        if taken is not None:
            note = f"receipt {callback.receipt} is already payment {taken}; needs a person"
            _hold_for_review(session, payment.id, note, clock)
            return Outcome(external_id=checkout, flagged=True, note=note)
    settled = settle(
        session,
        payment=payment,
        status=status,
        result_code=callback.result_code,
        result_desc=stk_message(callback.result_code, callback.result_desc),
        receipt=callback.receipt,
        paid_at=callback.transaction_date,
        settings=settings,
        clock=clock,
    )
    return Outcome(external_id=checkout, duplicate=not settled.moved)


@dataclass(frozen=True)
class DueQuery:
    payment_id: str
    checkout: str
    attempts: int


def _claim_due(db: Database, clock: Clock, limit: int) -> list[DueQuery]:
    now = clock.now()
    with db.write() as session:
        # Past the deadline without a CheckoutRequestID (Daraja's answer was lost or the
        # process died before keeping it): nothing to query, so close it for a person.
        session.execute(
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
        )
        rows = session.execute(
            select(Payment.id, Payment.provider_ref, Payment.query_attempts)
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
        for payment_id, checkout, attempts in rows:
            delay = backoff(
                attempts + 1, base_seconds=QUERY_BASE_SECONDS, cap_seconds=QUERY_CAP_SECONDS
            )
            session.execute(
                update(Payment)
                .where(Payment.id == payment_id)
                .values(next_query_at=now + delay, query_attempts=attempts + 1)
            )
            claimed.append(DueQuery(payment_id, str(checkout), attempts + 1))
    return claimed


def _settle_from_query(
    db: Database, due: DueQuery, status: str, code: str | None, desc: str,
    settings: Settings, clock: Clock,
) -> bool:  # fmt: skip
    with db.write() as session:
        payment = session.execute(
            select(Payment).where(Payment.id == due.payment_id).with_for_update()
        ).scalar_one()
        return settle(
            session,
            payment=payment,
            status=status,
            result_code=code,
            result_desc=desc,
            receipt=None,
            paid_at=None,
            settings=settings,
            clock=clock,
        ).moved


async def sweep(
    *, db: Database, daraja: DarajaClient, settings: Settings, clock: Clock, limit: int = 20
) -> int:
    """Ask STK Query about payments still `processing` past `query_after_seconds`.

    A pending answer waits for the next round (capped backoff); a final one settles the
    payment as the callback would have. Returns how many were settled.
    """
    settled = 0
    for due in await asyncio.to_thread(_claim_due, db, clock, limit):
        started = time.perf_counter()
        try:
            answer = await daraja.stk_query(due.checkout)
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
