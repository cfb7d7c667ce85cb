"""`/pay`: send an order's STK Push (the PIN prompt) once.

The payment row is written `processing` before Daraja is asked, with a deadline, so a
crash in between cannot leave it open for ever; a second prompt while one is open is
refused by a partial unique index. Daraja's answer decides what happens next: accepted
(the callback or STK Query settles it), refused outright (closed `failed`), or unknown
(the prompt may be on the phone: it stays open for STK Query, never sent again).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from pesadesk.accounts.clients import AccountClients
from pesadesk.accounts.registry import CollectionAccount
from pesadesk.accounts.urls import with_webhook_token
from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.core.errors import Conflict
from pesadesk.core.phone import normalize_phone
from pesadesk.core.statuses import PaymentStatus
from pesadesk.daraja.errors import DarajaError, never_sent
from pesadesk.db.dml import insert_ignore
from pesadesk.db.models import Payment
from pesadesk.db.session import Database
from pesadesk.pipeline.rerun import rerun_flagged
from pesadesk.pipeline.run import Pipeline
from pesadesk.shared import idempotency
from pesadesk.stk.orders import find_order
from pesadesk.stk.rules import OrderStatus

log = structlog.get_logger(__name__)


class PaymentInProgress(Conflict):
    """Raised when the order already has a PIN prompt waiting for the customer."""

    code = "payment_in_progress"


class OrderNotPayable(Conflict):
    """Raised when the order is not pending, so there is nothing to pay."""

    code = "order_not_payable"


@dataclass(frozen=True)
class PayOutcome:
    """What `/pay` concluded. `accepted`: the prompt went out. Otherwise `error_code` is
    Daraja's refusal (`unknown` False: the payment is closed) or a lost answer (`unknown`
    True: the payment stays open until STK Query or its deadline settles it)."""

    payment_id: str
    order_id: int
    status: str
    amount_cents: int
    accepted: bool
    provider_ref: str | None = None
    message: str = ""
    error_code: str | None = None
    unknown: bool = False

    def stored(self) -> dict[str, Any]:
        return asdict(self)


def _insert_payment(session: Session, order_id: int, values: dict[str, Any]) -> str:
    """`PAY-{order}-{unix}`, one second later on a clash; a second open prompt is refused."""
    table = Payment.__table__
    assert isinstance(table, Table)
    now = values["created_at"]
    for offset in range(60):
        payment_id = f"PAY-{order_id}-{int(now.timestamp()) + offset}"
        with session.begin_nested():
            inserted = insert_ignore(
                session, table, {**values, "id": payment_id}, returning=table.c.id
            )
        if inserted is not None:
            return payment_id
        if session.execute(
            select(Payment.id).where(
                Payment.order_id == order_id, Payment.status == PaymentStatus.PROCESSING.value
            )
        ).first():
            raise PaymentInProgress(f"order {order_id} already has a payment in progress")
    raise PaymentInProgress("too many payment attempts; try again shortly")  # pragma: no cover


def _open_payment(
    db: Database, *, order_id: int, phone: str | None, held: idempotency.Claim | None,
    clock: Clock, query_after: int, account: CollectionAccount,
) -> PayOutcome | Payment:  # fmt: skip
    """Claim the idempotency key and write the `processing` payment in one transaction."""
    now = clock.now()
    with db.write() as session:
        replay = idempotency.claim(session, held, now=now)
        if replay is not None:
            return PayOutcome(**replay)
        order = find_order(session, order_id, lock=True)
        if order.status != OrderStatus.PENDING.value:
            raise OrderNotPayable(f"order {order_id} is {order.status}; only pending orders pay")
        payment_id = _insert_payment(
            session,
            order_id,
            {
                "order_id": order_id,
                "amount_cents": order.amount_cents,
                "status": PaymentStatus.PROCESSING.value,
                "source": "stk",
                "account": account.name,
                "shortcode": account.stk.shortcode,
                "phone": normalize_phone(phone) if phone else order.customer_phone,
                "reference": f"Order #{order_id}",
                # a deadline even before Daraja answers (see the module docstring)
                "next_query_at": now + timedelta(seconds=query_after),
                "created_at": now,
                "updated_at": now,
            },
        )
        payment = session.get(Payment, payment_id)
        assert payment is not None
        return payment


async def pay_order(
    *, db: Database, clients: AccountClients, settings: Settings, clock: Clock, order_id: int,
    phone: str | None, held: idempotency.Claim | None, account: str | None = None,
) -> PayOutcome:  # fmt: skip
    """Send the STK Push for an order through a collection account (the default one
    without a name), or replay the first answer to this Idempotency-Key."""
    mpesa = settings.payments.mpesa
    chosen = clients.account(account)
    daraja = clients.stk(chosen.name)
    opened = await asyncio.to_thread(
        _open_payment, db=db, order_id=order_id, phone=phone, held=held, clock=clock,
        query_after=mpesa.query_after_seconds, account=chosen,
    )  # fmt: skip
    if isinstance(opened, PayOutcome):
        return opened
    payment = opened
    try:
        answer = await daraja.stk_push(
            phone=payment.phone or "",
            amount_cents=payment.amount_cents,
            account_reference=f"Order{order_id}"[:12],
            description=f"Order {order_id}"[:13],
            callback_url=with_webhook_token(mpesa.callback_url, settings),
        )
    except DarajaError as exc:
        outcome, merchant = _refused(payment, order_id, exc), None
        log.warning("stk_push_failed", order_id=order_id, error=exc.code, unknown=outcome.unknown)
    else:
        merchant = answer.merchant_request_id
        outcome = PayOutcome(
            payment_id=payment.id, order_id=order_id, status=PaymentStatus.PROCESSING.value,
            amount_cents=payment.amount_cents, accepted=True,
            provider_ref=answer.checkout_request_id,
            message=answer.customer_message or "PIN prompt sent",
        )  # fmt: skip
    await asyncio.to_thread(
        _remember, db, payment.id, outcome, merchant, held, clock, mpesa.query_after_seconds
    )
    if outcome.provider_ref:  # a callback that beat Daraja's answer here is applied now
        await asyncio.to_thread(
            rerun_flagged, Pipeline(db, settings, clock), source="stk",
            external_id=outcome.provider_ref,
        )  # fmt: skip
    return outcome


def _refused(payment: Payment, order_id: int, exc: DarajaError) -> PayOutcome:
    unknown = not never_sent(exc)
    if unknown:  # the prompt may be on the phone: no second one until it has expired
        reason = (
            "Daraja's answer was lost; the prompt may have reached the customer. The "
            "payment stays open until its deadline and is then closed for review."
        )
    else:
        reason = f"Daraja refused the STK Push: {exc.message}"
    return PayOutcome(
        payment_id=payment.id, order_id=order_id, amount_cents=payment.amount_cents,
        status=(PaymentStatus.PROCESSING if unknown else PaymentStatus.FAILED).value,
        accepted=False, message=reason, error_code=exc.code, unknown=unknown,
    )  # fmt: skip


def _remember(
    db: Database, payment_id: str, outcome: PayOutcome, merchant: str | None,
    held: idempotency.Claim | None, clock: Clock, query_after: int,
) -> None:  # fmt: skip
    """Keep Daraja's answer on the payment, and the outcome under the request's key."""
    now = clock.now()
    values: dict[str, Any] = {"updated_at": now}
    if outcome.accepted:
        values.update(provider_ref=outcome.provider_ref, merchant_request_id=merchant,
                      next_query_at=now + timedelta(seconds=query_after))  # fmt: skip
    elif outcome.unknown:
        values.update(result_desc=outcome.message[:300], needs_review=True)
    else:
        values.update(result_desc=outcome.message[:300], status=PaymentStatus.FAILED.value)
    query = update(Payment).where(Payment.id == payment_id)
    if not outcome.accepted:  # only an open payment is closed or marked
        query = query.where(Payment.status == PaymentStatus.PROCESSING.value)
    with db.write() as session:
        session.execute(query.values(**values))
        idempotency.complete(session, held, outcome.stored(), now=now)
