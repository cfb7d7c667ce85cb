"""Placing money that arrived: find what it is for, then spread it and post it.

Lock order, the same everywhere, so two payments cannot deadlock: sale, then
customer (or, for a walk-in sale's invoice, that invoice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pesadesk.core.clock import Clock
from pesadesk.core.statuses import InvoiceStatus, PaymentStatus, SaleStatus, invoice_status
from pesadesk.db.models import Customer, Invoice, PosSale
from pesadesk.db.sql import Sql, db_time
from pesadesk.ledger import posting
from pesadesk.ledger import rules as ledger
from pesadesk.receivables.invoices import issue_invoice
from pesadesk.receivables.rules import Allocation, allocate
from pesadesk.shared import ids


@dataclass(frozen=True)
class Target:
    """Where money should go: an invoice first, else a customer's account."""

    customer_pk: int | None
    invoice_pk: int | None = None
    sale_pk: int | None = None


@dataclass(frozen=True)
class Placement:
    status: PaymentStatus
    customer_pk: int | None
    invoice_pk: int | None
    sale_pk: int | None
    unplaced_cents: int
    invoices: tuple[tuple[int, InvoiceStatus], ...] = ()


_BY_INVOICE = Sql("SELECT id, customer_pk, pos_sale_pk FROM invoices WHERE invoice_id = :key")
_BY_SALE = Sql("SELECT id, customer_pk FROM pos_sales WHERE pos_id = :key")
_BY_CUSTOMER = Sql("SELECT id FROM customers WHERE customer_id = :key")
_BY_PHONE_HASH = Sql("SELECT id FROM customers WHERE phone_hash = :hash ORDER BY id LIMIT 1")
_SALE_STATUS = Sql("UPDATE pos_sales SET status = :status, updated_at = :now WHERE id = :id")


def match_reference(session: Session, reference: str | None) -> Target | None:
    """An invoice, POS sale or customer id typed as the account number (any case)."""
    key = ids.normalize_reference(reference)
    if not key:
        return None
    conn = session.connection()

    def invoice() -> Target | None:
        row = _BY_INVOICE.run(conn, {"key": key}).first()
        return Target(row[1], row[0], row[2]) if row else None

    def sale() -> Target | None:
        row = _BY_SALE.run(conn, {"key": key}).first()
        return Target(row[1], sale_pk=row[0]) if row else None

    def customer() -> Target | None:
        row = _BY_CUSTOMER.run(conn, {"key": key}).first()
        return Target(row[0]) if row else None

    if key.startswith("INV-"):
        order = (invoice, sale, customer)
    elif key.startswith("POS-"):
        order = (sale, invoice, customer)
    else:
        order = (customer, invoice, sale)
    for lookup in order:
        if (found := lookup()) is not None:
            return found
    return None


def match_payer(session: Session, msisdn_hash: str | None) -> Target | None:
    """A known customer whose phone hashes to the payer's MSISDN hash."""
    if not msisdn_hash:
        return None
    row = _BY_PHONE_HASH.run(session.connection(), {"hash": msisdn_hash}).first()
    return Target(customer_pk=row[0]) if row else None


def _invoice_for_sale(
    session: Session, sale_pk: int, clock: Clock
) -> tuple[int, list[tuple[int, InvoiceStatus]]]:
    """The sale's invoice, created at its first payment (credit its customer holds may
    pay some of it at once: those invoice changes come back too)."""
    sale = session.execute(
        select(PosSale).where(PosSale.id == sale_pk).with_for_update()
    ).scalar_one()
    existing = session.execute(
        select(Invoice.id).where(Invoice.pos_sale_pk == sale_pk)
    ).scalar_one_or_none()
    if existing is not None:
        return existing, []
    customer = session.get(Customer, sale.customer_pk) if sale.customer_pk else None
    invoice, touched = issue_invoice(
        session,
        customer=customer,
        amount_cents=sale.total_cents,
        description=f"POS sale {sale.pos_id}",
        clock=clock,
        pos_sale_pk=sale.id,
    )
    return invoice.id, touched


def place(
    session: Session,
    *,
    payment_id: str,
    amount_cents: int,
    target: Target | None,
    clock: Clock,
    from_suspense: bool = False,
) -> Placement:
    """Post the money: on the target (invoice, FIFO, credit) or into suspense."""
    now = clock.now()
    first = (
        ledger.released_from_suspense(amount_cents)
        if from_suspense
        else ledger.payment_received(amount_cents)
    )
    journal = f"{'allocate' if from_suspense else 'payment'}:{payment_id}"
    if target is None:
        legs = [first, ledger.held_in_suspense(amount_cents)]
        posting.write_legs(session, legs, journal_id=journal, now=now, payment_id=payment_id)
        return Placement(PaymentStatus.UNALLOCATED, None, None, None, amount_cents)

    invoice_pk = target.invoice_pk
    credited: list[tuple[int, InvoiceStatus]] = []
    if target.sale_pk is not None:
        invoice_pk, credited = _invoice_for_sale(session, target.sale_pk, clock)
    customer_pk = target.customer_pk
    if customer_pk is not None:
        # Everything lands on the customer's account (invoices or credit), so the
        # balance drops by the whole amount; this UPDATE is also the customer's lock.
        posting.change_balance(session, customer_pk, -amount_cents, now)
        dues = posting.open_invoices(session, customer_pk)
    elif invoice_pk is not None:
        due = posting.lock_invoice(session, invoice_pk)
        dues = [due] if due.amount_cents > due.paid_cents else []
    else:
        dues = []
    parts = allocate(amount_cents, [d.open for d in dues], target=invoice_pk)
    unplaced = 0
    if customer_pk is None:
        unplaced = sum(part.cents for part in parts if part.invoice_key is None)
        parts = [part for part in parts if part.invoice_key is not None]
    legs = [first, *ledger.placed(parts, customer_key=customer_pk)]
    if unplaced:
        legs.append(ledger.held_in_suspense(unplaced, kind="unplaced_change"))
    posting.write_legs(session, legs, journal_id=journal, now=now, payment_id=payment_id)
    touched = posting.apply_to_invoices(session, parts, dues, now)
    if target.sale_pk is not None and invoice_pk is not None:
        _settle_sale(session, target.sale_pk, invoice_pk, parts, dues, now)
    changed = dict(credited) | dict(touched)  # an invoice's latest status wins
    return Placement(
        PaymentStatus.COMPLETED, customer_pk, invoice_pk, target.sale_pk, unplaced,
        tuple(changed.items()),
    )  # fmt: skip


def _settle_sale(
    session: Session,
    sale_pk: int,
    invoice_pk: int,
    parts: list[Allocation],
    dues: list[posting.InvoiceDue],
    now: datetime,
) -> None:
    due = next((d for d in dues if d.id == invoice_pk), None)
    if due is None:
        return  # the sale's invoice was already settled; nothing moves
    paid = due.paid_cents + sum(p.cents for p in parts if p.invoice_key == invoice_pk)
    status = {
        InvoiceStatus.PAID: SaleStatus.PAID,
        InvoiceStatus.PARTIALLY_PAID: SaleStatus.PARTIALLY_PAID,
    }.get(invoice_status(due.amount_cents, paid), SaleStatus.PENDING)
    conn = session.connection()
    _SALE_STATUS.run(conn, {"status": status.value, "now": db_time(conn, now), "id": sale_pk})
