"""C2B (Paybill/Till) money: a confirmation becomes exactly one payment, placed on an
invoice, POS sale or account, or kept `unallocated` for a person to place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from pesadesk.core.clock import Clock
from pesadesk.core.errors import AlreadyAllocated, InvalidInput, PaymentNotFound
from pesadesk.core.events import Event, invoice_events
from pesadesk.core.statuses import PaymentStatus
from pesadesk.daraja.callbacks import C2BPayment
from pesadesk.db.models import Payment
from pesadesk.db.sql import Sql, db_time
from pesadesk.receivables import matching, placement
from pesadesk.receivables.customers import find_customer
from pesadesk.receivables.invoices import find_invoice


@dataclass(frozen=True)
class Recorded:
    payment_id: str
    duplicate: bool
    status: str | None = None
    note: str | None = None
    placement: placement.Placement | None = None
    pending: bool = False  # waiting for Daraja's confirmation (recorded now, or before)


def payment_id_for(trans_id: str) -> str:
    return f"PAY-C2B-{trans_id}"


INSERT_PAYMENT = Sql(
    """INSERT INTO payments (id, order_id, amount_cents, currency, method, status, source,
       account, shortcode, phone, msisdn_hash, payer_name, reference, provider_ref,
       receipt, customer_pk, invoice_pk, pos_sale_pk, unplaced_cents, needs_review,
       query_attempts, paid_at, verify_reason, next_query_at, created_at, updated_at)
       VALUES (:id, NULL, :amount, 'KES', 'mpesa', :status, 'c2b', :account, :shortcode,
       :phone, :hash, :name, :reference, :trans_id, :trans_id, :customer_pk, :invoice_pk,
       :sale_pk, 0, :no, 0, :paid_at, :verify, :ask_at, :now, :now)
       ON CONFLICT DO NOTHING RETURNING id"""
)
_PLACEMENT = Sql(
    "UPDATE payments SET status = :status, customer_pk = :customer_pk, "
    "invoice_pk = :invoice_pk, pos_sale_pk = :sale_pk, unplaced_cents = :unplaced, "
    "updated_at = :now WHERE id = :id"
)


# A TransTime further from now than this is not believed (a clock far off, or a forgery).
TRUST_TRANS_TIME = timedelta(days=62)


def business_time(trans_time: datetime | None, now: datetime) -> datetime:
    """When the customer paid, as M-Pesa says (TransTime, the statement's time), kept as
    `paid_at`: the time a payment counts at in date filters and stats, so a statement
    imported days later counts on the day the money came, not the day it was imported."""
    if trans_time is None or not now - TRUST_TRANS_TIME <= trans_time <= now + timedelta(days=1):
        return now
    return trans_time


def find_target(session: Session, txn: C2BPayment) -> matching.Target | None:
    """Where a confirmation's money goes: its account reference, else the payer's hash."""
    return matching.match(session, txn.bill_ref, txn.msisdn_hash)


def row_values(
    txn: C2BPayment, target: matching.Target | None, *, account: str, status: PaymentStatus,
    conn: Connection, now: datetime,
) -> dict[str, Any]:  # fmt: skip
    """The payment row's values, as the confirmation has them."""
    return {
        "id": payment_id_for(txn.trans_id), "amount": txn.amount_cents, "account": account,
        "shortcode": txn.shortcode, "status": status.value, "phone": txn.msisdn_as_sent,
        "hash": txn.msisdn_hash, "name": txn.payer_name, "reference": txn.bill_ref,
        "trans_id": txn.trans_id, "customer_pk": target.customer_pk if target else None,
        "invoice_pk": target.invoice_pk if target else None,
        "sale_pk": target.sale_pk if target else None, "no": False,
        "paid_at": db_time(conn, business_time(txn.trans_time, now)),
        "now": db_time(conn, now),
    }  # fmt: skip


def duplicate_of(session: Session, txn: C2BPayment) -> Recorded:
    """A confirmation whose TransID is known: the payment it already made."""
    existing = session.execute(
        select(Payment.id, Payment.amount_cents, Payment.status).where(
            Payment.receipt == txn.trans_id
        )
    ).first()
    if existing is None:  # pragma: no cover - the conflict was on this very receipt
        raise InvalidInput(f"TransID {txn.trans_id} clashes with another payment")
    pending = existing.status == PaymentStatus.PENDING_VERIFICATION.value
    note = None
    if existing.amount_cents != txn.amount_cents and not pending:
        note = f"repeat of {txn.trans_id} with a different amount; the first one stands"
    return Recorded(existing.id, duplicate=True, note=note, status=existing.status, pending=pending)


def store_placement(
    session: Session, payment_id: str, placed: placement.Placement, now: datetime
) -> None:
    conn = session.connection()
    _PLACEMENT.run(
        conn,
        {
            "status": placed.status.value,
            "customer_pk": placed.customer_pk,
            "invoice_pk": placed.invoice_pk,
            "sale_pk": placed.sale_pk,
            "unplaced": placed.unplaced_cents,
            "now": db_time(conn, now),
            "id": payment_id,
        },
    )


def allocate_payment(
    session: Session,
    *,
    payment_id: str,
    invoice_id: str | None,
    customer_id: str | None,
    clock: Clock,
) -> list[Event]:
    """Place an `unallocated` payment by hand; a second attempt is refused (409). Returns
    the invoice events of the placement.

    The status flip is one conditional UPDATE, so two people placing the same payment at
    once cannot both succeed.
    """
    if bool(invoice_id) == bool(customer_id):
        raise InvalidInput("give exactly one of invoice_id or customer_id")
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise PaymentNotFound(f"no payment {payment_id!r}")
    if invoice_id:
        invoice = find_invoice(session, invoice_id)
        target = matching.Target(
            customer_pk=invoice.customer_pk, invoice_pk=invoice.id, sale_pk=invoice.pos_sale_pk
        )
    else:
        customer = find_customer(session, customer_id or "")
        target = matching.Target(customer_pk=customer.id)
    now = clock.now()
    claimed = session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status == PaymentStatus.UNALLOCATED.value)
        .values(status=PaymentStatus.PROCESSING.value, updated_at=now)
        .returning(Payment.id)
    ).first()
    if not claimed:
        raise AlreadyAllocated(f"payment {payment_id} is {payment.status}, not unallocated")
    placed = placement.place(
        session,
        payment_id=payment_id,
        amount_cents=payment.amount_cents,
        target=target,
        clock=clock,
        from_suspense=True,
    )
    store_placement(session, payment_id, placed, now)
    return invoice_events(placed.invoices)
