"""Proves the cached numbers (customer balances, invoice amounts and statuses, payment
placement) against the immutable ledger rows. `pesadesk ledger verify` runs it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from pesadesk.core.statuses import InvoiceStatus, PaymentStatus, invoice_status
from pesadesk.db.models import Customer, Invoice, LedgerEntry, Payment
from pesadesk.ledger import rules as ledger


@dataclass
class LedgerReport:
    problems: list[str] = field(default_factory=list)
    journals: int = 0
    customers: int = 0
    invoices: int = 0
    payments: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session) -> LedgerReport:
    """Every check; the report lists each difference found."""
    report = LedgerReport()
    _journals(session, report)
    _customers(session, report)
    _invoices(session, report)
    _payments(session, report)
    return report


def _journals(session: Session, report: LedgerReport) -> None:
    unbalanced = session.execute(
        select(
            LedgerEntry.journal_id,
            func.sum(LedgerEntry.debit_cents),
            func.sum(LedgerEntry.credit_cents),
        )
        .group_by(LedgerEntry.journal_id)
        .having(func.sum(LedgerEntry.debit_cents) != func.sum(LedgerEntry.credit_cents))
    ).all()
    report.journals = session.execute(
        select(func.count(func.distinct(LedgerEntry.journal_id)))
    ).scalar_one()
    for journal, debit, credit in unbalanced:
        report.problems.append(f"journal {journal}: debits {debit} != credits {credit}")


RECEIVABLE = LedgerEntry.account == ledger.RECEIVABLE


def _customers(session: Session, report: LedgerReport) -> None:
    derived_balance = (
        select(func.coalesce(func.sum(LedgerEntry.debit_cents - LedgerEntry.credit_cents), 0))
        .where(LedgerEntry.customer_pk == Customer.id, RECEIVABLE)
        .scalar_subquery()
    )
    for customer_id, cached, derived in session.execute(
        select(Customer.customer_id, Customer.balance_cents, derived_balance)
    ):
        report.customers += 1
        if cached != derived:
            report.problems.append(
                f"customer {customer_id}: balance {cached} but ledger says {derived}"
            )


def _invoices(session: Session, report: LedgerReport) -> None:
    issued = (
        select(func.coalesce(func.sum(LedgerEntry.debit_cents), 0))
        .where(
            LedgerEntry.invoice_pk == Invoice.id,
            RECEIVABLE,
            LedgerEntry.kind == "invoice_issued",
        )
        .scalar_subquery()
    )
    paid = (
        select(func.coalesce(func.sum(LedgerEntry.credit_cents), 0))
        .where(LedgerEntry.invoice_pk == Invoice.id, RECEIVABLE)
        .scalar_subquery()
    )
    for invoice_id, amount, amount_paid, status, d_issued, d_paid in session.execute(
        select(
            Invoice.invoice_id,
            Invoice.amount_cents,
            Invoice.amount_paid_cents,
            Invoice.status,
            issued,
            paid,
        )
    ):
        report.invoices += 1
        if amount != d_issued:
            report.problems.append(f"invoice {invoice_id}: amount {amount}, ledger {d_issued}")
        if amount_paid != d_paid:
            report.problems.append(f"invoice {invoice_id}: paid {amount_paid}, ledger {d_paid}")
        if d_paid > amount:
            report.problems.append(f"invoice {invoice_id}: paid beyond its amount")
        if (
            status != InvoiceStatus.CANCELLED
            and 0 <= amount_paid <= amount
            and status != invoice_status(amount, amount_paid)
        ):
            report.problems.append(f"invoice {invoice_id}: status {status} with paid")


def _payments(session: Session, report: LedgerReport) -> None:
    cash_in = (
        select(func.coalesce(func.sum(LedgerEntry.debit_cents), 0))
        .where(LedgerEntry.payment_id == Payment.id, LedgerEntry.account == ledger.CASH)
        .scalar_subquery()
    )
    held = (
        select(func.coalesce(func.sum(LedgerEntry.credit_cents - LedgerEntry.debit_cents), 0))
        .where(and_(LedgerEntry.payment_id == Payment.id, LedgerEntry.account == ledger.SUSPENSE))
        .scalar_subquery()
    )
    money_statuses = (
        PaymentStatus.COMPLETED.value,
        PaymentStatus.UNALLOCATED.value,
        PaymentStatus.REFUNDED.value,
        PaymentStatus.PARTIALLY_REFUNDED.value,
    )
    for payment_id, amount, status, unplaced, d_cash, d_held in session.execute(
        select(
            Payment.id,
            Payment.amount_cents,
            Payment.status,
            Payment.unplaced_cents,
            cash_in,
            held,
        )
    ):
        report.payments += 1
        expected_cash = amount if status in money_statuses else 0
        if d_cash != expected_cash:
            report.problems.append(f"payment {payment_id}: cash {d_cash}, expected {expected_cash}")
        expected_held = amount if status == PaymentStatus.UNALLOCATED.value else unplaced
        if status in money_statuses and d_held != expected_held:
            report.problems.append(
                f"payment {payment_id}: suspense {d_held}, expected {expected_held}"
            )
