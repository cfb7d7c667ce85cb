"""Invoices: what a customer owes. Issuing one posts it to the ledger and, when the
customer already holds credit, pays it from that credit at once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pesadesk.core.clock import Clock
from pesadesk.core.errors import InvalidInput, InvoiceNotFound
from pesadesk.core.events import Event, invoice_events
from pesadesk.core.statuses import InvoiceStatus
from pesadesk.db.models import Customer, Invoice
from pesadesk.ledger import posting
from pesadesk.ledger import rules as ledger
from pesadesk.receivables.customers import find_customer
from pesadesk.receivables.rules import Allocation, credit_to_apply
from pesadesk.shared import ids


@dataclass(frozen=True)
class NewInvoice:
    customer_id: str
    amount_cents: int
    description: str | None = None


def create_invoice(
    session: Session, *, new: NewInvoice, clock: Clock
) -> tuple[Invoice, list[Event]]:
    """An invoice for a customer, and the events if their credit paid it."""
    customer = find_customer(session, new.customer_id)
    invoice, touched = issue_invoice(
        session,
        customer=customer,
        amount_cents=new.amount_cents,
        description=new.description,
        clock=clock,
    )
    return invoice, invoice_events(touched)


def issue_invoice(
    session: Session,
    *,
    customer: Customer | None,
    amount_cents: int,
    description: str | None,
    clock: Clock,
    pos_sale_pk: int | None = None,
) -> tuple[Invoice, list[tuple[int, InvoiceStatus]]]:
    """Number, store and post an invoice; apply any credit the customer holds (then the
    invoice comes back with its new status)."""
    if amount_cents <= 0:
        raise InvalidInput("an invoice amount must be greater than zero")
    now = clock.now()
    if customer is not None:  # the customer's lock, and what they owe goes up
        posting.change_balance(session, customer.id, amount_cents, now)
    invoice = Invoice(
        invoice_id=ids.daily_id(session, "INV", now),
        customer_pk=customer.id if customer else None,
        pos_sale_pk=pos_sale_pk,
        amount_cents=amount_cents,
        amount_paid_cents=0,
        status=InvoiceStatus.UNPAID.value,
        description=description,
        created_at=now,
        updated_at=now,
    )
    session.add(invoice)
    session.flush()
    customer_pk = customer.id if customer else None
    touched: list[tuple[int, InvoiceStatus]] = []
    posting.write_legs(
        session,
        ledger.invoice_issued(
            invoice_key=invoice.id, customer_key=customer_pk, amount_cents=amount_cents
        ),
        journal_id=f"invoice:{invoice.invoice_id}",
        now=now,
    )
    if customer is not None:
        take = credit_to_apply(posting.unapplied_credit(session, customer.id), amount_cents)
        if take:
            posting.write_legs(
                session,
                ledger.credit_applied(
                    customer_key=customer.id, invoice_key=invoice.id, amount_cents=take
                ),
                journal_id=f"credit:{invoice.invoice_id}",
                now=now,
            )
            due = posting.InvoiceDue(invoice.id, amount_cents, 0)
            touched = posting.apply_to_invoices(session, [Allocation(invoice.id, take)], [due], now)
        session.refresh(invoice)
        session.refresh(customer)
    return invoice, touched


def find_invoice(session: Session, invoice_id: str) -> Invoice:
    invoice = session.execute(
        select(Invoice).where(Invoice.invoice_id == ids.normalize_reference(invoice_id))
    ).scalar_one_or_none()
    if invoice is None:
        raise InvoiceNotFound(f"no invoice {invoice_id!r}")
    return invoice
