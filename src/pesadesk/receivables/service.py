"""Customers, invoices and POS sales as the API and CLI use them: each function is one
transaction and returns the object as the API shows it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.core.errors import InvalidInput
from pesadesk.core.statuses import InvoiceStatus
from pesadesk.db.models import Customer, Invoice
from pesadesk.db.session import Database
from pesadesk.events.publish import publish
from pesadesk.payments.views import customer_view, invoice_view, invoice_view_loaded, sale_view
from pesadesk.receivables import customers, invoices, pos
from pesadesk.receivables.statement import statement_lines
from pesadesk.shared.pages import Page, PageRequest, newest_first


def create_customer(db: Database, *, new: customers.NewCustomer, clock: Clock) -> dict[str, Any]:
    with db.write() as session:
        return customer_view(customers.create_customer(session, new=new, clock=clock))


def get_customer(db: Database, customer_id: str) -> dict[str, Any]:
    with db.read() as session:
        return customer_view(customers.find_customer(session, customer_id))


def list_customers(db: Database, *, q: str | None, page: PageRequest) -> Page:
    """Newest first; `q` matches part of the name, phone or customer id, in any case."""
    query = select(Customer)
    if q and q.strip():
        needle = q.strip().lower()
        query = query.where(
            or_(
                func.lower(Customer.name).contains(needle, autoescape=True),
                Customer.phone.contains(needle, autoescape=True),
                func.lower(Customer.customer_id).contains(needle, autoescape=True),
            )
        )
    with db.read() as session:
        return newest_first(session, query, page, keys=[(Customer.id, int)], view=customer_view)


def customer_statement(db: Database, customer_id: str) -> dict[str, Any]:
    """The statement of account: every invoice, payment, credit and refund in order, with
    the running balance (what is owed; below zero is credit)."""
    with db.read() as session:
        customer = customers.find_customer(session, customer_id)
        lines = statement_lines(session, customer.id)
        return {
            "customer": customer_view(customer),
            "lines": lines,
            "balance": customer_view(customer)["balance"],
        }


def create_invoice(
    db: Database, *, new: invoices.NewInvoice, settings: Settings, clock: Clock
) -> dict[str, Any]:
    with db.write() as session:
        invoice, events = invoices.create_invoice(session, new=new, clock=clock)
        publish(session, events, settings=settings, now=clock.now())
        return invoice_view_loaded(session, invoice)


def get_invoice(db: Database, invoice_id: str) -> dict[str, Any]:
    with db.read() as session:
        return invoice_view_loaded(session, invoices.find_invoice(session, invoice_id))


def list_invoices(
    db: Database, *, customer_id: str | None, status: str | None, page: PageRequest
) -> Page:
    if status is not None and status.upper() not in InvoiceStatus.__members__:
        raise InvalidInput(f"status must be one of {', '.join(InvoiceStatus)}")
    query: Any = select(Invoice, Customer.customer_id).outerjoin(
        Customer, Customer.id == Invoice.customer_pk
    )
    if status:
        query = query.where(Invoice.status == status.upper())
    with db.read() as session:
        if customer_id:
            query = query.where(
                Invoice.customer_pk == customers.find_customer(session, customer_id).id
            )
        return newest_first(
            session, query, page, keys=[(Invoice.id, int)], view=lambda r: invoice_view(*r)
        )


def create_sale(db: Database, *, new: pos.NewSale, clock: Clock) -> dict[str, Any]:
    with db.write() as session:
        return sale_view(session, pos.create_sale(session, new=new, clock=clock))


def get_sale(db: Database, pos_id: str) -> dict[str, Any]:
    with db.read() as session:
        return sale_view(session, pos.find_sale(session, pos_id))
